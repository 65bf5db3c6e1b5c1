/// What the scorer does with a document: forward it, hold it for a person, or stop it.
public enum FraudAction: String, Codable, Sendable, CaseIterable, Comparable {
    /// Forwarded to the loaders.
    case allow
    /// Held in the `ReviewStore`; not posted until a person approves it.
    case review
    /// Never posted; an alert is raised.
    case block

    private var severity: Int {
        switch self {
        case .allow: return 0
        case .review: return 1
        case .block: return 2
        }
    }

    public static func < (lhs: FraudAction, rhs: FraudAction) -> Bool { lhs.severity < rhs.severity }
}

/// The decision on one event, and why: the list or rule that decided, and the model's reasons.
public struct FraudDecision: Codable, Sendable, Hashable {
    public var action: FraudAction
    /// `allow list`, `block list` or `line N` of the rule file; nil for the default allow.
    public var decidedBy: String?
    public var reasons: [String]
    public var riskScore: Int

    public init(action: FraudAction, decidedBy: String?, reasons: [String], riskScore: Int) {
        self.action = action
        self.decidedBy = decidedBy
        self.reasons = reasons
        self.riskScore = riskScore
    }
}

extension FraudDecision {
    /// The features the deciding rule names (`:terminal_small_auths_10m:` in its text), with their values in `vector`:
    /// what made the rule hold, kept with an exception for the analyst. Empty when a list or no rule decided.
    public func ruleFeatures(_ vector: FeatureVector) -> [String: Double] {
        let named = reasons.filter { $0.hasPrefix("rule ") }.flatMap { $0.split(separator: ":") }.compactMap { FeatureName(rawValue: String($0)) }
        return Dictionary(named.map { ($0.rawValue, vector[$0]) }, uniquingKeysWith: { first, _ in first })
    }
}
