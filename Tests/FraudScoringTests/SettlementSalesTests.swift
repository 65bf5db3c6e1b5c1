import AMQP
import Accounting
import Foundation
@testable import FraudScoring
import Logging
import Messaging
import PipelineContracts
import Testing

/// Each card sale of a settlement batch scored in the stage: allowed sales leave the journal as it was,
/// a `review` sale becomes an exception for an analyst while the journal posts, a `block` sale holds the
/// whole journal; the day's refunds are not scored again.
@Suite struct SettlementSalesTests {
    let logger = Logger(label: "test")

    struct Stage {
        var handler: FraudScoringHandler
        var reviews: ReviewStore
        var features: FeatureStore
    }

    func stage(_ rules: String) throws -> Stage {
        let reviews = try ReviewStore(path: nil), features = try FeatureStore(path: nil)
        let scorer = FraudScorer(store: features, model: .unscored, ruleSet: try RuleParser.parse(rules, file: "test rules"))
        return Stage(handler: try FraudScoringHandler(history: try BatchHistory(path: nil), reviews: reviews, scorer: scorer),
                     reviews: reviews, features: features)
    }

    static func sale(_ id: String, cents: Int64, last4: String = "1111", minute: Int = 0, kind: CardActivity.Transaction.Kind = .sale,
                     ownPath: Bool = false) -> CardActivity.Transaction {
        CardActivity.Transaction(
            transactionId: id, kind: kind, ticketId: "9\(minute)", ticketNumber: "S01-20261120-\(minute)", brand: "VISA",
            cardToken: "VISA:??????******\(last4)", amountCents: cents, tipCents: 0,
            completedAt: String(format: "2026-11-20T%02d:%02d:00Z", 15 + minute / 60, minute % 60), terminal: "101", clerk: "Ava",
            entryMode: nil, postsOnItsOwn: ownPath)
    }

    static let ordinaryDay = [sale("TRN_A", cents: 2_500, minute: 1), sale("TRN_B", cents: 4_200, last4: "2222", minute: 7),
                              sale("TRN_C", cents: 1_899, last4: "3333", minute: 15)]

    func message(_ transactions: [CardActivity.Transaction], batchID: String = "BAT_1") throws -> InboundMessage {
        let usd = try CurrencyCode("USD")
        let total = transactions.filter { $0.kind == .sale }.reduce(Int64(0)) { $0 + $1.amountCents }
        let amount = Money(minorUnits: total, currency: usd)
        let day = try BusinessDate(parsing: "2026-11-20")
        let journal = try JournalEntry.balanced(
            source: .settlement, reference: "HL-S01-20261120-\(batchID)", idempotencyKey: "heartland:batch:\(batchID)", postingDate: day,
            description: "test", currency: usd, lines: [
                JournalLine(account: AccountNumber("1210"), rule: "card", description: "card", side: .debit, amount: amount),
                JournalLine(account: AccountNumber("4000"), rule: "revenue", description: "revenue", side: .credit, amount: amount),
            ])
        let totals = CardTotals(transactionCount: transactions.count, salesCount: transactions.count, sales: amount, refundsCount: 0,
                                refunds: .zero(usd), tips: .zero(usd), fees: .zero(usd))
        let document = JournalDocument(journal: journal, storeID: "S01", batch: SettlementBatch(
            id: BatchID(batchID), businessDate: day, totals: totals, brands: [BrandTotals(brand: "VISA", totals: totals)]),
            cardActivity: CardActivity(timeZone: "America/New_York", transactions: transactions))
        return InboundMessage(Delivery(routingKey: "sage.journal.settlement", properties: MessageProperties(
            type: "sage.journal.settlement", headers: [Header.idempotencyKey: .string(journal.idempotencyKey)]),
            body: Array(try JSONEncoder().encode(document))))
    }

    func published(_ outcome: StageOutcome) -> [OutboundMessage] {
        if case .publish(let outputs) = outcome { return outputs }
        return []
    }

