import Foundation
import StableHash

/// The sales of one location's business day: baskets with line and ticket discounts, zero-tax
/// items, gift-card sales and redemptions, cash / card / split tenders, tips on cards and a few voids.
/// Depends only on (seed, location, day), so a later day can re-derive it to refund from it.
struct SalesDayGenerator {
    let seed: UInt64
    let clock: StoreDayClock
    let items: [Item]
    let customerIds: [Int64]
    let ticketCount: Int

    struct Output {
        var tickets: [Ticket] = []
        var transactions: [CardTransaction] = []
        var giftCardBalances: [String: Int64] = [:]
    }

    /// Gift cards on hand at the start of every generated day for a location.
    static func giftCardPool(seed: UInt64, location: Location) -> [String: Int64] {
        var rng = SeededRandom(seed, location.id, "gift-cards")
        var pool: [String: Int64] = [:]
        for _ in 0..<12 { pool["GC\(location.id)" + rng.digits(12)] = rng.pick([2500, 5000, 10000]) }
        return pool
    }

    func generate() -> Output {
        var rng = SeededRandom(seed, clock.location.id, clock.day, "sales")
        var output = Output(giftCardBalances: Self.giftCardPool(seed: seed, location: clock.location))
        // Opening 07:00; a third of the traffic after 20:00 local, up to 23:30 (past UTC midnight in the west).
        let seconds = (0..<ticketCount).map { _ in
            rng.chance(0.3) ? Int(rng.int(72_000...84_600)) : Int(rng.int(25_200...71_999))
        }.sorted()
        for (index, second) in seconds.enumerated() {
            makeTicket(sequence: index + 1, at: clock.instant(secondOfDay: second), rng: &rng, output: &output)
        }
        return output
    }

    private func makeTicket(sequence: Int, at time: Date, rng: inout SeededRandom, output: inout Output) {
        let ticketId = clock.ticketId(sequence)
        var lines: [TicketLine] = []
        for index in 0..<Int(rng.int(1...4)) {
            let item = rng.pick(items)
            let qty = rng.weighted([(Int64(1), 75), (2, 20), (3, 5)])
            let gross = qty * item.priceCents
            let discount = rng.chance(0.1) ? gross * rng.pick([10, 15, 20]) / 100 : 0
            lines.append(TicketLine(
                id: ticketId * 100 + Int64(index), type: TicketLine.item, description: item.description, itemId: item.id,
                qty: qty, unitPriceCents: item.priceCents, originalUnitPriceCents: item.originalPriceCents,
                discountCents: discount, valueCents: gross - discount, taxable: item.taxable, giftCardNumber: nil,
                originalTicketId: nil, originalLineId: nil))
        }
        let merchandise = lines.reduce(0) { $0 + $1.valueCents }
        if merchandise > 2500, rng.chance(0.05) {
            lines.append(otherLine(ticketId, lines.count, TicketLine.discount, "Coupon $5 off", -500))
        }
        var soldCard: String?
        if rng.chance(0.03) {
            let number = "GC\(clock.location.id)" + rng.digits(12)
            let value = rng.pick([Int64(2500), 5000])
            lines.append(otherLine(ticketId, lines.count, TicketLine.giftCard, "Gift card", value, giftCard: number))
            soldCard = number
        }
        let taxable = lines.filter { $0.type == TicketLine.item && $0.taxable }.reduce(0) { $0 + $1.valueCents }
        let tax = SampleData.tax(taxable, basisPoints: clock.location.taxRateBasisPoints)
        if tax != 0 { lines.append(otherLine(ticketId, lines.count, TicketLine.tax, "Sales Tax", tax)) }
        var ticket = Ticket(
            id: ticketId, publicId: clock.ticketNumber(sequence), locationId: clock.location.id,
            stationId: clock.location.stationId, customerId: rng.chance(0.3) ? rng.pick(customerIds) : nil,
            status: "complete", createdAt: time.addingTimeInterval(-Double(rng.int(30...240))), completedAt: time,
            businessDay: clock.day, salesRep: rng.pick(SampleData.firstNames), returnOfTicketId: nil, lines: lines,
            payments: [], updatedAt: time)
        let usesGiftCard = pay(&ticket, rng: &rng, output: &output)
        if let soldCard { output.giftCardBalances[soldCard, default: 0] += ticket.giftCardSoldCents }
        let voided = soldCard == nil && !usesGiftCard && rng.chance(0.015)
        if voided {
            ticket.status = "void"
            ticket.updatedAt = time.addingTimeInterval(60)
            for index in output.transactions.indices where output.transactions[index].ticketId == ticketId {
                output.transactions[index].status = "REVERSED"
            }
        }
        output.tickets.append(ticket)
    }

