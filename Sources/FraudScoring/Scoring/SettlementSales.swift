import Accounting
import Foundation
import Messaging
import PipelineContracts

/// The card sales of a settlement batch, scored one by one: the transformer's `CardActivity` turned
/// into the scorer's events, and each decision put in words for an analyst.
///
/// Only sales are scored here. A card refund that posts on its own was judged when it happened
/// (`FraudScoringHandler.refund`); an exchange's card refund has no sale facts to judge it with and is
/// left to the batch-level check.
public struct SettlementSales: Sendable {
    /// One sale and what the scorer made of it.
    public struct Judged: Sendable {
        public var transaction: CardActivity.Transaction
        public var assessment: Assessment

        public var action: FraudAction { assessment.decision.action }
    }

    public var judged: [Judged]
    public var timeZone: String

    /// Scores every sale of the activity as one batch (features see the whole day; the rules in force
    /// are read once). Recording them in the feature store is what later batches' velocity and
    /// baselines are built on.
    public static func score(_ activity: CardActivity, store: String, with scorer: FraudScorer) async throws -> SettlementSales {
        let sales = activity.sales
        let events = try sales.map { try event($0, store: store, timeZone: activity.timeZone) }
        let assessments = try await scorer.assess(events)
        return SettlementSales(judged: zip(sales, assessments).map { Judged(transaction: $0, assessment: $1) }, timeZone: activity.timeZone)
    }

    public var exceptions: [Judged] { judged.filter { $0.action == .review } }
    public var blocked: [Judged] { judged.filter { $0.action == .block } }
    public var highestRisk: Int { judged.map(\.assessment.score.value).max() ?? 0 }

    /// A sale as the scorer's event: the card is `BRAND:??????******last4` (tickets do not give the
    /// first six), the terminal the Retail station.
    public static func event(_ sale: CardActivity.Transaction, store: String, timeZone: String) throws(StageError) -> ScoredEvent {
        let occurred = try GatewayFeed.occurredAt(sale.completedAt, field: "completedAt", of: "card sale \(sale.transactionId)")
        return ScoredEvent(
            id: sale.transactionId, kind: .sale, store: StoreID(store), terminal: sale.terminal ?? "unknown", clerk: sale.clerk, tender: .card,
            cardToken: sale.cardToken.map(CardToken.init), entryMode: ScoredEvent.EntryMode(heartland: sale.entryMode),
            amountCents: sale.amountCents, occurredAt: occurred, timeZone: timeZone)
    }

    /// The sale in words: `sale TRN_1 $512.00 on VISA:??????******1111 (ticket S01-7, 14:02 local, station 101, clerk Ava)`.
    public func summary(_ judged: Judged) -> String {
        let sale = judged.transaction
        let local = judged.assessment.event.localTime.minuteOfDay
        var context = ["ticket \(sale.ticketNumber)", String(format: "%02d:%02d local", local / 60, local % 60)]
        if let terminal = sale.terminal { context.append("station \(terminal)") }
        if let clerk = sale.clerk { context.append("clerk \(clerk)") }
        return "sale \(sale.transactionId) $\(Money.decimalString(sale.amountCents)) on \(sale.cardToken ?? sale.brand.uppercased()) "
            + "(\(context.joined(separator: ", ")))"
    }

    /// Why, for an analyst: the risk score, what decided, the model's top reasons.
    public func explanation(_ judged: Judged) -> String {
        let decision = judged.assessment.decision
        let reasons = decision.reasons.isEmpty ? ["no reason given"] : decision.reasons
        return "risk \(decision.riskScore)/100; \(reasons.joined(separator: "; "))"
    }
}
