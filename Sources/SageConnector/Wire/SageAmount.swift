import Foundation

/// Sage renders money as JSON decimals in dollars (`-110.25`); the bridge keeps Int64 cents.
/// Both directions go through decimal text, never `Double`, so no cent is ever lost.
public enum SageAmount {
    /// `-11025` -> `"-110.25"`.
    public static func text(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// `-11025` -> the exact `Decimal` -110.25, for JSON bodies.
    public static func decimal(cents: Int64) -> Decimal {
        // Decimal(string:) parses the digits exactly; every Int64 cents value fits its 38-digit mantissa.
        Decimal(string: text(cents: cents), locale: Locale(identifier: "en_US_POSIX"))!
    }

    /// The cents of a decimal dollar amount; nil when it has fractions of a cent or does not fit Int64.
    public static func cents(_ amount: Decimal) -> Int64? {
        cents(text: amount.description)
    }

    /// Parses `123`, `-0.5`, `12.340` (trailing zeros allowed) into cents; nil for anything else.
    public static func cents(text raw: String) -> Int64? {
        var text = Substring(raw.trimmingCharacters(in: .whitespaces))
        var negative = false
        if text.first == "-" || text.first == "+" {
            negative = text.first == "-"
            text = text.dropFirst()
        }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2 else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        while fraction.count > 2, fraction.last == "0" { fraction = fraction.dropLast() }
        guard fraction.count <= 2, (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber }), !(whole + fraction).isEmpty
        else { return nil }
        let paddedFraction = fraction + String(repeating: "0", count: 2 - fraction.count)
        var cents: Int64 = 0
        for digit in (whole + paddedFraction) {
            let value = Int64(digit.asciiValue! - 48)
            let (shifted, overflowA) = cents.multipliedReportingOverflow(by: 10)
            // Accumulate negatively so Int64.min cents is representable.
            let (next, overflowB) = shifted.subtractingReportingOverflow(value)
            guard !overflowA, !overflowB else { return nil }
            cents = next
        }
        if negative { return cents }
        return cents == Int64.min ? nil : -cents
    }
}
