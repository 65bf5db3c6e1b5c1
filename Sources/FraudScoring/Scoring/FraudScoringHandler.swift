import Accounting
import BridgeClock
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
/// The gateway feed (`heartland.gateway.*` and `heartland.ticket.voided`, from heartland-ingest) is scored one event at a
/// time as it happens, declines, reversals and voided tickets included (`GatewayFeed`): nothing to hold, an exception and
/// an alert when flagged.
///
/// A real-time refund is scored on its own: the model and the rules (hot-reloaded from the rule file)
/// see it with the transformer's facts (no original sale, over the original, another card), and the
/// decision is carried out: allow forwards it (with an alert if it has a problem a rule let through),
/// review holds it, block stops it for good with an alert.
///
/// A settlement journal carrying the day's card activity has each card **sale** scored too (the
/// refunds were judged as they happened). The money of a settled sale has moved, so the journal still
/// posts: a sale the rules send to `review` becomes a fraud exception (recorded in the review store for
/// `bridgectl review list`, an audit record per sale, one `fraud_exception` alert per batch), and only a
/// sale the rules `block` holds the whole journal for review, with the sale and the rule as the reason.
public struct FraudScoringHandler: StageHandler {
    public let history: BatchHistory
    public let reviews: ReviewStore
    /// Scores refunds; the default has an in-memory feature store, no model and the pipeline's default rules.
    public let scorer: FraudScorer
    public let commandsExchange: String
    public let alertExchange: String
    public let auditExchange: String
    /// One store's gateway-feed events are scored one at a time (`scoreFromFeed`).
    let feedGates = SerialGates()

    public init(history: BatchHistory, reviews: ReviewStore, scorer: FraudScorer? = nil, commandsExchange: String = "bridge.commands",
                alertExchange: String = "bridge.alerts", auditExchange: String = "bridge.audit") throws {
        self.history = history
        self.reviews = reviews
        self.scorer = try scorer ?? FraudScorer(store: FeatureStore(path: nil), model: .unscored,
                                                ruleSet: .pipelineDefault(reviewThreshold: FraudModel.unscored.reviewThreshold))
        self.commandsExchange = commandsExchange
        self.alertExchange = alertExchange
        self.auditExchange = auditExchange
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        if message.routingKey.hasPrefix(GatewayTransactionEvent.routingKeyPrefix) {
            let feed = try message.decode(GatewayTransactionEvent.self)
            return try await gatewayTransaction(feed, key: message.idempotencyKey ?? feed.idempotencyKey, logger: logger)
        }
        if message.routingKey == TicketVoidedEvent.routingKey {
            let voided = try message.decode(TicketVoidedEvent.self)
            return try await voidedTicket(voided, key: message.idempotencyKey ?? voided.idempotencyKey, logger: logger)
        }
        var document = try message.decode(JournalDocument.self)
        let key = message.idempotencyKey ?? document.journal.idempotencyKey
        if let facts = document.refund {
            return try await refund(document, facts: facts, key: key, logger: logger)
        }
        guard let batch = document.batch, let store = document.storeID else {
            document.fraudAssessment = "not_applicable"
            return .publish([try Self.command(document, key: key, exchange: commandsExchange)])
        }
        var reasons = try await history.check(Self.summary(of: batch, store: store))
        var exceptionOutputs: [OutboundMessage] = []
        let sales: SettlementSales? = if let activity = document.cardActivity {
            try await scoreSales(activity, store: store, logger: logger)
        } else {
            nil
        }
        if let sales {
            reasons += sales.blocked.map { judged in
                "\(sales.summary(judged)) blocked by \(judged.assessment.decision.decidedBy ?? "the rules"): \(sales.explanation(judged))"
            }
            exceptionOutputs = try await exceptions(sales, document: document, key: key, logger: logger)
        }
        Counter(label: "bridge_fraud_decisions_total", dimensions: [("action", reasons.isEmpty ? "allow" : "review")]).increment()
        guard !reasons.isEmpty else {
            document.fraudAssessment = Self.assessment(sales)
            return .publish([try Self.command(document, key: key, exchange: commandsExchange)] + exceptionOutputs)
        }
        return .publish(try await holdMessages(document, key: key, reasons: reasons, logger: logger) + exceptionOutputs)
    }

