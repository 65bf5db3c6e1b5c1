import BridgeClock
import DecimalText
import Foundation

/// An amount as Heartland sends it, kept as text until its currency is known: GP-API writes
/// minor-unit strings (`"1234"`), Heartland Retail and Payroll write dollars as JSON numbers
/// (`12.34`) and, in malformed payloads, strings (`"$12.34"`); both are accepted and repaired.
struct HeartlandAmount: Decodable {
    enum Unit { case minor, major }
    let text: String

    /// The amount whose text (as `init(from:)` keeps it) is `text`.
    init(text: String) {
        self.text = text
    }

    init(from decoder: any Decoder) throws {
        // A number first, as Heartland writes amounts: each kind tried in vain costs a DecodingError built and thrown, and a
        // day's tickets carry several amounts each (issue 21). Decimal reads every JSON number, whole or not, and keeps its
        // digits exactly (a Double would not): `24` → "24", `2.49` → "2.49", `-0` → "0", `1e2` → "100".
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Decimal.self) {
            text = DecimalText.text(number)
        } else {
            text = try container.decode(String.self)
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
