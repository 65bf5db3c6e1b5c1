/// What a rule set would have done on stored history: per rule and per action counts, and, when the
/// history is labelled, how much of each was fraud.
public struct BacktestReport: Sendable {
    public struct Line: Sendable {
        public var label: String
        public var matched = 0
        public var fraud = 0
    }

    public var perRule: [Line]
    public var perAction: [FraudAction: Line]
    public var events: Int

    /// `perRule` counts every event a rule's condition holds for (not only where it decided), so a rule
    /// can be judged on its own; `perAction` counts the decisions in evaluation order.
    public static func run(_ rules: RuleSet, on assessed: [(LabelledEvent, Assessment)]) -> BacktestReport {
        var tally = BacktestTally(rules)
        for (labelled, assessment) in assessed { tally.add(labelled, features: assessment.features, score: assessment.score) }
        return tally.report
    }

    public func text() -> String {
        var lines = ["\(events) events", "", "per rule (events its condition holds for; of which labelled fraud):"]
        for line in perRule { lines.append("  \(pad(line.matched)) \(pad(line.fraud))  \(line.label)") }
        lines.append("")
        lines.append("per action (decisions in evaluation order; of which labelled fraud):")
        for action in FraudAction.allCases {
            let line = perAction[action]!
            lines.append("  \(pad(line.matched)) \(pad(line.fraud))  \(action.rawValue)")
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ n: Int) -> String {
        let text = String(n)
        return String(repeating: " ", count: max(0, 8 - text.count)) + text
    }
}

/// A rule set's `BacktestReport` filled one event at a time: what `BacktestReport.run` counts on a list of assessments,
/// without the list (a quarter of 40 stores is 800,000 sales; their assessments were most of a backtest's memory).
public struct BacktestTally: Sendable {
    public let rules: RuleSet
    public private(set) var report: BacktestReport

    public init(_ rules: RuleSet) {
        self.rules = rules
        report = BacktestReport(perRule: rules.rules.map { .init(label: "\($0.id): \($0.text)") },
                                perAction: Dictionary(uniqueKeysWithValues: FraudAction.allCases.map { ($0, .init(label: $0.rawValue)) }), events: 0)
    }

    public mutating func add(_ labelled: LabelledEvent, features: FeatureVector, score: RiskScore) {
        let context = RuleSet.Context(event: labelled.event, features: features, score: score)
        let isFraud = labelled.fraud != nil
        for (index, rule) in rules.rules.enumerated() where rules.holds(rule.condition, context) {
            report.perRule[index].matched += 1
            if isFraud { report.perRule[index].fraud += 1 }
        }
        let decision = rules.evaluate(context)
        report.perAction[decision.action]!.matched += 1
        if isFraud { report.perAction[decision.action]!.fraud += 1 }
        report.events += 1
    }
}
