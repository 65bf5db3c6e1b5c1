import Foundation
import StableHash

/// Return tickets for a business day: one item line of an earlier single-tender sale, from the same
/// day or the day before, refunded to the tender it was paid with (card refunds point at the sale's
/// transaction through `parent_resource_id`).
struct ReturnsGenerator {
    let seed: UInt64
    let clock: StoreDayClock
    let sales: SalesDayGenerator
    let count: Int

    struct Output {
        var tickets: [Ticket] = []
        var transactions: [CardTransaction] = []
        /// Earlier-day sales that were refunded today (included so the links resolve).
        var referencedSales: [Ticket] = []
    }

    func generate(today: SalesDayGenerator.Output, yesterday: SalesDayGenerator.Output) -> Output {
        var rng = SeededRandom(seed, clock.location.id, clock.day, "returns")
        var output = Output()
        var returned = Set<Int64>()
        var referenced = Set<Int64>()
        let midnight = clock.instant(secondOfDay: 0)
        // Each day's refundable sales and each sale's card transaction, found once: looked up for every return, they made
        // a 50,000-ticket day's returns take 2,000 passes over its tickets.
        let pools = (today: today.tickets.filter(Self.isRefundable), yesterday: yesterday.tickets.filter(Self.isRefundable))
        let saleTransactions = (today: Self.firstTransactionByTicket(today.transactions),
                                yesterday: Self.firstTransactionByTicket(yesterday.transactions))
        for index in 0..<count {
            let fromYesterday = rng.chance(0.5)
            let pool = fromYesterday ? pools.yesterday : pools.today
            guard !pool.isEmpty else { continue }
            let source = rng.pick(pool)
            let lines = source.itemLines.filter { !returned.contains($0.id) }
            guard !lines.isEmpty else { continue }
            let line = rng.pick(lines)
            let second: Int
            if fromYesterday {
                second = Int(rng.int(32_400...75_600))
            } else {
                second = Int(source.completedAt.timeIntervalSince(midnight)) + Int(rng.int(600...10_800))
                guard second < 85_500 else { continue }
            }
            returned.insert(line.id)
            let refund = makeReturn(
                sequence: 50_000 + index + 1, at: clock.instant(secondOfDay: second), source: source, line: line,
                saleTransaction: (fromYesterday ? saleTransactions.yesterday : saleTransactions.today)[source.id], rng: &rng,
                output: &output)
            output.tickets.append(refund)
            if fromYesterday, referenced.insert(source.id).inserted {
                output.referencedSales.append(source)
            }
        }
        return output
    }

    /// Each ticket's first card transaction.
    private static func firstTransactionByTicket(_ transactions: [CardTransaction]) -> [Int64: CardTransaction] {
        var first: [Int64: CardTransaction] = [:]
        for transaction in transactions {
            if let ticket = transaction.ticketId, first[ticket] == nil { first[ticket] = transaction }
        }
        return first
    }

    static func isRefundable(_ ticket: Ticket) -> Bool {
        ticket.status == "complete" && ticket.returnOfTicketId == nil && ticket.giftCardSoldCents == 0
            && ticket.payments.count == 1 && ticket.payments[0].paymentType != TicketPayment.giftCard
    }

    private func makeReturn(
        sequence: Int, at time: Date, source: Ticket, line: TicketLine, saleTransaction: CardTransaction?,
        rng: inout SeededRandom, output: inout Output
    ) -> Ticket {
        let ticketId = clock.ticketId(sequence)
        let value = -(line.qty * line.unitPriceCents - line.discountCents)
        var lines = [TicketLine(
            id: ticketId * 100, type: TicketLine.item, description: line.description, itemId: line.itemId, qty: -line.qty,
            unitPriceCents: line.unitPriceCents, originalUnitPriceCents: line.originalUnitPriceCents,
            discountCents: -line.discountCents, valueCents: value, taxable: line.taxable, giftCardNumber: nil,
            originalTicketId: source.id, originalLineId: line.id)]
        let tax = line.taxable ? SampleData.tax(value, basisPoints: clock.location.taxRateBasisPoints) : 0
        if tax != 0 {
            lines.append(TicketLine(
                id: ticketId * 100 + 1, type: TicketLine.tax, description: "Sales Tax", itemId: nil, qty: 1,
                unitPriceCents: tax, originalUnitPriceCents: tax, discountCents: 0, valueCents: tax, taxable: false,
                giftCardNumber: nil, originalTicketId: source.id, originalLineId: nil))
        }
        var ticket = Ticket(
            id: ticketId, publicId: clock.ticketNumber(sequence), locationId: clock.location.id,
            stationId: clock.location.stationId, customerId: source.customerId, status: "complete",
            createdAt: time.addingTimeInterval(-120), completedAt: time, businessDay: clock.day,
            salesRep: rng.pick(SampleData.firstNames), returnOfTicketId: source.id, lines: lines, payments: [],
            updatedAt: time)
        let total = ticket.totalCents
        if source.payments[0].paymentType == TicketPayment.card, let saleTransaction {
            let refund = sales.cardTransaction(
                ticket: ticket, type: "REFUND", amount: -total, tip: 0, parent: saleTransaction, rng: &rng)
            output.transactions.append(refund)
            ticket.payments = [TicketPayment(
                id: ticketId * 10, paymentType: TicketPayment.card, amountCents: total, tipCents: 0,
                cardBrand: refund.brand, last4: refund.last4, authCode: refund.authCode, gatewayTransactionId: refund.id,
                giftCardNumber: nil)]
        } else {
            ticket.payments = [sales.cashPayment(ticketId * 10, total)]
        }
        return ticket
    }
}
