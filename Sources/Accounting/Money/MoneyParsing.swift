extension Money {
    /// Parses a decimal amount in major units as Heartland writes it: `12.50`, `12.5`, `12`,
    /// `$1,234.56`, `-3.00`, `(3.00)`, ` 7.10 `. More than two decimals, stray characters,
    /// misplaced grouping commas and values beyond `Int64` cents are rejected, never rounded.
    public static func parse(_ text: String, currency: CurrencyCode) throws(MoneyError) -> Money {
        if let cents = plainCents(text) { return Money(minorUnits: cents, currency: currency) }
        return try parseAnySpelling(text, currency: currency)
    }

    /// The cents of `text` when it is spelled plainly, as Heartland's JSON numbers are (`-?digits(.d{0,2})?`, ASCII, at
    /// most 15 whole digits, so no overflow): read from its bytes, with no string built. A day's tickets carry several
    /// amounts each; the general reading cost a tenth of the transformer's time (issue 21). Nil: `parseAnySpelling` decides.
    static func plainCents(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { bytes -> Int64? in
            let zero = UInt8(ascii: "0")
            var index = 0
            let negative = bytes.first == UInt8(ascii: "-")
            if negative { index += 1 }
            var whole: Int64 = 0, wholeDigits = 0
            while index < bytes.count, bytes[index] &- zero < 10 {
                guard wholeDigits < 15 else { return nil }
                whole = whole * 10 + Int64(bytes[index] &- zero)
                wholeDigits += 1
                index += 1
            }
            var fraction: Int64 = 0, fractionDigits = 0
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                while index < bytes.count, bytes[index] &- zero < 10 {
                    guard fractionDigits < 2 else { return nil }
                    fraction = fraction * 10 + Int64(bytes[index] &- zero)
                    fractionDigits += 1
                    index += 1
                }
            }
            guard index == bytes.count, wholeDigits + fractionDigits > 0 else { return nil }
            let cents = whole * 100 + (fractionDigits == 1 ? fraction * 10 : fraction)
            return negative ? -cents : cents
        }
    }

    /// Every spelling `parse` takes, read character by character.
    static func parseAnySpelling(_ text: String, currency: CurrencyCode) throws(MoneyError) -> Money {
        var body = Substring(text.trimmingWhitespace())
        guard !body.isEmpty else { throw .invalidAmount(text, reason: "it is empty") }
        var negative = false
        if body.hasPrefix("("), body.hasSuffix(")") {
            negative = true
            body = body.dropFirst().dropLast()
        }
        if body.hasPrefix("-") {
            guard !negative else { throw .invalidAmount(text, reason: "it has two signs") }
            negative = true
            body = body.dropFirst()
        } else if body.hasPrefix("+") {
            body = body.dropFirst()
        }
        if body.hasPrefix("$") { body = body.dropFirst() }
        if !negative, body.hasPrefix("-") {
            negative = true
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw .invalidAmount(text, reason: "it has more than one decimal point") }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty else { throw .invalidAmount(text, reason: "it has no digits") }
        guard fraction.count <= 2 else {
            throw .invalidAmount(text, reason: "it has fractions of a cent (\(fraction.count) decimals)")
        }
        guard fraction.allSatisfy(\.isASCIIDigit) else { throw .invalidAmount(text, reason: "\"\(fraction)\" is not a number of cents") }
        let digits = try groupedDigits(whole, text: text)
        var cents: Int64 = 0
        for digit in (digits + fraction + String(repeating: "0", count: 2 - fraction.count)) {
            let (times10, o1) = cents.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(digit.wholeNumberValue!))
            guard !o1, !o2 else { throw .overflow("\"\(text)\"") }
            cents = next
        }
        return Money(minorUnits: negative ? -cents : cents, currency: currency)
    }

    /// Parses an integer amount in minor units, as GP-API writes it (`"1234"` = 12.34).
    public static func parseMinorUnits(_ text: String, currency: CurrencyCode) throws(MoneyError) -> Money {
        let trimmed = text.trimmingWhitespace()
        guard let value = Int64(trimmed) else {
            let allDigits = trimmed.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isASCIIDigit)
            if allDigits, !trimmed.isEmpty { throw .overflow("\"\(text)\" minor units") }
            throw .invalidAmount(text, reason: "it is not a whole number of minor units")
        }
        return Money(minorUnits: value, currency: currency)
    }

    /// `1,234` -> `1234`; commas must separate groups of three.
    private static func groupedDigits(_ whole: Substring, text: String) throws(MoneyError) -> String {
        guard whole.contains(",") else {
            guard whole.allSatisfy(\.isASCIIDigit) else { throw .invalidAmount(text, reason: "\"\(whole)\" is not a number") }
            return String(whole)
        }
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        guard let first = groups.first, (1...3).contains(first.count),
              groups.dropFirst().allSatisfy({ $0.count == 3 }),
              groups.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) })
        else { throw .invalidAmount(text, reason: "its thousands separators are misplaced") }
        return groups.joined()
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[start...end]))
    }
}
