import Foundation

/// Money is stored and added as Int64 cents. These helpers only convert at the HTTP edge:
/// dollars as JSON decimals (Heartland Retail, Sage) or minor-unit strings (GP-API).
public enum Money {
    /// `1234` -> JSON number `12.34` (exact, via Decimal).
    public static func dollars(_ cents: Int64) -> JSONValue {
        .number(decimal(cents))
    }

    /// The same Decimal as `Decimal(cents) / 100` (the same value and digits: trailing zeros dropped, as the division's
    /// result is compacted), built without Decimal's long division: that was a third of heartland-sim's CPU serving a
    /// 10,000-ticket day's pages.
    public static func decimal(_ cents: Int64) -> Decimal {
        var significand = cents.magnitude, exponent = -2
        while exponent < 0, significand != 0, significand % 10 == 0 {
            significand /= 10
            exponent += 1
        }
        guard significand != 0 else { return Decimal(0) }
        return Decimal(sign: cents < 0 ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
    }

    /// `1234` -> `"1234"`, the GP-API minor-unit string.
    public static func minorUnits(_ cents: Int64) -> JSONValue {
        .string(String(cents))
    }

    /// Reads a dollar amount (number or numeric string). Nil when absent, not a number,
    /// or carrying fractions of a cent.
    public static func cents(fromDollars value: JSONValue?) -> Int64? {
        guard let decimal = value?.decimalValue else { return nil }
        return JSONValue.number(decimal * 100).int64Value
    }

    /// Reads a GP-API minor-unit amount (string or integer).
    public static func cents(fromMinorUnits value: JSONValue?) -> Int64? {
        value?.int64Value
    }

    /// `1234` -> `"12.34"`, for text files and messages.
    public static func text(_ cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