    func decoded<T: Decodable>(_ type: T.Type, _ output: OutboundMessage?) throws -> T {
        try JSONDecoder().decode(type, from: Data(try #require(output).body))
    }

    @Test func ordinarySalesAreScoredAndTheJournalForwarded() async throws {
        let stage = try stage("review if :amount: > 50000")
        let outputs = published(try await stage.handler.handle(try message(Self.ordinaryDay), logger: logger))
        #expect(outputs.map(\.exchange) == ["bridge.commands"])
        #expect(outputs.first?.headers["x-fraud-assessment"] == .string("allowed (3 card sales scored, highest risk 0)"))
        let forwarded = try decoded(JournalDocument.self, outputs.first)
        #expect(forwarded.cardActivity == nil, "the activity is the scorer's: the loaders never read it")
        #expect(forwarded.journal.lines.count > 0 && forwarded.batch != nil)
        #expect(try await stage.reviews.exceptions().isEmpty)
        #expect(try await stage.reviews.list().isEmpty)
        #expect(try await stage.features.eventCount() == 3, "every sale is history for the next batch")
    }

    @Test func aReviewedSaleIsAnExceptionAndTheJournalStillPosts() async throws {
        let stage = try stage("review if :amount: > 50000")
        let big = Self.sale("TRN_BIG", cents: 61_250, last4: "4444", minute: 30)
        let inbound = try message(Self.ordinaryDay + [big])
        let outputs = published(try await stage.handler.handle(inbound, logger: logger))
        #expect(outputs.map(\.exchange) == ["bridge.commands", "bridge.alerts", "bridge.audit"], "posted, one alert, one audit record")
        #expect(outputs.first?.headers["x-fraud-assessment"] == .string("allowed with 1 exception (4 card sales scored, highest risk 0)"))

        let exceptions = try await stage.reviews.exceptions(status: .open)
        #expect(exceptions.count == 1)
        let exception = try #require(exceptions.first)
        #expect(exception.transactionId == "TRN_BIG")
        #expect(exception.amountCents == 61_250)
        #expect(exception.reference == "HL-S01-20261120-BAT_1")
        #expect(exception.decidedBy == "line 1")
        #expect(exception.reasons.first == "rule line 1: review if :amount: > 50000")
        #expect(exception.features == ["amount": 61_250], "the value the rule looked at is kept")
        #expect(exception.summary == "sale TRN_BIG $612.50 on VISA:??????******4444 (ticket S01-20261120-30, 10:30 local, station 101, clerk Ava)")

        let alert = try decoded(AlertNotice.self, outputs[1])
        #expect(alert.kind == "fraud_exception")
        #expect(alert.reason.contains("E\(exception.id): sale TRN_BIG $612.50"), "\(alert.reason)")
        #expect(alert.reason.contains("risk 0/100; rule line 1: review if :amount: > 50000"), "\(alert.reason)")
        let audit = try decoded(AuditNotice.self, outputs[2])
        #expect(audit.event == "fraud_exception")
        #expect(audit.idempotencyKey == "heartland:batch:BAT_1|TRN_BIG")

        // A redelivered batch is the same exception, not a second one.
        _ = try await stage.handler.handle(inbound, logger: logger)
        #expect(try await stage.reviews.exceptions().count == 1)

        // An analyst acknowledges it once; a second acknowledgement is refused.
        let acknowledged = try await stage.reviews.acknowledge(exception: exception.id, by: "alice", why: "regular customer, receipt seen")
        #expect(acknowledged.status == .acknowledged)
        await #expect(throws: FraudExceptionError.alreadyAcknowledged(id: exception.id, by: "alice")) {
            try await stage.reviews.acknowledge(exception: exception.id, by: "bob", why: "again")
        }
        await #expect(throws: FraudExceptionError.missingDecider) { try await stage.reviews.acknowledge(exception: exception.id, by: "bob", why: " ") }
        #expect(try await stage.reviews.exceptions(status: .open).isEmpty)
        let message = try ReviewRelease.audit(acknowledged: acknowledged, actor: "alice", why: "regular customer, receipt seen")
        #expect(message.routingKey == "audit.exception_acknowledged.bridgectl")
    }

    @Test func aBlockedSaleHoldsTheWholeJournalWithTheReason() async throws {
        let stage = try stage("""
            block card VISA:??????******6666
            review if :amount: > 50000
            """)
        let stolen = Self.sale("TRN_STOLEN", cents: 8_900, last4: "6666", minute: 45)
        let big = Self.sale("TRN_BIG", cents: 75_000, last4: "4444", minute: 50)
        let outputs = published(try await stage.handler.handle(try message(Self.ordinaryDay + [stolen, big]), logger: logger))
        #expect(!outputs.contains { $0.exchange == "bridge.commands" }, "held: nothing to the loaders")
        #expect(outputs.map(\.routingKey) == ["alert.review_required.fraud-scorer", "audit.held_for_review.fraud-scorer",
                                              "alert.fraud_exception.fraud-scorer", "audit.fraud_exception.fraud-scorer"])
        let held = try await stage.reviews.list(status: .held)
        #expect(held.count == 1)
        let why = held.first?.reasons.joined(separator: "; ") ?? ""
        #expect(why.contains("sale TRN_STOLEN $89.00 on VISA:??????******6666"), "\(why)")
        #expect(why.contains("blocked by block list (line 1)"), "\(why)")
        #expect(why.contains("card is on the block list"), "\(why)")
        let document = try JSONDecoder().decode(JournalDocument.self, from: try #require(held.first).document)
        #expect(document.fraudAssessment == "review")
        #expect(document.cardActivity?.transactions.count == 5, "approving releases the document as it came")
        // The reviewed sale of the same batch is still an exception of its own.
        #expect(try await stage.reviews.exceptions().map(\.transactionId) == ["TRN_BIG"])
    }

