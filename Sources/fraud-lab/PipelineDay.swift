import Accounting
import BridgeClock
import FraudScoring
import Foundation
import HeartlandSimulator
import struct HeartlandSimulator.CardTransaction
import struct HeartlandSimulator.Ticket
import struct HeartlandSimulator.TicketLine
import struct HeartlandSimulator.TicketPayment

/// A generated store day with injected fraud, as Heartland records for heartland-sim (`pipeline prepare`): the
/// simulator's day (the same as `heartland-sim generate` makes), the declined attempts `SimulatorTraffic` adds, and
/// every event `FraudInjector` injects turned into what Heartland would hold after it happened: a probe of a card test is
/// a `DECLINED` or `PREAUTHORIZED` GP-API transaction with no ticket, a keyed or night-time sale a ticket with its
/// `CAPTURED` transaction, a refund a return ticket with its `REFUND` transaction (linked to the sale it names, to the
/// card the injector chose), an abused void a cash ticket voided by its clerk. The labels carry the ids the pipeline
/// scores them under (the transaction id, `ticket:<id>:void`), so what the pipeline flagged can be matched to them.
struct PipelineDay {
    var fixture: StoreDayFixture
    /// Injected events only (fraud and scenery), under their pipeline ids; every other scored event is clean.
    var labels: [LabelledEvent]
    var expected: Expected

    /// What the pipeline must have scored before the batches close and the report is read.
    struct Expected: Codable {
        /// Every event id the gateway feed and the refund path will score (transactions, reversals, voided tickets, refunds).
        var scored: [String]
        /// A card refund's return ticket id → its transaction id (a blocked refund is named by its reference, `…-R<ticket>`).
        var refundOfReturnTicket: [String: String]
    }

    static func build(seed: UInt64, day: String, stores: Int, ticketsPerStore: Int, incidentsPerStoreDay: Double) throws -> PipelineDay {
        var fixture = try StoreDayGenerator.generate(.init(stores: stores, day: day, seed: seed, ticketsPerStore: ticketsPerStore))
        let legitimate = SimulatorTraffic.events(fixture, day: day, seed: seed)
        var builder = Builder(fixture: fixture, day: day)
        for decline in legitimate where decline.kind == .decline { builder.addLegitimateDecline(decline) }
        let injected = FraudInjector(incidentsPerStoreDay: incidentsPerStoreDay, seed: seed).inject(into: legitimate).filter { $0.incident != nil }
        var labels: [LabelledEvent] = []
        for labelled in injected {
            guard let id = builder.add(labelled, among: injected) else { continue }
            var relabelled = labelled
            relabelled.event.id = id
            labels.append(relabelled)
        }
        fixture = builder.fixture
        return PipelineDay(fixture: fixture, labels: labels, expected: Self.expected(fixture))
    }

    static func expected(_ fixture: StoreDayFixture) -> Expected {
        var scored: [String] = []
        var refunds: [String: String] = [:]
        for transaction in fixture.transactions {
            if transaction.type == "REFUND" {
                scored.append(transaction.id)
                if let ticket = transaction.ticketId { refunds[String(ticket)] = transaction.id }
                continue
            }
            scored.append(transaction.id)
            if transaction.status == "REVERSED" { scored.append("\(transaction.id):reversal") }
        }
        scored += fixture.tickets.filter { $0.status == "void" }.map { "ticket:\($0.id):void" }
        return Expected(scored: scored, refundOfReturnTicket: refunds)
    }
}

/// Adds records to a fixture, one store day at a time.
private struct Builder {
    var fixture: StoreDayFixture
    let day: String
    private var next: [Int64: Int] = [:]
    private var injectedTransactions = 0
    private var splitSales: Set<Int64> = []
    private let transactionTicket: [String: Int64]

