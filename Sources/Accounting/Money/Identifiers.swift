/// Identifiers that are all strings and easy to mix up get their own types.
public protocol StringIdentifier: Hashable, Sendable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    var rawValue: String { get }
    init(_ rawValue: String)
}

extension StringIdentifier {
    public init(stringLiteral value: String) { self.init(value) }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A Heartland location (store), e.g. `1`.
public struct StoreID: StringIdentifier { public let rawValue: String; public init(_ rawValue: String) { self.rawValue = rawValue } }
/// A GP-API settlement batch, e.g. `BAT_20261127_01`.
public struct BatchID: StringIdentifier { public let rawValue: String; public init(_ rawValue: String) { self.rawValue = rawValue } }
/// A GP-API card transaction, e.g. `TRN_X1`.
public struct TransactionID: StringIdentifier { public let rawValue: String; public init(_ rawValue: String) { self.rawValue = rawValue } }
/// A Heartland Retail ticket, e.g. `1001`.
public struct TicketID: StringIdentifier { public let rawValue: String; public init(_ rawValue: String) { self.rawValue = rawValue } }
/// A Heartland Payroll run, e.g. `PR_20261127`.
public struct PayRunID: StringIdentifier { public let rawValue: String; public init(_ rawValue: String) { self.rawValue = rawValue } }
/// A Heartland Payroll employee, e.g. `EMP0101`.
public struct EmployeeID: StringIdentifier { public let rawValue: String; public init(_ rawValue: String) { self.rawValue = rawValue } }
/// A Sage GL account number, e.g. `1210`.
public struct AccountNumber: StringIdentifier { public let rawValue: String; public init(_ rawValue: String) { self.rawValue = rawValue } }
