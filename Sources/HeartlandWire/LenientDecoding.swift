import Foundation

/// How real Heartland payloads spell amounts: GP-API sends minor units ("1234" or 1234), Heartland
/// Retail and payroll send dollars (12.34 or "12.34"). Both are converted exactly to Int64 cents; a
/// value with a fraction of a cent, or no number at all, is a decoding error naming the field.
package enum AmountDecoding {
    package static func cents(minorUnits text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let value = Int64(trimmed) { return value }
        // "1234.00" is still a whole number of minor units.
        guard let decimal = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        return exactInt64(decimal)
    }

    package static func cents(dollars text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "$", with: "")
            .replacingOccurrences(of: ",", with: "")
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }),
            let decimal = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX"))
        else { return nil }
        return exactInt64(decimal * 100)
    }

    package static func cents(dollars decimal: Decimal) -> Int64? { exactInt64(decimal * 100) }

    /// The integer a Decimal holds, or nil when it has a fractional part or does not fit.
    package static func exactInt64(_ value: Decimal) -> Int64? {
        guard value.isFinite else { return nil }
        var source = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &source, 0, .plain)
        guard rounded == value, rounded >= Decimal(Int64.min), rounded <= Decimal(Int64.max) else { return nil }
        return Int64(rounded.description)
    }
}

extension KeyedDecodingContainer {
    /// A GP-API minor-unit amount (string or integer). Missing or null is zero only when `defaultZero`.
    package func decodeMinorUnits(_ key: Key, defaultZero: Bool = true) throws -> Int64 {
        if try decodeNil(key) { return try missing(key, defaultZero: defaultZero) }
        if let text = try? decode(String.self, forKey: key) {
            if text.isEmpty { return try missing(key, defaultZero: defaultZero) }
            guard let cents = AmountDecoding.cents(minorUnits: text) else { throw notAnAmount(key, text) }
            return cents
        }
        if let number = try? decode(Decimal.self, forKey: key), let cents = AmountDecoding.exactInt64(number) { return cents }
        throw notAnAmount(key, "a non-integer value")
    }

    /// A Heartland Retail / payroll dollar amount (JSON decimal or numeric string) in cents.
    package func decodeDollars(_ key: Key, defaultZero: Bool = true) throws -> Int64 {
        if try decodeNil(key) { return try missing(key, defaultZero: defaultZero) }
        if let text = try? decode(String.self, forKey: key) {
            if text.isEmpty { return try missing(key, defaultZero: defaultZero) }
            guard let cents = AmountDecoding.cents(dollars: text) else { throw notAnAmount(key, text) }
            return cents
        }
        if let number = try? decode(Decimal.self, forKey: key) {
            guard let cents = AmountDecoding.cents(dollars: number) else { throw notAnAmount(key, "\(number)") }
            return cents
        }
        throw notAnAmount(key, "a non-numeric value")
    }

    package func decodeOptionalDollars(_ key: Key) throws -> Int64? {
        try decodeNil(key) ? nil : try decodeDollars(key)
    }

    /// A string that some payloads send as a number (ids, codes).
    package func decodeLenientString(_ key: Key) throws -> String? {
        if try decodeNil(key) { return nil }
        if let text = try? decode(String.self, forKey: key) { return text }
        if let number = try? decode(Int64.self, forKey: key) { return String(number) }
        if let number = try? decode(Decimal.self, forKey: key) { return "\(number)" }
        if let flag = try? decode(Bool.self, forKey: key) { return String(flag) }
        return nil
    }

    /// An integer that some payloads send as a string.
    package func decodeLenientInt(_ key: Key) throws -> Int64? {
        if try decodeNil(key) { return nil }
        if let number = try? decode(Int64.self, forKey: key) { return number }
        if let text = try? decode(String.self, forKey: key) {
            guard let number = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(key.stringValue) \"\(text)\" is not an integer")
            }
            return number
        }
        if let number = try? decode(Decimal.self, forKey: key), let exact = AmountDecoding.exactInt64(number) { return exact }
        throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(key.stringValue) is not an integer")
    }

    package func decodeLenientBool(_ key: Key) throws -> Bool? {
        if try decodeNil(key) { return nil }
        if let flag = try? decode(Bool.self, forKey: key) { return flag }
        if let text = try? decode(String.self, forKey: key) {
            switch text.lowercased() {
            case "true", "yes", "y", "1": return true
            case "false", "no", "n", "0": return false
            default: return nil
            }
        }
        if let number = try? decode(Int64.self, forKey: key) { return number != 0 }
        return nil
    }

    package func decodeArray<T: Decodable>(_ type: T.Type, _ key: Key) throws -> [T] {
        try decodeIfPresent([T].self, forKey: key) ?? []
    }

    private func missing(_ key: Key, defaultZero: Bool) throws -> Int64 {
        guard defaultZero else {
            throw DecodingError.valueNotFound(Int64.self, .init(codingPath: codingPath + [key], debugDescription: "\(key.stringValue) is required"))
        }
        return 0
    }

    private func notAnAmount(_ key: Key, _ value: String) -> DecodingError {
        DecodingError.dataCorruptedError(
            forKey: key, in: self, debugDescription: "\(key.stringValue) \(value) is not an exact amount in cents")
    }
}

extension KeyedDecodingContainer {
    /// `decodeNil` throws for a missing key; treat missing as nil.
    package func decodeNil(_ key: Key) throws -> Bool {
        guard contains(key) else { return true }
        return try decodeNil(forKey: key)
    }
}

/// Coding keys from any string, so wire types can read snake_case and PascalCase fields.
package struct AnyKey: CodingKey {
    package let stringValue: String
    package var intValue: Int? { nil }
    package init(_ string: String) { stringValue = string }
    package init?(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == AnyKey {
    package subscript(_ name: String) -> AnyKey { AnyKey(name) }
}
