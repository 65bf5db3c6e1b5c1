import AMQP
import Accounting
import Foundation
import Logging
import Messaging
import PipelineContracts
import Testing
@testable import Transformer

/// The transformer and the fraud pass-through as handlers: values in, messages out, no broker.
@Suite struct TransformerHandlerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = try! MappingRules.load(path: root.appendingPathComponent("Config/mapping.yaml").path)
    let logger = Logger(label: "test")

    /// A Los Angeles store's day: a Visa sale with a tip at 23:55 local (07:55 UTC the next day), a cash
    /// sale, and a cash sale at 00:30 local the next day that belongs to the next journal.
    static let batch = """
    {"id": "BAT_LA_1126", "batch_id": "BAT_LA_1126", "status": "CLOSED", "business_day": "2026-11-26", "currency": "USD",
     "sales": {"count": 1, "amount": "1280"}, "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "200", "fee_amount": "0",
     "brand_breakdown": [{"brand": "Visa", "count": 1, "amount": "1280", "sales": {"count": 1, "amount": "1280"},
       "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "200", "fee_amount": "0"}]}
    """
    static func tickets(itemPrice: String = "10.00") -> String { """
    [{"id": 1, "public_id": "LA-1", "status": "complete", "completed_at": "2026-11-27T07:55:00Z",
      "lines": [{"id": 11, "type": "ItemLine", "description": "Lamp", "qty": 1, "unit_price": "\(itemPrice)", "discount_amount": 0, "value": "\(itemPrice)"},
                {"id": 12, "type": "TaxLine", "description": "Sales Tax", "qty": 1, "unit_price": "0.80", "discount_amount": 0, "value": "0.80"}],
      "payments": [{"id": 13, "payment_type": "Credit Card", "amount": "12.80", "tip_amount": "2.00", "card_type": "VISA"}]},
     {"id": 2, "public_id": "LA-2", "status": "complete", "completed_at": "2026-11-26T20:00:00Z",
      "lines": [{"id": 21, "type": "ItemLine", "description": "Candle", "qty": 1, "unit_price": "5.00", "discount_amount": 0, "value": "5.00"},
                {"id": 22, "type": "TaxLine", "description": "Sales Tax", "qty": 1, "unit_price": "0.40", "discount_amount": 0, "value": "0.40"}],
      "payments": [{"id": 23, "payment_type": "Cash", "amount": "5.40", "tip_amount": 0}]},
     {"id": 3, "public_id": "LA-3", "status": "complete", "completed_at": "2026-11-27T08:30:00Z",
      "lines": [{"id": 31, "type": "ItemLine", "description": "Vase", "qty": 1, "unit_price": "7.00", "discount_amount": 0, "value": "7.00"}],
      "payments": [{"id": 33, "payment_type": "Cash", "amount": "7.00", "tip_amount": 0}]}]
    """ }

    func event(tickets: String = tickets()) throws -> InboundMessage {
        let event = BatchClosedEvent(store: .init(id: "S-LA", timeZone: "America/Los_Angeles", currency: "USD"), businessDate: "2026-11-26",
                                     batch: RawJSON(Data(Self.batch.utf8)), tickets: RawJSON(Data(tickets.utf8)))
        let body = try JSONEncoder().encode(event)
        return InboundMessage(Delivery(routingKey: BatchClosedEvent.routingKey, properties: MessageProperties(
            messageID: "m-1", correlationID: "c-1", type: BatchClosedEvent.routingKey,
            headers: [Header.idempotencyKey: .string(event.idempotencyKey)]), body: Array(body)))
    }

    /// The journal documents of an outcome, and everything else it publishes.
    func documents(_ outcome: StageOutcome) throws -> (journals: [(OutboundMessage, JournalDocument)], others: [OutboundMessage]) {
        guard case .publish(let outputs) = outcome else { throw StageError.permanent("expected messages") }
        let journals = try outputs.filter { $0.exchange == "bridge.scoring" }.map { ($0, try JSONDecoder().decode(JournalDocument.self, from: Data($0.body))) }
        return (journals, outputs.filter { $0.exchange != "bridge.scoring" })
    }

    @Test func batchClosedBecomesOneBalancedJournalPerBusinessDayOfItsTickets() async throws {
        let (journals, others) = try documents(await TransformerHandler(rules: Self.rules).handle(try event(), logger: logger))
        #expect(others.isEmpty)
        try #require(journals.count == 2)
        let (output, document) = journals[0]
        #expect(output.exchange == "bridge.scoring")
        #expect(output.routingKey == "sage.journal.settlement")
        #expect(output.schema == "bridge.journal.v1")
        #expect(output.idempotencyKey == document.journal.idempotencyKey)
        let entry = document.journal
        #expect(entry.sagePostingDate == "11/26/2026")
        #expect(entry.reference == "HL-S-LA-20261126-BAT_LA_1126")
        #expect(entry.idempotencyKey == "heartland:batch:BAT_LA_1126")
        #expect(entry.totalDebits == entry.totalCredits)
        // By hand: Visa 12.80 (incl. 2.00 tip) and cash 5.40 in; revenue 15.00, tax 1.20, tips 2.00 out.
        #expect(entry.netByAccount == ["1210": 1280, "1100": 540, "4000": -1500, "2200": -120, "2210": -200])
        #expect(document.batch?.id == "BAT_LA_1126")
        // The 00:30 sale (7.00 cash) came with the batch but is the next business day's: a journal of its own, dated that day.
        let (_, next) = journals[1]
        #expect(next.journal.sagePostingDate == "11/27/2026")
        #expect(next.journal.reference == "HL-S-LA-20261127-BAT_LA_1126")
        #expect(next.journal.idempotencyKey == "heartland:batch:BAT_LA_1126:20261127")
        #expect(next.journal.netByAccount == ["1100": 700, "4000": -700])
        #expect(next.partOf == entry.reference)
        #expect(next.batch == nil)
        // The batch's own journal counts the other day's journal in its reconciliation.
        #expect(document.refunds?.map(\.journal.reference) == [next.journal.reference])
        // Processed again, the same journals with the same references and keys.
        let (again, _) = try documents(await TransformerHandler(rules: Self.rules).handle(try event(), logger: logger))
        #expect(again.map(\.1.journal) == journals.map(\.1.journal))
    }

    @Test func aTicketThatCannotBeReadIsSetAsideAndTheRestPosts() async throws {
        let (journals, others) = try documents(await TransformerHandler(rules: Self.rules, now: { Date(timeIntervalSince1970: 1_800_000_000) })
            .handle(try event(tickets: Self.tickets(itemPrice: "ten dollars")), logger: logger))
        // Ticket 1 (the Visa sale) is set aside; the cash sales of both days post.
        #expect(journals.map(\.1.journal.netByAccount) == [["1100": 540, "4000": -500, "2200": -40], ["1100": 700, "4000": -700]])
        let held = try #require(journals[0].1.quarantined)
        #expect(held.map(\.documentId) == ["1"])
        #expect(held[0].field == "lines[0].unit_price")
        #expect(held[0].reason.contains("ten dollars"), "\(held[0].reason)")
        #expect(held[0].number == "LA-1")
        #expect(held[0].batchReference == "HL-S-LA-20261126-BAT_LA_1126")
        let audit = try #require(others.first { $0.routingKey == QuarantinedDocument.routingKey })
        #expect(try JSONDecoder().decode(QuarantinedDocument.self, from: Data(audit.body)).documentId == "1")
        let alert = try #require(others.first { $0.exchange == "bridge.alerts" })
        let notice = try JSONDecoder().decode(AlertNotice.self, from: Data(alert.body))
        #expect(notice.reason.contains("store S-LA") && notice.reason.contains("LA-1") && notice.reason.contains("lines[0].unit_price"), "\(notice.reason)")
    }

    @Test func unknownEventTypeIsPermanent() async throws {
        let message = InboundMessage(Delivery(routingKey: "heartland.unknown.thing", properties: MessageProperties(type: "heartland.unknown.thing"), body: Array("{}".utf8)))
        do {
            _ = try await TransformerHandler(rules: Self.rules).handle(message, logger: logger)
            Issue.record("expected a permanent error")
        } catch let error as StageError {
            #expect(error.errorClass == .permanent)
        }
    }
}
