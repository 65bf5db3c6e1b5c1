import Foundation

/// Decimal's own description (`"\(value)"`, the same text), written from the significand's integer when it fits in 64
/// bits. Decimal writes its digits one long division by ten at a time: 22 % of heartland-sim's CPU serving a
/// 50,000-ticket batch's pages, 6 % of the transformer's reading them (issue 21). Zero, NaN and wider significands go
/// through the description.
public enum DecimalText {
    public static func text(_ value: Decimal) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    private static func write(_ value: Decimal, into out: inout String) {
        let significand = value.significand
        let integer = value.isNaN ? 0 : NSDecimalNumber(decimal: significand).uint64Value
        guard integer != 0, Decimal(integer) == significand else {
            out += "\(value)"
            return
        }
        let digits = String(integer)
        let exponent = value.exponent
        if value.sign == .minus { out += "-" }
        if exponent >= 0 {
            out += digits
            out += String(repeating: "0", count: exponent)
        } else if digits.utf8.count > -exponent {
            let point = digits.utf8.index(digits.utf8.endIndex, offsetBy: exponent)
            out += digits[..<point]
            out += "."
            out += digits[point...]
        } else {
            out += "0."
            out += String(repeating: "0", count: -exponent - digits.utf8.count)
            out += digits
        }
    }
}