    /// Scores the batch's card sales, with the time it took and the decisions counted.
    func scoreSales(_ activity: CardActivity, store: String, logger: Logger) async throws -> SettlementSales {
        let started = ContinuousClock.now
        let sales = try await SettlementSales.score(activity, store: store, with: scorer)
        let elapsed = ContinuousClock.now - started
        Metrics.Timer(label: "bridge_fraud_batch_scoring_seconds").recordNanoseconds(elapsed.nanoseconds)
        for action in FraudAction.allCases {
            let count = sales.judged.count { $0.action == action }
            if count > 0 { Counter(label: "bridge_fraud_transaction_decisions_total", dimensions: [("action", action.rawValue)]).increment(by: count) }
        }
        logger.info("card sales scored", metadata: [
            "sales": "\(sales.judged.count)", "exceptions": "\(sales.exceptions.count)", "blocked": "\(sales.blocked.count)",
            "highest_risk": "\(sales.highestRisk)", "elapsed": "\(elapsed)",
        ])
        return sales
    }

    /// The `review` sales of a batch that posts anyway: each recorded as an exception with an audit
    /// record, and one alert for the batch naming them (the first five) with their reasons.
    func exceptions(_ sales: SettlementSales, document: JournalDocument, key: String, logger: Logger) async throws -> [OutboundMessage] {
        let flagged = sales.exceptions
        guard !flagged.isEmpty else { return [] }
        let reference = document.journal.reference
        var outputs: [OutboundMessage] = []
        var lines: [String] = []
        let recorded = try await reviews.recordExceptions(flagged.map { judged in
            let decision = judged.assessment.decision
            return FraudException.Raised(
                key: "\(key)|\(judged.transaction.transactionId)", reference: reference, transactionId: judged.transaction.transactionId,
                store: document.storeID ?? "?", amountCents: judged.transaction.amountCents, summary: sales.summary(judged),
                riskScore: decision.riskScore, decidedBy: decision.decidedBy, reasons: decision.reasons,
                features: decision.ruleFeatures(judged.assessment.features))
        })
        for (judged, exception) in zip(flagged, recorded) {
            let line = "\(exception.label): \(exception.summary), \(sales.explanation(judged))"
            lines.append(line)
            let audit = AuditNotice(event: .fraudException, stage: "fraud-scorer", detail: "\(reference) posted with exception \(line)",
                                    idempotencyKey: exception.key)
            outputs.append(try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.fraudException.routingKey("fraud-scorer"), json: audit,
                                               idempotencyKey: exception.key))
        }
        logger.warning("card sales flagged as exceptions", metadata: ["reference": .string(reference), "exceptions": "\(flagged.count)"])
        let more = lines.count > 5 ? " (and \(lines.count - 5) more)" : ""
        let alert = AlertNotice(kind: .fraudException, severity: "warning", stage: "fraud-scorer",
                                reason: "\(reference): \(lines.count) card sale(s) for an analyst (bridgectl review list): "
                                    + lines.prefix(5).joined(separator: " | ") + more, idempotencyKey: key)
        return [try OutboundMessage(exchange: alertExchange, routingKey: AlertKind.fraudException.routingKey("fraud-scorer"), json: alert)] + outputs
    }

    /// The assessment a forwarded settlement journal carries.
    static func assessment(_ sales: SettlementSales?) -> String {
        guard let sales else { return "allowed" }
        let scored = "\(sales.judged.count) card sales scored, highest risk \(sales.highestRisk)"
        let exceptions = sales.exceptions.count
        return exceptions == 0 ? "allowed (\(scored))" : "allowed with \(exceptions) exception\(exceptions == 1 ? "" : "s") (\(scored))"
    }

    /// A refund: scored as one event with Heartland's facts, then allowed, held or blocked.
    func refund(_ document: JournalDocument, facts: RefundFacts, key: String, logger: Logger) async throws -> StageOutcome {
        var document = document
        let assessment = try await scorer.assess(try Self.event(facts, store: document.storeID ?? "?"), facts: [
            .refundUnlinked: facts.isUnlinked ? 1 : 0,
            .refundOverOriginal: facts.exceedsOriginal ? 1 : 0,
            .refundCardMismatch: facts.toAnotherCard ? 1 : 0,
        ])
        let decision = assessment.decision
        Counter(label: "bridge_fraud_decisions_total", dimensions: [("action", decision.action.rawValue)]).increment()
        let reference = document.journal.reference
        let reasons = facts.problems + decision.reasons
        let why = (reasons.isEmpty ? ["no rule objected"] : reasons).joined(separator: "; ")
        switch decision.action {
        case .allow:
            document.fraudAssessment = "allowed (risk \(decision.riskScore))"
            var outputs = [try Self.command(document, key: key, exchange: commandsExchange)]
            if !facts.problems.isEmpty {
                // A rule let it through, but a person should still know.
                let alert = AlertNotice(kind: .refundExceptionAllowed, severity: "warning", stage: "fraud-scorer",
                                        reason: "\(reference) posted although \(facts.problems.joined(separator: "; ")) "
                                            + "(allowed by \(decision.decidedBy ?? "no rule"))", idempotencyKey: key)
                outputs.append(try OutboundMessage(exchange: alertExchange, routingKey: AlertKind.refundExceptionAllowed.routingKey("fraud-scorer"), json: alert))
            }
            return .publish(outputs)
        case .review:
            return try await hold(document, key: key, reasons: reasons.isEmpty ? ["risk score \(decision.riskScore)"] : reasons, logger: logger)
        case .block:
            logger.warning("refund blocked", metadata: ["reference": .string(reference), "why": .string(why)])
            let alert = AlertNotice(kind: .refundBlocked, severity: "error", stage: "fraud-scorer",
                                    reason: "\(reference) blocked by \(decision.decidedBy ?? "the rules"), never posted: \(why)", idempotencyKey: key)
            let audit = AuditNotice(event: .blocked, stage: "fraud-scorer", detail: "\(reference) blocked: \(why)", idempotencyKey: key)
            return .publish([
                try OutboundMessage(exchange: alertExchange, routingKey: AlertKind.refundBlocked.routingKey("fraud-scorer"), json: alert),
                try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.blocked.routingKey("fraud-scorer"), json: audit, idempotencyKey: key),
            ])
        }
    }

    /// The refund as the scorer's event: a card refund at the store's terminal, linked to its sale if it has one.
    static func event(_ facts: RefundFacts, store: String) throws(StageError) -> ScoredEvent {
        let original = facts.originalTicketId.map { id in
            ScoredEvent.OriginalSale(
                id: "ticket:\(id)", amountCents: facts.originalCents ?? 0, cardToken: facts.saleCards.first.map(CardToken.init),
                tenderMix: TenderMix(cardCents: facts.saleCardCents, cashCents: facts.saleCashCents, giftCardCents: facts.saleGiftCardCents))
        }
        let occurred = try GatewayFeed.occurredAt(facts.occurredAt, field: "occurredAt", of: "refund \(facts.transactionId)")
        return ScoredEvent(
            id: facts.transactionId, kind: .refund, store: StoreID(store), terminal: facts.terminal, clerk: facts.clerk, tender: .card,
            cardToken: facts.refundCard.map(CardToken.init), entryMode: ScoredEvent.EntryMode(heartland: facts.entryMode),
            amountCents: facts.refundedCents, occurredAt: occurred, timeZone: facts.timeZone, originalSale: original)
    }

    /// Holds the document in the review store, with an alert and an audit record saying why.
    func hold(_ document: JournalDocument, key: String, reasons: [String], logger: Logger) async throws -> StageOutcome {
        .publish(try await holdMessages(document, key: key, reasons: reasons, logger: logger))
    }

    func holdMessages(_ document: JournalDocument, key: String, reasons: [String], logger: Logger) async throws -> [OutboundMessage] {
        var document = document
        document.fraudAssessment = "review"
        let held = try await reviews.hold(document: Data(try JSONEncoder().encode(document)), idempotencyKey: key, reasons: reasons)
        let why = reasons.joined(separator: "; ")
        logger.warning("journal held for review", metadata: ["reference": .string(document.journal.reference), "review_id": "\(held.id)", "why": .string(why)])
        let alert = AlertNotice(kind: .reviewRequired, severity: "warning", stage: "fraud-scorer",
                                reason: "\(document.journal.reference) held for review (bridgectl review show \(held.id)): \(why)",
                                idempotencyKey: key)
        let audit = AuditNotice(event: .heldForReview, stage: "fraud-scorer", detail: "\(document.journal.reference) held as review \(held.id): \(why)",
                                idempotencyKey: key)
        return [
            try OutboundMessage(exchange: alertExchange, routingKey: AlertKind.reviewRequired.routingKey("fraud-scorer"), json: alert),
            try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.heldForReview.routingKey("fraud-scorer"), json: audit, idempotencyKey: key),
        ]
    }

    /// The document on its way to the loaders, with its assessment in a header too, and without its card activity: the
    /// scorer is its only reader, and a 50,000-ticket day's is 12 MB that the scorer encoded and every loader decoded
    /// again (issue 21). A held document keeps it, for the person who reviews it.
    public static func command(_ document: JournalDocument, key: String, exchange: String = "bridge.commands") throws -> OutboundMessage {
        var document = document
        document.cardActivity = nil
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
