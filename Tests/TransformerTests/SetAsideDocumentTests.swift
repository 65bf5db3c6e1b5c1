import AMQP
import Accounting
import Foundation
import Logging
import Messaging
import PipelineContracts
import Testing
@testable import Transformer

/// Validation per document (issue 14): each kind of bad ticket is set aside on its own with its field, the rest of the
/// batch posts, and the corrected ticket posts in a supplementary journal on its own business day.
@Suite struct SetAsideDocumentTests {
    static let rules = TransformerHandlerTests.rules
    let logger = Logger(label: "test")
    let store = BatchClosedEvent.Store(id: "S01", timeZone: "America/Chicago", currency: "USD")

    static let batch = """
    {"id": "BAT_1", "batch_id": "BAT_1", "status": "CLOSED", "business_day": "2026-11-26", "currency": "USD",
     "sales": {"count": 1, "amount": "1000"}, "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "0", "fee_amount": "0",
     "brand_breakdown": [{"brand": "VISA", "sales": {"count": 1, "amount": "1000"}, "refunds": {"count": 0, "amount": "0"},
       "gratuity_amount": "0", "fee_amount": "0"}]}
    """

    /// A cash sale of 5.00 + 0.40 tax, rung at 14:00 Chicago on 2026-11-26, with the given fields replaced.
    static func cashTicket(id: Int, amount: String = "\"5.40\"", tip: String = "0", completedAt: String = "2026-11-26T20:00:00Z",
                           extra: String = "") -> String {
        """
        {"id": \(id), "public_id": "S01-\(id)", "status": "complete", "completed_at": "\(completedAt)", "location_id": 1\(extra),
         "lines": [{"type": "ItemLine", "description": "Candle", "qty": 1, "unit_price": "5.00", "discount_amount": 0},
                   {"type": "TaxLine", "description": "Tax", "value": "0.40"}],
         "payments": [{"payment_type": "Cash", "amount": \(amount), "tip_amount": \(tip)}]}
        """
    }

    static let visaTicket = """
    {"id": 1, "public_id": "S01-1", "status": "complete", "completed_at": "2026-11-26T18:00:00Z", "location_id": 1,
     "lines": [{"type": "ItemLine", "description": "Lamp", "qty": 1, "unit_price": "10.00", "discount_amount": 0}],
     "payments": [{"payment_type": "Credit Card", "amount": "10.00", "tip_amount": "0", "card_type": "VISA", "gateway_transaction_id": "TRN_1"}]}
    """

    func built(_ bad: String) throws -> BatchTransform {
        let tickets = "[\(Self.visaTicket), \(Self.cashTicket(id: 2)), \(bad)]"
        let event = BatchClosedEvent(store: store, businessDate: "2026-11-26", batchId: "BAT_1", batch: RawJSON(Data(Self.batch.utf8)),
                                     tickets: RawJSON(Data(tickets.utf8)))
        return try TransformerHandler(rules: Self.rules).settlement(batch: event)
    }

    /// The good tickets' books: Visa 10.00 and cash 5.40 in, revenue 15.00 and tax 0.40 out.
    static let goodBooks: [AccountNumber: Int64] = ["1210": 1000, "1100": 540, "4000": -1500, "2200": -40]

