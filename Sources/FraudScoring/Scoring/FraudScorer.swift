import Foundation

/// The scorer's verdict on one event: its features, the model's score and reasons, the decision.
public struct Assessment: Codable, Sendable {
    public var event: ScoredEvent
    public var features: FeatureVector
    public var score: RiskScore
    public var decision: FraudDecision
}

/// Features from the store, a score from the model, a decision from the rules in force.
public final class FraudScorer: Sendable {
    public let store: FeatureStore
    public let model: FraudModel
    private let rules: @Sendable () -> RuleSet

    /// Rules re-read from their file whenever it changes.
    public init(store: FeatureStore, model: FraudModel, rules: RuleSetFile) {
        self.store = store
        self.model = model
        self.rules = { rules.current() }
    }

    /// Fixed rules (backtests, evaluation); without any, the model's review threshold decides.
    public init(store: FeatureStore, model: FraudModel, ruleSet: RuleSet? = nil) {
        self.store = store
        self.model = model
        let fixed = ruleSet ?? RuleSet.standard(reviewThreshold: model.reviewThreshold)
        self.rules = { fixed }
    }

    /// Assesses one event whose facts are known better than the store's own history can tell (a
    /// refund's earlier returns and card, as Heartland holds them): those features are set from the
    /// facts before the model and the rules see them.
    public func assess(_ event: ScoredEvent, facts: [FeatureName: Double]) async throws -> Assessment {
        var vector = try await store.observe([event])[0]
        for (name, value) in facts { vector[name] = value }
        let score = model.assess(vector)
        let decision = rules().evaluate(.init(event: event, features: vector, score: score))
        return Assessment(event: event, features: vector, score: score, decision: decision)
    }

    /// Assesses a batch of events (a settlement batch, or one event), recording them in the store.
    public func assess(_ events: [ScoredEvent]) async throws -> [Assessment] {
        let features = try await store.observe(events)
        let ruleSet = rules()
        return zip(events, features).map { event, vector in
            let score = model.assess(vector)
            let decision = ruleSet.evaluate(.init(event: event, features: vector, score: score))
            return Assessment(event: event, features: vector, score: score, decision: decision)
        }
    }
}
