import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// `POST /api/sales/tickets`: a live sale or return, in the importer's shape (`item_lines[]`,
/// `tax_lines[]`, `payments[]`, dollars). Card tenders become GP-API transactions in the location's
/// open batch (a negative card tender is a `REFUND` of `gateway_transaction_id`), gift cards are
/// debited, stock moves, so tickets keep tying to batches.
struct RetailTicketCreate {
    let context: HeartlandContext

    func add(to table: inout RouteTable) {
        table.add("POST", "/api/sales/tickets") { request in
            try await context.retail(request) {
                let body = try request.json()
                let ticket = try await context.database.write { db in try create(db, body) }
                let (zone, cards) = try await context.database.read { db in
                    (try Location.fetchOne(db, key: ticket.locationId)?.zone ?? .gmt, try RetailSalesRoutes.cards(db, of: [ticket]))
                }
                return .json(RetailRendering.ticket(ticket, zone: zone, cards: cards), status: 201,
                    headers: ["Location": "/api/sales/tickets/\(ticket.id)"])
            }
        }
    }

    private func create(_ db: Database, _ body: JSONValue) throws -> Ticket {
        let now = context.clock.now()
        let stationLocation = body["station_id"]?.int64Value.map { $0 / 100 }
        guard let locationId = body["location_id"]?.int64Value ?? stationLocation,
            let location = try Location.fetchOne(db, key: locationId)
        else { throw RetailError.invalid("location_id", "or station_id must name an existing location") }
        let completedAt = try body["completed_at"]?.stringValue.map { text in
            guard let date = Timestamps.parse(text) else { throw RetailError.invalid("completed_at", "must be ISO 8601") }
            return date
        } ?? now
        let id = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM ticket") ?? 0) + 1
        var lines: [TicketLine] = []
        for (index, line) in (body["item_lines"]?.arrayValue ?? []).enumerated() {
            guard let itemId = line["item_id"]?.int64Value, let item = try Item.fetchOne(db, key: itemId) else {
                throw RetailError.invalid("item_lines[\(index)].item_id", "must name an existing item")
            }
            guard let qty = line["qty"]?.int64Value, qty != 0 else { throw RetailError.invalid("item_lines[\(index)].qty", "must be a non-zero integer") }
            let price = try cents(line["unit_price"], default: item.priceCents, "item_lines[\(index)].unit_price")
            let discount = try cents(line["discount_amount"], default: 0, "item_lines[\(index)].discount_amount")
            lines.append(TicketLine(
                id: id * 100 + Int64(lines.count), type: TicketLine.item, description: line["description"]?.stringValue ?? item.description,
                itemId: itemId, qty: qty, unitPriceCents: price,
                originalUnitPriceCents: try cents(line["original_unit_price"], default: item.originalPriceCents, "original_unit_price"),
                discountCents: discount, valueCents: qty * price - discount, taxable: item.taxable, giftCardNumber: nil,
                originalTicketId: line["original_ticket_id"]?.int64Value, originalLineId: line["original_line_id"]?.int64Value))
        }
        for (key, type) in [("discount_lines", TicketLine.discount), ("tax_lines", TicketLine.tax), ("account_payment_lines", TicketLine.accountPayment)] {
            for (index, line) in (body[key]?.arrayValue ?? []).enumerated() {
                let value = try cents(line["value"], default: nil, "\(key)[\(index)].value")
                lines.append(TicketLine(
                    id: id * 100 + Int64(lines.count), type: type, description: line["description"]?.stringValue ?? type,
                    itemId: nil, qty: 1, unitPriceCents: value, originalUnitPriceCents: value, discountCents: 0,
                    valueCents: value, taxable: false, giftCardNumber: nil, originalTicketId: nil, originalLineId: nil))
            }
        }
        guard !lines.isEmpty else { throw RetailError.invalid("item_lines", "must not be empty") }
        let accountPayments = lines.contains { $0.type == TicketLine.accountPayment }
        let chargesAccount = (body["payments"]?.arrayValue ?? []).contains { $0["payment_type"]?.stringValue == TicketPayment.onAccount }
        if accountPayments || chargesAccount {
            // A house account belongs to a customer of the merchant's books, never to the walk-in customer.
            guard let customerId = body["customer_id"]?.int64Value, let customer = try Customer.fetchOne(db, key: customerId),
                  customer.publicId != "CASH"
            else { throw RetailError.invalid("customer_id", "must name a customer (not the walk-in customer) for a house account") }
        }
        var ticket = Ticket(
            id: id, publicId: body["public_id"]?.stringValue ?? String(id), locationId: location.id, stationId: location.stationId,
            customerId: body["customer_id"]?.int64Value, status: "complete", createdAt: now, completedAt: completedAt,
            businessDay: Timestamps.day(completedAt, in: location.zone), salesRep: body["sales_rep"]?.stringValue ?? "",
            returnOfTicketId: body["return_of_ticket_id"]?.int64Value, lines: lines, payments: [], updatedAt: now,
            notes: body["notes"]?.stringValue)
        for (index, payment) in (body["payments"]?.arrayValue ?? []).enumerated() {
            ticket.payments.append(try tender(db, payment, index: index, ticket: ticket, location: location, now: now))
        }
        guard ticket.paidCents == ticket.totalCents + ticket.tipCents else {
            throw RetailError.invalid("payments", "must add up to the total \(Money.text(ticket.totalCents)) plus tips (got \(Money.text(ticket.paidCents)))")
        }
        for line in ticket.itemLines {
            try db.execute(
                sql: "UPDATE inventory_value SET qtyOnHand = qtyOnHand - ?, updatedAt = ? WHERE itemId = ? AND locationId = ?",
                arguments: [line.qty, now, line.itemId, location.id])
        }
        try ticket.insert(db)
        return ticket
    }

