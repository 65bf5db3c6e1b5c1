/// Parsed rules and lists, evaluated in a fixed order:
///
/// 1. allow lists (card, terminal, clerk, store) — a listed event is allowed, whatever else it shows;
/// 2. block lists — a listed event is blocked;
/// 3. rules from top to bottom — the first rule whose condition holds decides;
/// 4. nothing matched — allow.
public struct RuleSet: Sendable, Hashable {
    public var rules: [Rule]
    public var lists: [ListEntry]

    public init(rules: [Rule] = [], lists: [ListEntry] = []) {
        self.rules = rules
        self.lists = lists
    }

    /// `review if :risk_score: >= threshold`: what the scorer runs with when no rule file is given.
    public static func standard(reviewThreshold: Int) -> RuleSet {
        // The literal is built by us, so it parses.
        try! RuleParser.parse("""
            block if :risk_score: >= 95 and (:refund_unlinked: or :refund_card_mismatch:)
            review if :risk_score: >= \(reviewThreshold)
            """, file: "standard rules")
    }

    /// What the pipeline stage runs with when no rule file is given: a refund with no original sale,
    /// over its sale or to another card is held for a person; a tiny authorisation on a terminal with a burst of
    /// them, some declined (card testing, from the gateway feed), is reviewed; a keyed-in card rung up by a clerk who keyed
    /// in `clerkKeyedRun` or more within ±1 h (a keyed spike: numbers from a list; judged at batch close, when the ticket
    /// names its clerk) is reviewed; then the standard rules. Measured in docs/FRAUD.md ("Keyed spikes on busy days").
    public static func pipelineDefault(reviewThreshold: Int) -> RuleSet {
        // The literal is built by us, so it parses.
        try! RuleParser.parse("""
            review if :refund_unlinked:
            review if :refund_over_original:
            review if :refund_card_mismatch:
            review if :small_auth: and :terminal_small_auths_10m: >= \(GatewayFeed.cardTestingSmallAuths) and :terminal_declines_10m: >= \(GatewayFeed.cardTestingDeclines)
            block if :risk_score: >= 95 and (:refund_unlinked: or :refund_card_mismatch:)
            review if :keyed_entry: and :clerk_keyed_1h: >= \(clerkKeyedRun)
            review if :risk_score: >= \(reviewThreshold)
            """, file: "pipeline default rules")
    }

    /// Keyed-in cards by one clerk within ±1 h (the event itself included) that make a keyed spike: about one card in
    /// twenty-five is keyed and a store has many clerks, so an ordinary clerk keys in one or two an hour at most.
    public static let clerkKeyedRun = 4

    /// Everything a rule can look at for one event.
    public struct Context: Sendable {
        public var event: ScoredEvent
        public var features: FeatureVector
        public var score: RiskScore

        public init(event: ScoredEvent, features: FeatureVector, score: RiskScore) {
            self.event = event
            self.features = features
            self.score = score
        }
    }

    public func evaluate(_ context: Context) -> FraudDecision {
        let modelReasons = context.score.reasons.map { "\($0.text) (model)" }
        for action in [FraudAction.allow, .block] {
            for entry in lists where entry.action == action {
                if let value = listed(entry.subject, context.event), entry.values.contains(where: { value.contains($0) }) {
                    return FraudDecision(action: action, decidedBy: "\(action.rawValue) list (line \(entry.line))",
                                         reasons: ["\(entry.subject.rawValue) is on the \(action.rawValue) list"] + modelReasons,
                                         riskScore: context.score.value)
                }
            }
        }
        if let index = firstMatch(context) {
            let rule = rules[index]
            return FraudDecision(action: rule.action, decidedBy: rule.id, reasons: ["rule \(rule.id): \(rule.text)"] + modelReasons,
                                 riskScore: context.score.value)
        }
        return FraudDecision(action: .allow, decidedBy: nil, reasons: modelReasons, riskScore: context.score.value)
    }

    /// The index of the first rule that holds (lists not considered), for backtests.
    public func firstMatch(_ context: Context) -> Int? {
        rules.firstIndex { holds($0.condition, context) }
    }

    /// The spellings a list entry may match: a terminal by its id or `store/terminal`.
    private func listed(_ subject: ListEntry.Subject, _ event: ScoredEvent) -> [String]? {
        switch subject {
        case .card: return event.cardToken.map { [$0.rawValue] }
        case .terminal: return [event.terminal, "\(event.store)/\(event.terminal)"]
        case .clerk: return event.clerk.map { [$0] }
        case .store: return [event.store.rawValue]
        }
    }

    func holds(_ condition: Condition, _ context: Context) -> Bool {
        switch condition {
        case .and(let a, let b): return holds(a, context) && holds(b, context)
        case .or(let a, let b): return holds(a, context) || holds(b, context)
        case .not(let a): return !holds(a, context)
        case .truthy(let attribute): return number(.attribute(attribute), context) != 0
        case .compare(let left, let comparator, let right):
            if left.isNumeric {
                let (a, b) = (number(left, context), number(right, context))
                switch comparator {
                case .greater: return a > b
                case .greaterOrEqual: return a >= b
                case .less: return a < b
                case .lessOrEqual: return a <= b
                case .equal: return a == b
                case .notEqual: return a != b
                }
            }
            let (a, b) = (text(left, context), text(right, context))
            return comparator == .equal ? a == b : a != b
        }
    }

    private func number(_ operand: Operand, _ context: Context) -> Double {
        switch operand {
        case .number(let value): return value
        case .attribute(.riskScore): return Double(context.score.value)
        case .attribute(.feature(let feature)): return context.features[feature]
        case .attribute(.text), .text: return 0
        }
    }

    private func text(_ operand: Operand, _ context: Context) -> String {
        let event = context.event
        switch operand {
        case .text(let value): return value
        case .attribute(.text(let attribute)):
            switch attribute {
            case .kind: return event.kind.rawValue
            case .entryMode: return event.entryMode.rawValue
            case .tender: return event.tender.rawValue
            case .store: return event.store.rawValue
            case .terminal: return event.terminal
            case .clerk: return event.clerk ?? ""
            case .cardToken: return event.cardToken?.rawValue ?? ""
            }
        case .attribute, .number: return ""
        }
    }
}