    @Test func theDaysRefundsAreNotScoredAgain() async throws {
        let stage = try stage("review if :amount: > 50000")
        let refunds = [Self.sale("TRN_R1", cents: 90_000, minute: 20, kind: .refund, ownPath: true),
                       Self.sale("TRN_R2", cents: 80_000, minute: 25, kind: .refund)]
        let outputs = published(try await stage.handler.handle(try message(Self.ordinaryDay + refunds), logger: logger))
        #expect(outputs.map(\.exchange) == ["bridge.commands"])
        #expect(try await stage.reviews.exceptions().isEmpty)
        #expect(try await stage.features.eventCount() == 3, "only the sales are recorded")
    }

    @Test func aRuleFileChangeAppliesToTheNextBatch() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sales-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("rules.txt").path
        try "review if :amount: > 50000\n".write(toFile: path, atomically: true, encoding: .utf8)
        let reviews = try ReviewStore(path: nil)
        let scorer = FraudScorer(store: try FeatureStore(path: nil), model: .unscored, rules: try RuleSetFile(path: path))
        let handler = try FraudScoringHandler(history: try BatchHistory(path: nil), reviews: reviews, scorer: scorer)
        let first = published(try await handler.handle(try message([Self.sale("TRN_1", cents: 3_000)], batchID: "BAT_1"), logger: logger))
        #expect(first.map(\.exchange) == ["bridge.commands"])

        try "block if :amount: >= 3000 and :kind: = 'sale'\n".write(toFile: path, atomically: true, encoding: .utf8)
        // Some file systems keep whole-second times; the size differs anyway, which the reload also looks at.
        let second = published(try await handler.handle(try message([Self.sale("TRN_2", cents: 3_000, minute: 40)], batchID: "BAT_2"),
                                                        logger: logger))
        #expect(!second.contains { $0.exchange == "bridge.commands" })
        #expect(try await reviews.list(status: .held).first?.reasons.first?.contains("blocked by line 1") == true)
    }
}
