/// An amount of money in minor units (cents) of one currency. Never a floating-point value:
/// amounts are parsed from text, only added, and every addition is overflow-checked.
public struct Money: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: CurrencyCode

    public init(minorUnits: Int64, currency: CurrencyCode) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: CurrencyCode) -> Money { Money(minorUnits: 0, currency: currency) }

    public var isZero: Bool { minorUnits == 0 }
    public var isNegative: Bool { minorUnits < 0 }

    /// Adds two amounts of the same currency; throws instead of wrapping or mixing currencies.
    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow("\(self) + \(other)") }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow("\(self) - \(other)") }
        return Money(minorUnits: difference, currency: currency)
    }

    public func negated() throws(MoneyError) -> Money {
        guard minorUnits != .min else { throw .overflow("-(\(self))") }
        return Money(minorUnits: -minorUnits, currency: currency)
    }

    /// The absolute amount; `Int64.min` has none and throws.
    public func magnitude() throws(MoneyError) -> Money {
        isNegative ? try negated() : self
    }

    public static func < (lhs: Money, rhs: Money) -> Bool {
        (lhs.currency.code, lhs.minorUnits) < (rhs.currency.code, rhs.minorUnits)
    }

    /// `12.50 USD`, `-0.03 USD`.
    public var description: String { "\(Money.decimalString(minorUnits)) \(currency.code)" }

    /// `1234` -> `12.34`, `-5` -> `-0.05`; exact for every `Int64`, two decimals.
    public static func decimalString(_ minorUnits: Int64) -> String {
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}

/// An ISO 4217 currency code, three upper-case letters.
public struct CurrencyCode: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The three letters' ASCII codes, the first in the lowest byte: every `Money` carries its currency, and a day's tickets
    /// hold a few hundred thousand amounts at once (4 bytes each, not a String's 16; issue 21).
    private let letters: UInt32

    public var code: String {
        withUnsafeBytes(of: letters.littleEndian) { String(decoding: $0.prefix(3), as: UTF8.self) }
    }

    public init(_ code: String) throws(MoneyError) {
        let upper = code.uppercased()
        guard upper.count == 3, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw .invalidCurrency(code)
        }
        letters = upper.utf8.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    public static let usd = try! CurrencyCode("USD")

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = try CurrencyCode(raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    public var description: String { code }
}

public enum MoneyError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidAmount(String, reason: String)
    case invalidCurrency(String)
    case currencyMismatch(CurrencyCode, CurrencyCode)
    case overflow(String)

    public var description: String {
        switch self {
        case .invalidAmount(let text, let reason):
            "amount \"\(text)\" is not a valid amount: \(reason)"
        case .invalidCurrency(let code):
            "currency \"\(code)\" is not a three-letter ISO 4217 code"
        case .currencyMismatch(let a, let b):
            "cannot combine amounts in \(a) and \(b)"
        case .overflow(let expression):
            "amount overflow: \(expression) does not fit in 64-bit minor units"
        }
    }
}
