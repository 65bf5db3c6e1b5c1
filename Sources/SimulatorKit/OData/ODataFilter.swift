import BridgeClock
import Foundation

/// A parsed OData `$filter`: comparisons (`eq ne gt ge lt le`), `and`, `or`, `not`, parentheses
/// and `startswith/endswith/contains(Field,'text')`, evaluated against JSON entities.
public indirect enum ODataFilter: Sendable, Equatable {
    case compare(field: String, op: String, literal: JSONValue)
    case function(name: String, field: String, text: String)
    case and(ODataFilter, ODataFilter)
    case or(ODataFilter, ODataFilter)
    case not(ODataFilter)

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws -> ODataFilter {
        var parser = Parser(tokens: try tokenize(text))
        let filter = try parser.parseOr()
        guard parser.atEnd else { throw ParseError(description: "unexpected '\(parser.peek ?? "")' in $filter") }
        return filter
    }

    public func matches(_ entity: JSONValue) -> Bool {
        switch self {
        case .and(let l, let r): return l.matches(entity) && r.matches(entity)
        case .or(let l, let r): return l.matches(entity) || r.matches(entity)
        case .not(let inner): return !inner.matches(entity)
        case .function(let name, let field, let text):
            guard let value = ODataFilter.lookup(field, in: entity)?.stringValue else { return false }
            switch name {
            case "startswith": return value.hasPrefix(text)
            case "endswith": return value.hasSuffix(text)
            default: return value.contains(text)
            }
        case .compare(let field, let op, let literal):
            let value = ODataFilter.lookup(field, in: entity) ?? .null
            let order = ODataFilter.compare(value, literal)
            switch op {
            case "eq": return order == .orderedSame
            case "ne": return order != .orderedSame
            case "gt": return order == .orderedDescending
            case "ge": return order == .orderedDescending || order == .orderedSame
            case "lt": return order == .orderedAscending
            default: return order == .orderedAscending || order == .orderedSame
            }
        }
    }

    static func lookup(_ path: String, in entity: JSONValue) -> JSONValue? {
        var current: JSONValue? = entity
        for part in path.split(separator: "/") { current = current?[String(part)] }
        return current
    }

    /// Nil when the two cannot be ordered (e.g. null against a value).
    static func compare(_ a: JSONValue, _ b: JSONValue) -> ComparisonResult? {
        switch (a, b) {
        case (.null, .null): return .orderedSame
        case (.null, _), (_, .null): return nil
        case (.number(let x), .number(let y)): return x == y ? .orderedSame : (x < y ? .orderedAscending : .orderedDescending)
        case (.bool(let x), .bool(let y)): return x == y ? .orderedSame : nil
        default:
            guard let x = a.stringValue, let y = b.stringValue else { return nil }
            if x.contains("T"), y.contains("T"), let dx = Timestamps.parse(x), let dy = Timestamps.parse(y) {
                return dx == dy ? .orderedSame : (dx < dy ? .orderedAscending : .orderedDescending)
            }
            return x == y ? .orderedSame : (x < y ? .orderedAscending : .orderedDescending)
        }
    }

    static func tokenize(_ text: String) throws -> [String] {
        var tokens: [String] = []
        var chars = Array(text)[...]
        while let c = chars.first {
            if c == " " { chars.removeFirst(); continue }
            if c == "(" || c == ")" || c == "," { tokens.append(String(c)); chars.removeFirst(); continue }
            if c == "'" {
                chars.removeFirst()
                var literal = "'"
                while true {
                    guard let next = chars.popFirst() else { throw ParseError(description: "unterminated string in $filter") }
                    if next == "'" {
                        if chars.first == "'" { chars.removeFirst(); literal.append("'"); continue }
                        break
                    }
                    literal.append(next)
                }
                tokens.append(literal)
                continue
            }
            var word = ""
            while let next = chars.first, !" (),'".contains(next) { word.append(next); chars.removeFirst() }
            tokens.append(word)
        }
        return tokens
    }

    struct Parser {
        var tokens: [String]
        var index = 0
        var atEnd: Bool { index >= tokens.count }
        var peek: String? { atEnd ? nil : tokens[index] }

        mutating func next() throws -> String {
            guard let token = peek else { throw ParseError(description: "$filter ends too early") }
            index += 1
            return token
        }

        mutating func expect(_ token: String) throws {
            let found = try next()
            guard found == token else { throw ParseError(description: "expected '\(token)' but found '\(found)' in $filter") }
        }

        mutating func parseOr() throws -> ODataFilter {
            var left = try parseAnd()
            while peek?.lowercased() == "or" { index += 1; left = .or(left, try parseAnd()) }
            return left
        }

        mutating func parseAnd() throws -> ODataFilter {
            var left = try parseUnary()
            while peek?.lowercased() == "and" { index += 1; left = .and(left, try parseUnary()) }
            return left
        }

        mutating func parseUnary() throws -> ODataFilter {
            let token = try next()
            if token.lowercased() == "not" { return .not(try parseUnary()) }
            if token == "(" {
                let inner = try parseOr()
                try expect(")")
                return inner
            }
            let lowered = token.lowercased()
            if ["startswith", "endswith", "contains"].contains(lowered), peek == "(" {
                try expect("(")
                let field = try next()
                try expect(",")
                let literal = try next()
                try expect(")")
                guard literal.hasPrefix("'") else { throw ParseError(description: "\(lowered) needs a string literal") }
                return .function(name: lowered, field: field, text: String(literal.dropFirst()))
            }
            let op = try next().lowercased()
            guard ["eq", "ne", "gt", "ge", "lt", "le"].contains(op) else {
                throw ParseError(description: "unsupported operator '\(op)' in $filter")
            }
            return .compare(field: token, op: op, literal: ODataFilter.literal(try next()))
        }
    }

    static func literal(_ token: String) -> JSONValue {
        if token.hasPrefix("'") { return .string(String(token.dropFirst())) }
        switch token.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default:
            if let d = Decimal(string: token), token.first.map({ $0.isNumber || $0 == "-" }) == true,
                !token.contains("T"), token.filter({ $0 == "-" }).count <= 1
            {
                return .number(d)
            }
            return .string(token)  // bare datetime such as 2026-01-31T00:00:00Z
        }
    }
}
