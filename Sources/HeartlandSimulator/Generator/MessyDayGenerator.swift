import Foundation
import SimulatorKit
import StableHash

/// One location's business day shaped like a real Heartland export (see docs/heartland-sim-fixtures.md):
/// `batchesPerDay` batches closed at seeded times during the day, the previous day's batch closed just
/// after local midnight, tickets completed after the day's last close settling in the next day's open
/// batch, refunds keyed on the gateway with no return ticket, declined and pre-authorised attempts,
/// ticket notes, explicit fee statements, and `badPercent` % defective documents written as raw records
/// with their corrections. Every valid (or corrected) ticket's card tenders still add up, per batch and
/// brand, with the gateway-only refunds, to the batch's totals.
struct MessyDayGenerator {
    let seed: UInt64
    let clock: StoreDayClock
    let yesterdayClock: StoreDayClock
    let batchesPerDay: Int
    let badPercent: Int

    struct Day {
        var tickets: [Ticket] = []
        var transactions: [CardTransaction] = []
        var batches: [SettlementBatch] = []
        var rawTickets: [RawRecord] = []
        var rawTransactions: [RawRecord] = []
        var badDocuments: [BadDocument] = []
    }

    static let ticketDefects: [BadDocument.Defect] = [.outOfBalance, .tipOnCash, .malformedAmount, .missingOffset, .duplicateId]
    static let transactionDefects: [BadDocument.Defect] = [.missingOffset, .numberAmount, .foreignCurrency]

    func generate(today: SalesDayGenerator.Output, yesterday: SalesDayGenerator.Output, returns: ReturnsGenerator.Output) -> Day {
        var rng = SeededRandom(seed, clock.location.id, clock.day, "messy")
        var tickets = (today.tickets + returns.tickets).sorted { ($0.completedAt, $0.id) < ($1.completedAt, $1.id) }
        for index in tickets.indices where rng.chance(0.05) { tickets[index].notes = rng.pick(SampleData.ticketNotes) }

        let closes = closeSeconds(tickets: tickets, rng: &rng)
        var batches: [SettlementBatch] = []
        var opened = clock.instant(secondOfDay: 25_200)
        for (index, second) in closes.enumerated() {
            let closed = clock.instant(secondOfDay: second)
            batches.append(SettlementBatch(
                id: index == 0 ? clock.batchId : "\(clock.batchId)_\(index + 1)", locationId: clock.location.id,
                businessDay: clock.day, status: "CLOSED", timeCreated: opened, timeClosed: closed))
            opened = closed
        }
        let nextDay = StoreDayClock(location: clock.location, day: clock.nextDay)!
        let openBatch = SettlementBatch(
            id: nextDay.batchId, locationId: clock.location.id, businessDay: nextDay.day, status: "OPEN", timeCreated: opened,
            timeClosed: nil)
        let midnightBatch = SettlementBatch(
            id: yesterdayClock.batchId, locationId: clock.location.id, businessDay: yesterdayClock.day, status: "CLOSED",
            timeCreated: yesterdayClock.instant(secondOfDay: 25_200), timeClosed: clock.instant(secondOfDay: Int(rng.int(300...3_000))))

        var transactions = today.transactions + returns.transactions
        transactions += attempts(rng: &rng, sales: transactions)
        transactions += gatewayRefunds(rng: &rng, before: closes.last!)
        transactions = transactions.map { transaction in
            var settled = transaction
            let batch = batches.first { transaction.timeCreated < $0.timeClosed! } ?? openBatch
            settled.batchId = batch.id
            if batch.status == "CLOSED", transaction.status == "CAPTURED" { settled.status = "BATCHED" }
            return settled
        }.sorted { ($0.timeCreated, $0.id) < ($1.timeCreated, $1.id) }
        for index in batches.indices {
            batches[index].fees = feeStatement(rng: &rng, transactions.filter { $0.batchId == batches[index].id })
        }

        // The previous day: the sales today's returns refund, and its last trading hours, all settled in
        // the batch that closed just after midnight.
        let referenced = Set(returns.referencedSales.map(\.id))
        let evening = yesterdayClock.instant(secondOfDay: 79_200)
        let yesterdayTickets = returns.referencedSales + yesterday.tickets.filter { $0.completedAt >= evening && !referenced.contains($0.id) }
        let yesterdayIds = Set(yesterdayTickets.map(\.id))
        let yesterdayTransactions = yesterday.transactions.filter { yesterdayIds.contains($0.ticketId ?? -1) }.map { sale in
            var batched = sale
            batched.status = sale.status == "CAPTURED" ? "BATCHED" : sale.status
            return batched
        }

        var day = Day(
            tickets: yesterdayTickets + tickets, transactions: yesterdayTransactions + transactions,
            batches: [midnightBatch] + batches + [openBatch])
        addBadDocuments(to: &day, today: tickets, returns: returns, rng: &rng)
        return day
    }

