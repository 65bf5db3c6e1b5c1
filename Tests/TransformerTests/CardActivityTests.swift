import AMQP
import Accounting
import Foundation
import Logging
import Messaging
import PipelineContracts
import Testing
@testable import Transformer

/// The card activity a settlement journal carries for the fraud scorer: one entry per card tender of
/// the day's tickets, with the station, the clerk and the card's last four digits, never more.
@Suite struct CardActivityTests {
    let logger = Logger(label: "test")

    /// A New York day: a card sale with a tip (last four and entry mode given), a split cash/card sale
    /// whose payment carries a full card number by mistake, a voided card sale, a pure card return that
    /// posts on its own, and an exchange refunding part of its card payment.
    static let tickets = """
    {"results": [
     {"id": 101, "public_id": "NY-101", "status": "complete", "completed_at": "2026-11-26T15:02:00Z", "station_id": 201, "sales_rep": "Ava",
      "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "40.00", "discount_amount": 0}],
      "payments": [{"id": 1011, "payment_type": "Credit Card", "amount": "46.00", "tip_amount": "6.00", "card_type": "VISA", "last4": "1111",
                    "entry_mode": "MANUAL", "gateway_transaction_id": "TRN_S1"}]},
     {"id": 102, "public_id": "NY-102", "status": "complete", "completed_at": "2026-11-26T16:10:00Z", "station_id": "201", "sales_rep": "Liam",
      "lines": [{"type": "ItemLine", "qty": 2, "unit_price": "15.00", "discount_amount": 0}],
      "payments": [{"id": 1021, "payment_type": "Cash", "amount": "10.00", "tip_amount": 0},
                   {"id": 1022, "payment_type": "Credit Card", "amount": "20.00", "tip_amount": 0, "card_type": "Mastercard",
                    "last4": "5454545454545454"}]},
     {"id": 103, "public_id": "NY-103", "status": "void", "completed_at": "2026-11-26T17:00:00Z", "station_id": 201, "sales_rep": "Ava",
      "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "9.00", "discount_amount": 0}],
      "payments": [{"id": 1031, "payment_type": "Credit Card", "amount": "9.00", "tip_amount": 0, "card_type": "VISA", "last4": "2222",
                    "gateway_transaction_id": "TRN_V1"}]},
     {"id": 104, "public_id": "NY-104", "status": "complete", "completed_at": "2026-11-26T18:00:00Z", "station_id": 202, "sales_rep": "Mia",
      "return_of_ticket_id": 101,
      "lines": [{"type": "ItemLine", "qty": -1, "unit_price": "40.00", "discount_amount": 0}],
      "payments": [{"id": 1041, "payment_type": "Credit Card", "amount": "-40.00", "tip_amount": 0, "card_type": "VISA", "last4": "1111",
                    "gateway_transaction_id": "TRN_R1"}]},
     {"id": 105, "public_id": "NY-105", "status": "complete", "completed_at": "2026-11-26T19:00:00Z", "station_id": 202,
      "lines": [{"type": "ItemLine", "qty": -1, "unit_price": "15.00", "discount_amount": 0},
                {"type": "ItemLine", "qty": 1, "unit_price": "5.00", "discount_amount": 0}],
      "payments": [{"id": 1051, "payment_type": "Credit Card", "amount": "-10.00", "tip_amount": 0, "card_type": "Mastercard",
                    "last4": "3333", "gateway_transaction_id": "TRN_X1"}]}
    ]}
    """

