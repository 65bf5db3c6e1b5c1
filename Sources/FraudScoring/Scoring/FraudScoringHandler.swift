import Accounting
import Foundation
import Logging
import Messaging
import Metrics
import PipelineContracts

/// The fraud-scorer stage between the transformer and the loaders. A settlement journal is checked
/// against its store's history (`BatchHistory`: totals, refund share, card mix); a batch that looks
/// unusual is **held** in the review store — nothing goes to `bridge.commands` — with an alert saying
/// why and an audit record, until a person approves it (`bridgectl review approve`) or rejects it.
/// Everything else is forwarded marked `allowed`; payroll is not fraud-scored (`not_applicable`).
///
/// Per-transaction scoring (the model and the rules over card transactions) is not in the stage yet:
/// the journal documents do not carry card transactions (see docs/FRAUD.md).
public struct FraudScoringHandler: StageHandler {
    public let history: BatchHistory
    public let reviews: ReviewStore
    public let commandsExchange: String
    public let alertExchange: String
    public let auditExchange: String

    public init(history: BatchHistory, reviews: ReviewStore, commandsExchange: String = "bridge.commands",
                alertExchange: String = "bridge.alerts", auditExchange: String = "bridge.audit") {
        self.history = history
        self.reviews = reviews
        self.commandsExchange = commandsExchange
        self.alertExchange = alertExchange
        self.auditExchange = auditExchange
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        var document = try message.decode(JournalDocument.self)
        let key = message.idempotencyKey ?? document.journal.idempotencyKey
        guard let batch = document.batch, let store = document.storeID else {
            document.fraudAssessment = "not_applicable"
            return .publish([try Self.command(document, key: key, exchange: commandsExchange)])
        }
        let reasons = try history.check(Self.summary(of: batch, store: store))
        Counter(label: "bridge_fraud_decisions_total", dimensions: [("action", reasons.isEmpty ? "allow" : "review")]).increment()
        guard !reasons.isEmpty else {
            document.fraudAssessment = "allowed"
            return .publish([try Self.command(document, key: key, exchange: commandsExchange)])
        }
        document.fraudAssessment = "review"
        let held = try reviews.hold(document: Data(try JSONEncoder().encode(document)), idempotencyKey: key, reasons: reasons)
        let why = reasons.joined(separator: "; ")
        logger.warning("journal held for review", metadata: ["reference": .string(document.journal.reference), "review_id": "\(held.id)", "why": .string(why)])
        let alert = AlertNotice(kind: "review_required", severity: "warning", stage: "fraud-scorer",
                                reason: "\(document.journal.reference) held for review (bridgectl review show \(held.id)): \(why)",
                                idempotencyKey: key)
        let audit = AuditNotice(event: "held_for_review", stage: "fraud-scorer", detail: "\(document.journal.reference) held as review \(held.id): \(why)",
                                idempotencyKey: key)
        return .publish([
            try OutboundMessage(exchange: alertExchange, routingKey: "alert.review_required.fraud-scorer", json: alert),
            try OutboundMessage(exchange: auditExchange, routingKey: "audit.held_for_review.fraud-scorer", json: audit, idempotencyKey: key),
        ])
    }

    /// The document on its way to the loaders, with its assessment in a header too.
    public static func command(_ document: JournalDocument, key: String, exchange: String = "bridge.commands") throws -> OutboundMessage {
        var output = try OutboundMessage(exchange: exchange, routingKey: document.routingKey, json: document, idempotencyKey: key,
                                         schema: JournalDocument.schema)
        output.headers["x-fraud-assessment"] = .string(document.fraudAssessment ?? "not_assessed")
        return output
    }

    static func summary(of batch: SettlementBatch, store: String) -> BatchSummary {
        let sales = batch.totals.sales.minorUnits
        var mix: [String: Double] = [:]
        let brandSales = batch.brands.reduce(Int64(0)) { $0 + $1.totals.sales.minorUnits }
        if brandSales > 0 {
            for brand in batch.brands { mix[brand.brand.uppercased(), default: 0] += Double(brand.totals.sales.minorUnits) / Double(brandSales) }
        }
        return BatchSummary(store: StoreID(store), batchId: batch.id.rawValue, businessDay: batch.businessDate.iso, salesCents: sales,
                            refundCents: batch.totals.refunds.minorUnits, transactionCount: batch.totals.transactionCount, cardMix: mix)
    }
}