    /// Local seconds of the day's closes, ascending: the last between 22:00 and 23:00 (before the day's last
    /// ticket, so some tickets are late), the others spread over the trading hours from 09:00.
    private func closeSeconds(tickets: [Ticket], rng: inout SeededRandom) -> [Int] {
        let midnight = clock.instant(secondOfDay: 0)
        let lastTicket = tickets.last.map { Int($0.completedAt.timeIntervalSince(midnight)) } ?? 84_000
        let last = max(36_000, min(Int(rng.int(79_200...82_800)), lastTicket - 1))
        let span = last - 32_400
        let jitter = Int64(span / (4 * batchesPerDay))
        return (1..<batchesPerDay).map { index in 32_400 + span * index / batchesPerDay + Int(rng.int(-jitter...jitter)) } + [last]
    }

    /// A declined attempt before about one card sale in a hundred (the same card, tried again), and one
    /// pre-authorisation that is never captured: listed by GP-API, settled in no batch total.
    private func attempts(rng: inout SeededRandom, sales: [CardTransaction]) -> [CardTransaction] {
        let candidates = sales.filter { $0.type == "SALE" && $0.status == "CAPTURED" }
        var attempts: [CardTransaction] = []
        for (index, sale) in candidates.enumerated() where rng.chance(0.01) || (index == candidates.count - 1 && attempts.isEmpty) {
            var declined = sale
            declined.id = "TRN_\(rng.alphanumeric(6))\(sale.ticketId ?? 0)D"
            declined.status = "DECLINED"
            declined.authCode = ""
            declined.timeCreated = sale.timeCreated.addingTimeInterval(-40)
            attempts.append(declined)
        }
        let brand = rng.weighted(SampleData.brands)
        attempts.append(CardTransaction(
            id: "TRN_\(rng.alphanumeric(10))P\(clock.location.id)", locationId: clock.location.id, batchId: clock.batchId,
            type: "SALE", status: "PREAUTHORIZED", amountCents: rng.int(2_000...8_000), gratuityCents: 0, currency: "USD",
            brand: brand, first6: SampleData.firstSix[brand]!, last4: rng.digits(4), entryMode: "CHIP",
            authCode: rng.alphanumeric(6), reference: "", parentResourceId: nil, ticketId: nil,
            timeCreated: clock.instant(secondOfDay: Int(rng.int(36_000...72_000)))))
        return attempts
    }

    /// Refunds keyed on the gateway with no return ticket: `reference` empty or a receipt number no ticket has.
    private func gatewayRefunds(rng: inout SeededRandom, before lastClose: Int) -> [CardTransaction] {
        (0..<3).map { index in
            let brand = rng.weighted(SampleData.brands)
            return CardTransaction(
                id: "TRN_\(rng.alphanumeric(8))G\(clock.location.id)\(index)", locationId: clock.location.id,
                batchId: clock.batchId, type: "REFUND", status: "CAPTURED", amountCents: rng.int(500...6_000), gratuityCents: 0,
                currency: "USD", brand: brand, first6: SampleData.firstSix[brand]!, last4: rng.digits(4), entryMode: "MANUAL",
                authCode: rng.alphanumeric(6), reference: index % 2 == 0 ? "" : "RCPT-\(rng.digits(8))", parentResourceId: nil,
                ticketId: nil, timeCreated: clock.instant(secondOfDay: Int(rng.int(32_400...Int64(lastClose - 60)))))
        }
    }

    /// One of the four ways a batch states its fees, amounts as the simulator would invent them.
    private func feeStatement(rng: inout SeededRandom, _ transactions: [CardTransaction]) -> BatchFees? {
        var perBrand: [String: Int64] = [:]
        for sale in transactions where sale.type == "SALE" && sale.settles { perBrand[sale.brand, default: 0] += GPRendering.Totals.fee(sale) }
        switch rng.int(0...3) {
        case 0: return nil
        case 1: return .perBrand(perBrand)
        case 2: return .unsplit(perBrand.values.reduce(0, +))
        default: return BatchFees.none
        }
    }
}