    private func tender(_ db: Database, _ body: JSONValue, index: Int, ticket: Ticket, location: Location, now: Date) throws -> TicketPayment {
        let field = "payments[\(index)]"
        let amount = try cents(body["amount"], default: nil, "\(field).amount")
        let tip = try cents(body["tip_amount"], default: 0, "\(field).tip_amount")
        var payment = TicketPayment(
            id: ticket.id * 10 + Int64(index), paymentType: body["payment_type"]?.stringValue ?? "", amountCents: amount,
            tipCents: tip, cardBrand: nil, last4: nil, authCode: nil, gatewayTransactionId: nil, giftCardNumber: nil)
        switch payment.paymentType {
        case TicketPayment.cash, TicketPayment.onAccount:
            guard tip == 0 else { throw RetailError.invalid("\(field).tip_amount", "is only allowed on card tenders") }
        case TicketPayment.giftCard:
            guard let number = body["gift_card_number"]?.stringValue, var card = try GiftCard.fetchOne(db, key: number) else {
                throw RetailError.invalid("\(field).gift_card_number", "must name an existing gift card")
            }
            guard card.balanceCents >= amount else { throw RetailError.invalid("\(field).amount", "exceeds the gift card balance") }
            card.balanceCents -= amount
            try card.update(db)
            payment.giftCardNumber = number
            payment.last4 = String(number.suffix(4))
        case TicketPayment.card:
            let parent = try body["gateway_transaction_id"]?.stringValue.flatMap { try CardTransaction.fetchOne(db, key: $0) }
            guard amount > 0 || parent != nil else {
                throw RetailError.invalid("\(field).gateway_transaction_id", "must name the sale a card refund returns to")
            }
            let brand = parent?.brand ?? body["card_type"]?.stringValue ?? "VISA"
            let batch = try GPBatchRoutes.openBatch(db, location: location, now: ticket.completedAt)
            let transaction = CardTransaction(
                id: "TRN_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24), locationId: location.id,
                batchId: batch.id, type: amount > 0 ? "SALE" : "REFUND", status: "CAPTURED", amountCents: abs(amount),
                gratuityCents: tip, currency: "USD", brand: brand, first6: parent?.first6 ?? "424242",
                last4: parent?.last4 ?? body["last4"]?.stringValue ?? "4242", entryMode: body["entry_mode"]?.stringValue ?? "CHIP",
                authCode: String(UUID().uuidString.prefix(6)), reference: ticket.publicId, parentResourceId: parent?.id,
                ticketId: ticket.id, timeCreated: ticket.completedAt)
            try transaction.insert(db)
            if transaction.type == "REFUND" {
                try context.enqueueEvent(db, event: "transaction.refunded", data: GPRendering.transaction(transaction, location: location))
            }
            payment.cardBrand = brand
            payment.last4 = transaction.last4
            payment.authCode = transaction.authCode
            payment.gatewayTransactionId = transaction.id
        default:
            throw RetailError.invalid("\(field).payment_type", "must be Cash, Credit Card, Gift Card or On Account")
        }
        return payment
    }

    private func cents(_ value: JSONValue?, default fallback: Int64?, _ field: String) throws -> Int64 {
        guard let value, !value.isNull else {
            guard let fallback else { throw RetailError.invalid(field, "is required") }
            return fallback
        }
        guard let cents = Money.cents(fromDollars: value) else { throw RetailError.invalid(field, "must be an amount with at most two decimals") }
        return cents
    }
}
