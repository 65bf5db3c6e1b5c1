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
        var perRule = rules.rules.map { Line(label: "\($0.id): \($0.text)") }
        var perAction: [FraudAction: Line] = Dictionary(uniqueKeysWithValues: FraudAction.allCases.map { ($0, Line(label: $0.rawValue)) })
        for (labelled, assessment) in assessed {
            let context = RuleSet.Context(event: labelled.event, features: assessment.features, score: assessment.score)
            let isFraud = labelled.fraud != nil
            for (index, rule) in rules.rules.enumerated() where rules.holds(rule.condition, context) {
                perRule[index].matched += 1
                if isFraud { perRule[index].fraud += 1 }
            }
            let decision = rules.evaluate(context)
            perAction[decision.action]!.matched += 1
            if isFraud { perAction[decision.action]!.fraud += 1 }
        }
        return BacktestReport(perRule: perRule, perAction: perAction, events: assessed.count)
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
