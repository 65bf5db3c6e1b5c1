import Foundation

/// The forms in which a customer's e-mail and phone are compared and indexed: one spelling for every
/// way people write the same address or number.
public enum ContactKeys {
    /// ` Ava.Kim+shop@Example.COM\t` → `ava.kim@example.com`: no white space anywhere, lower case, the
    /// `+tag` of the mailbox dropped (it delivers to the same mailbox). Nil when it is not an address.
    public static func email(_ email: String?) -> String? {
        guard let email else { return nil }
        let compact = String(email.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) }).lowercased()
        let parts = compact.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains(".") else { return nil }
        let local = parts[0].split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !local.isEmpty else { return nil }
        return "\(local)@\(parts[1])"
    }

    /// A phone as the index keeps it:
    /// - a North American number, 10 digits (`(555) 010-1234`, `555.010.1234`, `+1 555 010 1234`, `1-555-010-1234`);
    /// - another country's number in international form, `+` and digits (`+44 (0)20 7946 0958`, `0044 20 7946 0958`
    ///   → `+442079460958`);
    /// - nil for anything else (a 7-digit local number has no area code: see `localNumber`).
    /// Extensions (`x12`, `ext. 7`, `#3`) are dropped.
    public static func phone(_ phone: String?) -> String? {
        guard var text = phone?.lowercased().trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        for marker in ["ext", "x", "#", ";"] {
            if let range = text.range(of: marker) { text = String(text[..<range.lowerBound]) }
        }
        // The trunk prefix written in brackets after a country code: `+44 (0)20…`.
        text = text.replacingOccurrences(of: "(0)", with: "")
        let international = text.hasPrefix("+") || text.hasPrefix("00")
        var digits = String(text.unicodeScalars.filter { $0.isASCII && CharacterSet.decimalDigits.contains($0) })
        if text.hasPrefix("00") { digits.removeFirst(2) }
        if international {
            if digits.hasPrefix("1") { return digits.count == 11 ? String(digits.dropFirst()) : nil }
            return (8...15).contains(digits.count) ? "+" + digits : nil
        }
        if digits.count == 11, digits.first == "1" { digits.removeFirst() }
        return digits.count == 10 ? digits : nil
    }

    /// The last seven digits of a North American number, or the seven digits of one written without
    /// its area code (`010-1234`): weaker evidence, compared only with a number that has no area code.
    public static func localNumber(_ phone: String?) -> String? {
        if let full = self.phone(phone) { return full.hasPrefix("+") ? nil : String(full.suffix(7)) }
        guard var text = phone?.lowercased() else { return nil }
        for marker in ["ext", "x", "#", ";"] {
            if let range = text.range(of: marker) { text = String(text[..<range.lowerBound]) }
        }
        guard !text.contains("+") else { return nil }
        let digits = String(text.unicodeScalars.filter { $0.isASCII && CharacterSet.decimalDigits.contains($0) })
        return digits.count == 7 ? digits : nil
    }

    /// What a review page shows of a raw e-mail: trimmed, tabs and runs of spaces gone.
    public static func shown(_ value: String?) -> String? {
        guard let value else { return nil }
        let compact = value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return compact.isEmpty ? nil : compact
    }
}
