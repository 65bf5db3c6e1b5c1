import AMQP
import Accounting
import Foundation
import FraudScoring
import Logging
import Messaging
import PipelineContracts
import Testing

/// The stage handler: forwards ordinary journals marked `allowed`, holds a batch far from its store's
/// history (alert and audit, nothing to the loaders), leaves payroll unscored, and holds a redelivery once.
@Suite struct FraudScoringHandlerTests {
    let logger = Logger(label: "test")

    func handler() throws -> (FraudScoringHandler, ReviewStore, BatchHistory) {
        let history = try BatchHistory(path: nil), reviews = try ReviewStore(path: nil)
        return (try FraudScoringHandler(history: history, reviews: reviews), reviews, history)
    }

    func message(salesCents: Int64, store: String? = "S01", batchID: String = "BAT_1", day: String = "2026-11-20") throws -> InboundMessage {
        let usd = try CurrencyCode("USD")
        let amount = Money(minorUnits: salesCents, currency: usd)
        let journal = try JournalEntry.balanced(
            source: store == nil ? .payroll : .settlement, reference: "HL-\(store ?? "PAY")-\(batchID)", idempotencyKey: "heartland:batch:\(batchID)",
            postingDate: try BusinessDate(parsing: day), description: "test", currency: usd, lines: [
                JournalLine(account: AccountNumber("1210"), rule: "card", description: "card", side: .debit, amount: amount),
                JournalLine(account: AccountNumber("4000"), rule: "revenue", description: "revenue", side: .credit, amount: amount),
            ])
        let totals = CardTotals(transactionCount: 10, salesCount: 10, sales: amount, refundsCount: 0, refunds: .zero(usd), tips: .zero(usd), fees: .zero(usd))
        let batch = SettlementBatch(id: BatchID(batchID), businessDate: try BusinessDate(parsing: day), totals: totals,
                                    brands: [BrandTotals(brand: "VISA", totals: totals)])
        let document = JournalDocument(journal: journal, storeID: store, batch: store == nil ? nil : batch)
        let body = Array(try JSONEncoder().encode(document))
        return InboundMessage(Delivery(routingKey: "sage.journal.settlement", properties: MessageProperties(
            type: "sage.journal.settlement", headers: [Header.idempotencyKey: .string(journal.idempotencyKey)]), body: body))
    }

    func published(_ outcome: StageOutcome) -> [OutboundMessage] {
        if case .publish(let outputs) = outcome { return outputs }
        return []
    }

    @Test func ordinaryBatchIsForwardedAllowed() async throws {
        let (handler, reviews, _) = try handler()
        let outputs = published(try await handler.handle(try message(salesCents: 500_000), logger: logger))
        #expect(outputs.map(\.exchange) == ["bridge.commands"])
        #expect(outputs.first?.headers["x-fraud-assessment"] == .string("allowed"))
        #expect(try await reviews.list().isEmpty)
    }

    @Test func batchFarFromItsHistoryIsHeldNotForwarded() async throws {
        let (handler, reviews, _) = try handler()
        for day in 10...15 {
            _ = try await handler.handle(try message(salesCents: 500_000 + Int64(day) * 1_000, batchID: "BAT_\(day)", day: "2026-11-\(day)"), logger: logger)
        }
        let unusual = try message(salesCents: 9_000_000, batchID: "BAT_BIG", day: "2026-11-20")
        let outputs = published(try await handler.handle(unusual, logger: logger))
        #expect(outputs.map(\.exchange) == ["bridge.alerts", "bridge.audit"], "an alert and an audit record; nothing to the loaders")
        let held = try await reviews.list(status: .held)
        #expect(held.count == 1)
        #expect(held.first?.reasons.first?.contains("standard deviations") == true)
        // A redelivery of the same document is the same hold.
        _ = try await handler.handle(unusual, logger: logger)
        #expect(try await reviews.list(status: .held).count == 1)
    }

    @Test func payrollIsNotFraudScored() async throws {
        let (handler, _, _) = try handler()
        let outputs = published(try await handler.handle(try message(salesCents: 100, store: nil), logger: logger))
        #expect(outputs.first?.headers["x-fraud-assessment"] == .string("not_applicable"))
    }
}