    init(fixture: StoreDayFixture, day: String) {
        self.fixture = fixture
        self.day = day
        transactionTicket = Dictionary(fixture.transactions.compactMap { t in t.ticketId.map { (t.id, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    func location(_ store: StoreID) -> Location? { fixture.locations.first { $0.publicId == store.rawValue } }

    /// The day's open batch of the location (the generator makes one).
    func batch(_ location: Location) -> String {
        fixture.batches.first { $0.locationId == location.id && $0.businessDay == day }?.id ?? "BAT_\(day)_\(location.id)"
    }

    /// A ticket id and number beyond the generator's (sales 1…49,999, returns from 50,001): 80,001 on.
    mutating func ticketNumber(_ location: Location) -> (id: Int64, publicId: String) {
        let sequence = 80_000 + (next[location.id, default: 0] + 1)
        next[location.id, default: 0] += 1
        let base = fixture.tickets.first { $0.locationId == location.id && $0.businessDay == day }.map { ($0.id / 100_000) * 100_000 }
            ?? location.id * 100_000
        return (base + Int64(sequence), String(format: "%@-%@-%05d", location.publicId, day.replacingOccurrences(of: "-", with: ""), sequence))
    }

    static func entryMode(_ mode: ScoredEvent.EntryMode) -> String {
        switch mode {
        case .keyed: "MANUAL"
        case .swipe: "SWIPE"
        case .contactless: "CONTACTLESS_CHIP"
        case .chip, .none: "CHIP"
        }
    }

    /// `VISA:424242******1234` → (VISA, 424242, 1234).
    static func card(_ token: CardToken?) -> (brand: String, first6: String, last4: String) {
        guard let raw = token?.rawValue, let colon = raw.firstIndex(of: ":") else { return ("VISA", "424242", "0000") }
        let digits = raw[raw.index(after: colon)...]
        return (String(raw[..<colon]), String(digits.prefix(6)), String(digits.suffix(4)))
    }

    func transaction(_ id: String, _ event: ScoredEvent, location: Location, type: String, status: String, ticket: Ticket? = nil,
                     parent: String? = nil) -> CardTransaction {
        let card = Self.card(event.cardToken)
        var fields: [String: Any] = [
            "id": id, "location_id": location.id, "batch_id": batch(location), "type": type, "status": status, "amount_cents": event.amountCents,
            "gratuity_cents": 0, "currency": "USD", "brand": card.brand, "first6": card.first6, "last4": card.last4,
            "entry_mode": Self.entryMode(event.entryMode), "auth_code": status == "DECLINED" ? "" : String(id.suffix(6)),
            "reference": ticket?.publicId ?? "", "time_created": Self.stamp(event.occurredAt),
        ]
        fields["parent_resource_id"] = parent
        fields["ticket_id"] = ticket?.id
        return Self.record(fields)
    }

    /// A Heartland record from its fixture fields (snake_case, cents, ISO 8601), as `POST /admin/fixtures` reads it.
    static func record<T: Decodable>(_ fields: [String: Any]) -> T {
        // The fields are built here from values of the right types, so they decode.
        try! StoreDayFixture.decoder.decode(T.self, from: JSONSerialization.data(withJSONObject: fields))
    }

    static func stamp(_ date: Date) -> String { Timestamps.iso8601(date) }

    static func line(_ id: Int64, item: Item, qty: Int64, cents: Int64, original: Int64? = nil) -> [String: Any] {
        var fields: [String: Any] = [
            "id": id, "type": TicketLine.item, "description": item.description, "item_id": item.id, "qty": qty, "unit_price_cents": cents,
            "original_unit_price_cents": cents, "discount_cents": 0, "value_cents": qty * cents, "taxable": false,
        ]
        fields["original_ticket_id"] = original
        return fields
    }

    static func payment(_ id: Int64, type: String, cents: Int64, card transaction: CardTransaction? = nil) -> TicketPayment {
        var fields: [String: Any] = ["id": id, "payment_type": type, "amount_cents": cents, "tip_cents": 0]
        if let transaction {
            fields["card_brand"] = transaction.brand
            fields["last4"] = transaction.last4
            fields["auth_code"] = transaction.authCode
            fields["gateway_transaction_id"] = transaction.id
        }
        return record(fields)
    }

    func ticket(_ number: (id: Int64, publicId: String), _ event: ScoredEvent, location: Location, returnOf original: Int64? = nil,
                clerk: String? = nil) -> Ticket {
        let sign: Int64 = event.kind == .refund ? -1 : 1
        var fields: [String: Any] = [
            "id": number.id, "public_id": number.publicId, "location_id": location.id, "station_id": location.stationId, "status": "complete",
            "created_at": Self.stamp(event.occurredAt.addingTimeInterval(-60)), "completed_at": Self.stamp(event.occurredAt),
            "business_day": day, "sales_rep": clerk ?? event.clerk ?? "", "updated_at": Self.stamp(event.occurredAt), "payments": [[String: Any]](),
            "lines": [Self.line(number.id * 100, item: fixture.items[0], qty: sign, cents: event.amountCents, original: original)],
        ]
        fields["return_of_ticket_id"] = original
        return Self.record(fields)
    }

    /// A declined attempt before a legitimate card sale (`SimulatorTraffic`): a `DECLINED` transaction, no ticket.
    mutating func addLegitimateDecline(_ event: ScoredEvent) {
        guard let location = location(event.store) else { return }
        fixture.transactions.append(transaction("\(event.id.replacingOccurrences(of: ":declined", with: ""))D", event, location: location,
                                                type: "SALE", status: "DECLINED"))
    }

    /// Adds the records of one injected event; returns the id the pipeline scores it under, nil when the pipeline
    /// scores nothing for it (the cash sales a clerk later voids: part of the voided ticket).
    mutating func add(_ labelled: LabelledEvent, among all: [LabelledEvent]) -> String? {
        let event = labelled.event
        guard let location = location(event.store) else { return nil }
        injectedTransactions += 1
        let id = String(format: "TRN_INJ%02lld%06d", location.id, injectedTransactions)
        switch event.kind {
        case .decline:
            fixture.transactions.append(transaction(id, event, location: location, type: "SALE", status: "DECLINED"))
            return id
        case .sale where labelled.fraud == .cardTesting:
            // A tiny authorisation that is never captured: in no ticket, no batch total.
            fixture.transactions.append(transaction(id, event, location: location, type: "SALE", status: "PREAUTHORIZED"))
            return id
        case .sale where event.tender == .card:
            var ticket = ticket(ticketNumber(location), event, location: location)
            let sale = transaction(id, event, location: location, type: "SALE", status: "CAPTURED", ticket: ticket)
            ticket.payments = [Self.payment(ticket.id * 10, type: TicketPayment.card, cents: event.amountCents, card: sale)]
            fixture.transactions.append(sale)
            fixture.tickets.append(ticket)
            return id
        case .sale:
            return nil  // a cash sale voided later: the void below rings it up
        case .void:
            // The cash sale this void takes back (`…:sale:n` beside `…:void:n`), rung up then voided by the clerk.
            let saleID = event.id.replacingOccurrences(of: ":void:", with: ":sale:")
            let sale = all.first { $0.event.id == saleID }?.event ?? event
            var ticket = ticket(ticketNumber(location), sale, location: location, clerk: event.clerk)
            ticket.status = "void"
            ticket.updatedAt = event.occurredAt
            ticket.payments = [Self.payment(ticket.id * 10, type: TicketPayment.cash, cents: sale.amountCents)]
            fixture.tickets.append(ticket)
            return "ticket:\(ticket.id):void"
        case .refund:
            let original = event.originalSale
            let originalTicket = original.flatMap { transactionTicket[$0.id] }
            if let original, let originalTicket, original.tenderMix.cashCents > 0 { addCash(original.tenderMix.cashCents, to: originalTicket) }
            var ticket = ticket(ticketNumber(location), event, location: location, returnOf: originalTicket)
            let refund = transaction(id, event, location: location, type: "REFUND", status: "CAPTURED", ticket: ticket,
                                     parent: originalTicket == nil ? nil : original?.id)
            ticket.payments = [Self.payment(ticket.id * 10, type: TicketPayment.card, cents: -event.amountCents, card: refund)]
            fixture.transactions.append(refund)
            fixture.tickets.append(ticket)
            return id
        }
    }

    /// Split-tender abuse: the sale was paid part cash, part card (the injector says how much cash), so its ticket gets
    /// that cash tender and an item line worth it; the card part, and so the card transaction, stays as it was.
    mutating func addCash(_ cents: Int64, to ticketID: Int64) {
        guard !splitSales.contains(ticketID), let index = fixture.tickets.firstIndex(where: { $0.id == ticketID }) else { return }
        splitSales.insert(ticketID)
        var ticket = fixture.tickets[index]
        ticket.lines.append(Self.record(Self.line(ticket.id * 100 + Int64(ticket.lines.count), item: fixture.items[0], qty: 1, cents: cents)))
        ticket.payments.append(Self.payment(ticket.id * 10 + Int64(ticket.payments.count), type: TicketPayment.cash, cents: cents))
        fixture.tickets[index] = ticket
    }
}
