import Foundation

/// A customer as either side holds it, reduced to what matching needs.
public struct CustomerRecord: Sendable, Hashable {
    public var id: String
    public var firstName: String
    public var lastName: String
    public var email: String?
    public var phone: String?

    public init(id: String, firstName: String, lastName: String, email: String? = nil, phone: String? = nil) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phone = phone
    }
}

/// What to do with an incoming customer before creating it on the other side.
public enum CustomerMatch: Sendable, Equatable {
    /// The same person: update this record instead of creating a duplicate.
    case existing(id: String, confidence: Double, because: String)
    /// Probably the same person, but not certain enough to merge: a person decides.
    case review(candidates: [String], because: String)
    /// Nobody like them: create the record.
    case new
}

/// Finds the record an incoming customer already has on the other side, so that the sync updates it
/// instead of creating a duplicate. Evidence, strongest first:
///
/// 1. the same normalised e-mail (trimmed, case-insensitive);
/// 2. the same normalised phone (digits only, a US country code `1` stripped, extensions dropped);
/// 3. the names, compared with Jaro–Winkler on normalised first and last names (`nameThreshold`), as
///    the tie-breaker.
///
/// | contact evidence | first name | last name | decision |
/// |---|---|---|---|
/// | e-mail or phone | agrees | agrees | the same person (if they are the only such candidate) |
/// | e-mail or phone | agrees | differs | review (a married name? a typo?) |
/// | e-mail | differs | any | review (a couple's shared address?) |
/// | phone only | differs | any | not this record: another person of the household |
/// | none | any | any | not this record: a name alone never merges |
///
/// Two candidates, or one candidate to merge and another to review, go to review.
public struct CustomerMatcher: Sendable {
    public var nameThreshold: Double

    public init(nameThreshold: Double = 0.85) {
        self.nameThreshold = nameThreshold
    }

    public func match(_ incoming: CustomerRecord, among existing: [CustomerRecord]) -> CustomerMatch {
        let email = Self.normalisedEmail(incoming.email)
        let phone = Self.normalisedPhone(incoming.phone)
        var merges: [(id: String, confidence: Double, because: String)] = []
        var reviews: [(id: String, because: String)] = []
        for candidate in existing {
            let sameEmail = email != nil && email == Self.normalisedEmail(candidate.email)
            let samePhone = phone != nil && phone == Self.normalisedPhone(candidate.phone)
            guard sameEmail || samePhone else { continue }
            let first = Self.similarity(Self.normalisedName(incoming.firstName), Self.normalisedName(candidate.firstName))
            let last = Self.similarity(Self.normalisedName(incoming.lastName), Self.normalisedName(candidate.lastName))
            let contact = sameEmail && samePhone ? "e-mail and phone" : sameEmail ? "e-mail" : "phone"
            let detail = "same \(contact) as \(candidate.id), first-name similarity \(Self.format(first)), last-name \(Self.format(last))"
            switch (first >= nameThreshold, last >= nameThreshold) {
            case (true, true):
                merges.append((candidate.id, (first + last) / 2, detail))
            case (true, false):
                reviews.append((candidate.id, detail + ": last names differ"))
            case (false, _) where sameEmail:
                reviews.append((candidate.id, detail + ": first names differ"))
            case (false, _):
                continue  // a shared phone, another first name: another person of the household
            }
        }
        if merges.count == 1, reviews.isEmpty, let only = merges.first {
            return .existing(id: only.id, confidence: only.confidence, because: only.because)
        }
        let uncertain = merges.map { ($0.id, $0.because) } + reviews
        if !uncertain.isEmpty {
            return .review(candidates: uncertain.map(\.0), because: uncertain.map(\.1).joined(separator: "; "))
        }
        return .new
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    // MARK: normalisation

    public static func normalisedEmail(_ email: String?) -> String? {
        guard let trimmed = email?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased(), trimmed.contains("@") else { return nil }
        return trimmed
    }

    /// `(555) 010-1234`, `555.010.1234`, `+1 555 010 1234`, `555-010-1234 x12` → `5550101234`; nil when not 10 digits.
    public static func normalisedPhone(_ phone: String?) -> String? {
        guard var text = phone?.lowercased() else { return nil }
        for marker in ["ext", "x", "#"] {
            if let range = text.range(of: marker) { text = String(text[..<range.lowerBound]) }
        }
        var digits = text.filter(\.isASCII).filter(\.isNumber)
        if digits.count == 11, digits.first == "1" { digits.removeFirst() }
        return digits.count == 10 ? digits : nil
    }

    static func normalisedName(_ name: String) -> String {
        let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        return folded.filter { $0.isLetter || $0 == " " }.split(separator: " ").joined(separator: " ")
    }

    /// Jaro–Winkler similarity, 0…1.
    static func similarity(_ a: String, _ b: String) -> Double {
        let s = Array(a), t = Array(b)
        if s.isEmpty && t.isEmpty { return 1 }
        if s.isEmpty || t.isEmpty { return 0 }
        let window = max(0, max(s.count, t.count) / 2 - 1)
        var sMatched = [Bool](repeating: false, count: s.count), tMatched = [Bool](repeating: false, count: t.count)
        var matches = 0
        for i in s.indices {
            let lower = max(0, i - window), upper = min(t.count - 1, i + window)
            guard lower <= upper else { continue }
            for j in lower...upper where !tMatched[j] && s[i] == t[j] {
                sMatched[i] = true
                tMatched[j] = true
                matches += 1
                break
            }
        }
        guard matches > 0 else { return 0 }
        var transpositions = 0, j = 0
        for i in s.indices where sMatched[i] {
            while !tMatched[j] { j += 1 }
            if s[i] != t[j] { transpositions += 1 }
            j += 1
        }
        let m = Double(matches)
        let jaro = (m / Double(s.count) + m / Double(t.count) + (m - Double(transpositions) / 2) / m) / 3
        var prefix = 0
        while prefix < min(4, s.count, t.count), s[prefix] == t[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }
}
