import BridgeClock
import Foundation

/// An amount as Heartland sends it, kept as text until its currency is known: GP-API writes
/// minor-unit strings (`"1234"`), Heartland Retail and Payroll write dollars as JSON numbers
/// (`12.34`) and, in malformed payloads, strings (`"$12.34"`); both are accepted and repaired.
struct HeartlandAmount: Decodable {
    enum Unit { case minor, major }
    let text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else {
            // Decimal keeps the JSON number's digits exactly (a Double would not).
            text = "\(try container.decode(Decimal.self))"
        }
    }

    /// Minor-unit text (`"1234"`) or, when it has a decimal point, major units.
    func money(_ unit: Unit, currency: CurrencyCode, field: String, record: String) throws(HeartlandDataError) -> Money {
        do {
            if unit == .minor, !text.contains(".") {
                return try Money.parseMinorUnits(text, currency: currency)
            }
            return try Money.parse(text, currency: currency)
        } catch {
            throw HeartlandDataError(record: record, field: field, problem: error.description)
        }
    }
}

/// Heartland data that cannot be repaired into the domain model: a permanent error.
public struct HeartlandDataError: Error, Equatable, Sendable, CustomStringConvertible {
    public var record: String
    public var field: String
    public var problem: String

    public init(record: String, field: String, problem: String) {
        self.record = record
        self.field = field
        self.problem = problem
    }

    public var description: String {
        "\(record): field \(field): \(problem); the record cannot be repaired, fix it in Heartland and replay"
    }
}

enum HeartlandTimestamp {
    /// RFC 3339 with or without fractional seconds.
    static func parse(_ text: String, field: String, record: String) throws(HeartlandDataError) -> Date {
        if let date = Timestamps.instant(text) { return date }
        throw HeartlandDataError(record: record, field: field, problem: "\"\(text)\" is not an RFC 3339 timestamp")
    }
}