    private func otherLine(
        _ ticketId: Int64, _ index: Int, _ type: String, _ description: String, _ value: Int64, giftCard: String? = nil
    ) -> TicketLine {
        TicketLine(
            id: ticketId * 100 + Int64(index), type: type, description: description, itemId: nil, qty: 1,
            unitPriceCents: value, originalUnitPriceCents: value, discountCents: 0, valueCents: value,
            taxable: false, giftCardNumber: giftCard, originalTicketId: nil, originalLineId: nil)
    }

    /// Adds tenders covering the total; returns whether a gift card was redeemed.
    private func pay(_ ticket: inout Ticket, rng: inout SeededRandom, output: inout Output) -> Bool {
        let total = ticket.totalCents
        var remaining = total
        var usedGiftCard = false
        let style = rng.weighted([("cash", 33), ("card", 55), ("split-cash", 7), ("gift", 5)])
        if style == "gift", let card = output.giftCardBalances.keys.sorted().first(where: { output.giftCardBalances[$0]! > 0 }) {
            let amount = min(output.giftCardBalances[card]!, remaining)
            output.giftCardBalances[card]! -= amount
            remaining -= amount
            usedGiftCard = true
            ticket.payments.append(TicketPayment(
                id: ticket.id * 10, paymentType: TicketPayment.giftCard, amountCents: amount, tipCents: 0, cardBrand: nil,
                last4: String(card.suffix(4)), authCode: nil, gatewayTransactionId: nil, giftCardNumber: card))
        }
        if style == "cash" || style == "split-cash" {
            let cash = style == "cash" ? remaining : (remaining / 2 / 100) * 100
            if cash > 0 {
                ticket.payments.append(cashPayment(ticket.id * 10 + Int64(ticket.payments.count), cash))
                remaining -= cash
            }
        }
        if remaining > 0 {
            let tip = rng.chance(0.3) ? remaining * rng.pick([10, 15, 18, 20]) / 100 : 0
            let transaction = cardTransaction(
                ticket: ticket, type: "SALE", amount: remaining + tip, tip: tip, parent: nil, rng: &rng)
            output.transactions.append(transaction)
            ticket.payments.append(TicketPayment(
                id: ticket.id * 10 + Int64(ticket.payments.count), paymentType: TicketPayment.card,
                amountCents: remaining + tip, tipCents: tip, cardBrand: transaction.brand, last4: transaction.last4,
                authCode: transaction.authCode, gatewayTransactionId: transaction.id, giftCardNumber: nil))
        }
        return usedGiftCard
    }

    func cashPayment(_ id: Int64, _ amount: Int64) -> TicketPayment {
        TicketPayment(id: id, paymentType: TicketPayment.cash, amountCents: amount, tipCents: 0, cardBrand: nil,
            last4: nil, authCode: nil, gatewayTransactionId: nil, giftCardNumber: nil)
    }

    /// A card transaction for a ticket tender; a refund reuses the sale's card.
    func cardTransaction(
        ticket: Ticket, type: String, amount: Int64, tip: Int64, parent: CardTransaction?, rng: inout SeededRandom
    ) -> CardTransaction {
        let brand = parent?.brand ?? rng.weighted(SampleData.brands)
        return CardTransaction(
            id: "TRN_\(rng.alphanumeric(6))\(ticket.id)\(type == "REFUND" ? "R" : "")", locationId: ticket.locationId,
            batchId: clock.batchId, type: type, status: "CAPTURED", amountCents: amount, gratuityCents: tip,
            currency: "USD", brand: brand, first6: parent?.first6 ?? SampleData.firstSix[brand]!,
            last4: parent?.last4 ?? rng.digits(4), entryMode: parent?.entryMode ?? rng.weighted(SampleData.entryModes),
            authCode: rng.alphanumeric(6), reference: ticket.publicId, parentResourceId: parent?.id, ticketId: ticket.id,
            timeCreated: ticket.completedAt)
    }
}