    @Test(arguments: [
        ("one cent out of balance", cashTicket(id: 3, amount: "\"5.41\""), "payments (tenders differ from lines plus tips)"),
        ("a cash tender with a tip", cashTicket(id: 3, amount: "\"6.40\"", tip: "\"1.00\""), "payments[0].tip_amount"),
        ("an amount that is not one", cashTicket(id: 3, amount: "\"12.3x\""), "payments[0].amount"),
        ("a timestamp without an offset", cashTicket(id: 3, completedAt: "2026-11-26T14:00:00"), "completed_at"),
        ("another currency", cashTicket(id: 3, extra: ", \"currency\": \"CAD\""), "currency"),
        ("a missing field", #"{"id": 3, "public_id": "S01-3", "status": "complete", "location_id": 1, "lines": [], "payments": []}"#, "completed_at"),
    ])
    func eachKindOfBadTicketIsSetAsideAloneWithItsField(_ kind: String, _ bad: String, _ field: String) throws {
        let built = try built(bad)
        #expect(built.documents.count == 1, "\(kind)")
        #expect(built.documents.first?.journal.netByAccount == Self.goodBooks, "\(kind): the rest of the batch posts")
        #expect(built.quarantined.map(\.documentId) == ["3"], "\(kind)")
        #expect(built.quarantined.first?.field == field, "\(kind): \(built.quarantined.first?.field ?? "-")")
        #expect(built.quarantined.first?.number == "S01-3")
        #expect(built.quarantined.first?.locationId == 1)
        #expect(built.documents.first?.quarantined?.map(\.documentId) == ["3"], "\(kind): the batch's reconciliation names it")
        #expect(built.disagreements.isEmpty)
    }

    @Test func anAmountWrittenAsANumberIsRepairedNotSetAside() throws {
        // Heartland Retail writes dollars as JSON numbers: 5.4 is 5.40.
        let built = try built(Self.cashTicket(id: 3, amount: "5.4"))
        #expect(built.quarantined.isEmpty)
        #expect(built.documents.first?.journal.netByAccount == ["1210": 1000, "1100": 1080, "4000": -2000, "2200": -80])
    }

    @Test func twoDifferentRecordsUnderOneIdAreBothSetAsideAndIdenticalRepeatsCountOnce() throws {
        let built = try built("\(Self.cashTicket(id: 2, amount: "\"5.40\"", extra: ", \"notes\": \"edited\"")), \(Self.cashTicket(id: 4)), \(Self.cashTicket(id: 4))")
        #expect(built.quarantined.map(\.documentId) == ["2", "2"])
        #expect(built.quarantined.allSatisfy { $0.field == "id" })
        // Ticket 4 twice, byte for byte: once.
        #expect(built.documents.first?.journal.netByAccount == Self.goodBooks)
    }

    @Test func cardNumbersInASetAsideRecordAreMasked() throws {
        let built = try built(Self.cashTicket(id: 3, amount: "\"x\"", extra: ", \"notes\": \"card 4111111111111111 declined\""))
        let raw = String(decoding: try #require(built.quarantined.first).raw.data, as: UTF8.self)
        #expect(!raw.contains("4111111111111111"), "\(raw)")
    }

    @Test func aCorrectedTicketPostsInASupplementaryJournalOnItsOwnDay() async throws {
        let handler = TransformerHandler(rules: Self.rules)
        let corrected = TicketCorrectedEvent(store: store, documentId: "3", locationId: 1, batchId: "BAT_1",
                                             batchReference: "HL-S01-20261126-BAT_1",
                                             ticket: RawJSON(Data(Self.cashTicket(id: 3, completedAt: "2026-11-27T05:30:00Z").utf8)))
        guard case .publish(let outputs) = try handler.correctedOutcome(corrected, logger: logger), outputs.count == 1 else {
            Issue.record("expected one journal")
            return
        }
        let document = try JSONDecoder().decode(JournalDocument.self, from: Data(outputs[0].body))
        // 05:30 UTC is 23:30 the day before in Chicago.
        #expect(document.journal.reference == "HL-S01-20261126-BAT_1-T3")
        #expect(document.journal.idempotencyKey == "heartland:ticket:3")
        #expect(document.journal.netByAccount == ["1100": 540, "4000": -500, "2200": -40])
        #expect(document.partOf == "HL-S01-20261126-BAT_1")
        #expect(document.resolves == "3")

        let stillBad = TicketCorrectedEvent(store: store, documentId: "3", locationId: 1, batchId: "BAT_1", batchReference: "HL-S01-20261126-BAT_1",
                                            ticket: RawJSON(Data(Self.cashTicket(id: 3, amount: "\"5.39\"").utf8)))
        guard case .publish(let again) = try handler.correctedOutcome(stillBad, logger: logger) else {
            Issue.record("expected the ticket set aside again")
            return
        }
        #expect(again.contains { $0.routingKey == QuarantinedDocument.routingKey })
        #expect(!again.contains { $0.exchange == "bridge.scoring" })
    }
}
