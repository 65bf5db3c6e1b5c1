/// A parsed rule file: lists first, then ordered rules (see `RuleSet.evaluate` for the order).
public struct Rule: Sendable, Hashable {
    /// `line N` of the file, used in decisions and backtests.
    public var id: String { "line \(line)" }
    public var line: Int
    public var action: FraudAction
    public var condition: Condition
    /// The rule as written, for reasons and reports.
    public var text: String
}

/// An allow or block list entry (`allow terminal S01/101`, `block card VISA:424242******0005`).
public struct ListEntry: Sendable, Hashable {
    public enum Subject: String, Sendable, CaseIterable { case card, terminal, clerk, store }

    public var line: Int
    public var action: FraudAction
    public var subject: Subject
    public var values: Set<String>
}

/// What a rule may test: a feature (`:refund_unlinked:`), `:risk_score:`, or one of the event's
/// text attributes (`:kind:`, `:entry_mode:`, `:tender:`, `:store:`, `:terminal:`, `:clerk:`, `:card_token:`).
public enum Attribute: Sendable, Hashable {
    case feature(FeatureName)
    case riskScore
    case text(TextAttribute)

    public enum TextAttribute: String, Sendable, CaseIterable {
        case kind, entryMode = "entry_mode", tender, store, terminal, clerk, cardToken = "card_token"
    }

    init?(name: String) {
        if name == "risk_score" { self = .riskScore }
        else if let feature = FeatureName(rawValue: name) { self = .feature(feature) }
        else if let text = TextAttribute(rawValue: name) { self = .text(text) }
        else { return nil }
    }

    var isNumeric: Bool {
        if case .text = self { return false }
        return true
    }

    static var allNames: [String] {
        ["risk_score"] + FeatureName.allCases.map(\.rawValue) + TextAttribute.allCases.map(\.rawValue)
    }
}

public indirect enum Condition: Sendable, Hashable {
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
    /// A numeric attribute on its own: true when it is not 0.
    case truthy(Attribute)
    case compare(Operand, Comparator, Operand)
}

public enum Operand: Sendable, Hashable {
    case attribute(Attribute)
    case number(Double)
    case text(String)

    var isNumeric: Bool {
        switch self {
        case .attribute(let attribute): return attribute.isNumeric
        case .number: return true
        case .text: return false
        }
    }
}

public enum Comparator: String, Sendable, Hashable {
    case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", equal = "=", notEqual = "!="
}

/// A rule file that does not parse: where, and what is wrong.
public struct RuleSyntaxError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(file):\(line):\(column): \(message)" }
}