    @Test func everyCardTenderOfTheDayIsOneTransactionWithoutCardNumbers() throws {
        let usd = try CurrencyCode("USD"), zone = try StoreTimeZone("America/New_York")
        let data = Data(Self.tickets.utf8)
        let activity = TransformerHandler.cardActivity(try HeartlandJSON.tickets(from: data, currency: usd),
                                                       details: try TicketDetails.parse(tickets: data), timeZone: zone)
        #expect(activity.timeZone == "America/New_York")
        #expect(activity.transactions.map(\.transactionId) == ["TRN_S1", "ticket:102:payment:1022", "TRN_R1", "TRN_X1"], "the void left out")
        #expect(activity.sales.map(\.transactionId) == ["TRN_S1", "ticket:102:payment:1022"])

        let first = activity.transactions[0]
        #expect(first == CardActivity.Transaction(
            transactionId: "TRN_S1", kind: .sale, ticketId: "101", ticketNumber: "NY-101", brand: "VISA", cardToken: "VISA:??????******1111",
            amountCents: 4_600, tipCents: 600, completedAt: "2026-11-26T15:02:00Z", terminal: "201", clerk: "Ava", entryMode: "MANUAL"))
        let split = activity.transactions[1]
        #expect(split.amountCents == 2_000, "the card's part of a split tender only")
        #expect(split.terminal == "201", "a station id written as text is read too")
        #expect(split.cardToken == nil, "a payment carrying more than four digits gives no card token at all")
        let encoded = String(decoding: try JSONEncoder().encode(activity), as: UTF8.self)
        #expect(!encoded.contains("5454545454"), "no card number travels on")

        let ownPath = activity.transactions[2]
        #expect(ownPath.kind == .refund && ownPath.amountCents == 4_000 && ownPath.postsOnItsOwn, "a pure return posts on its own")
        let exchange = activity.transactions[3]
        #expect(exchange.kind == .refund && !exchange.postsOnItsOwn && exchange.clerk == nil, "an exchange stays in the day's journal")
    }

    @Test func theSettlementJournalCarriesTheActivity() async throws {
        let outcome = try await TransformerHandler(rules: TransformerHandlerTests.rules).handle(try TransformerHandlerTests().event(), logger: logger)
        guard case .publish(let outputs) = outcome, let output = outputs.first else {
            Issue.record("expected the journal")
            return
        }
        let document = try JSONDecoder().decode(JournalDocument.self, from: Data(output.body))
        // The Los Angeles fixture: one Visa sale with a tip on the day; the 00:30 cash sale is the next day's.
        #expect(document.cardActivity?.timeZone == "America/Los_Angeles")
        #expect(document.cardActivity?.transactions.map(\.amountCents) == [1_280])
        #expect(document.cardActivity?.transactions.first?.tipCents == 200)
        #expect(document.cardActivity?.transactions.first?.transactionId == "ticket:1:payment:13")
    }

    /// The settlement journal's body is written with its transactions encoded a part at a time (issue 21): the bytes must be
    /// those `OutboundMessage(json:)` writes for the whole document, whatever the size of the parts.
    @Test func aJournalWrittenAPartAtATimeIsTheJournalEncodedWhole() throws {
        let usd = try CurrencyCode("USD"), zone = try StoreTimeZone("America/New_York")
        let data = Data(Self.tickets.utf8)
        let day = TransformerHandler.cardActivity(try HeartlandJSON.tickets(from: data, currency: usd), details: try TicketDetails.parse(tickets: data),
                                                  timeZone: zone).transactions
        let amount = Money(minorUnits: 100, currency: usd)
        let journal = try JournalEntry.balanced(
            source: .settlement, reference: "HL-NY", idempotencyKey: "heartland:batch:NY", postingDate: try BusinessDate(parsing: "2026-11-26"),
            description: #"a "quoted" description with "cardActivity":{"timeZone":"UTC","transactions":[]}"#, currency: usd, lines: [
                JournalLine(account: AccountNumber("1210"), rule: "card", description: "card", side: .debit, amount: amount),
                JournalLine(account: AccountNumber("4000"), rule: "revenue", description: "revenue", side: .credit, amount: amount),
            ])
        for count in [0, 1, 3, 4, 9, 10, 17] {
            var document = JournalDocument(journal: journal, storeID: "NY", batch: nil,
                                           cardActivity: CardActivity(timeZone: zone.identifier, transactions: (0..<count).map { day[$0 % day.count] }),
                                           partOf: "HL-NY-HOME")
            document.documents = ["101", "102"]
            let whole = try OutboundMessage(exchange: "x", routingKey: "y", json: document).body
            for atOnce in [1, 3, 4, 1_000] {
                #expect(try document.encodedBody(transactionsAtOnce: atOnce) == whole, "\(count) transactions, \(atOnce) at once")
            }
        }
        var none = JournalDocument(journal: journal, batch: nil)
        #expect(try none.encodedBody(transactionsAtOnce: 1) == OutboundMessage(exchange: "x", routingKey: "y", json: none).body)
        none.fraudAssessment = "allowed"
        #expect(try none.encodedBody(transactionsAtOnce: 1) == OutboundMessage(exchange: "x", routingKey: "y", json: none).body)
    }

    @Test func aDocumentWithoutActivityStillDecodes() throws {
        // A journal from a transformer that predates card activity.
        let usd = try CurrencyCode("USD")
        let amount = Money(minorUnits: 100, currency: usd)
        let journal = try JournalEntry.balanced(
            source: .settlement, reference: "HL-OLD", idempotencyKey: "heartland:batch:OLD", postingDate: try BusinessDate(parsing: "2026-11-20"),
            description: "old", currency: usd, lines: [
                JournalLine(account: AccountNumber("1210"), rule: "card", description: "card", side: .debit, amount: amount),
                JournalLine(account: AccountNumber("4000"), rule: "revenue", description: "revenue", side: .credit, amount: amount),
            ])
        var object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(JournalDocument(journal: journal, batch: nil)))
            as? [String: Any])
        object["cardActivity"] = nil
        let decoded = try JSONDecoder().decode(JournalDocument.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(decoded.cardActivity == nil)
    }
}
