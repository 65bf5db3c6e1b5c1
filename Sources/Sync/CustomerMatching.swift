import Foundation
import SyncContracts

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
/// instead of creating a duplicate. Contact details are the evidence, names decide what it means:
///
/// 1. the same e-mail (`ContactKeys.email`: no spaces, any case, without a `+tag`);
/// 2. the same phone (`ContactKeys.phone`: 10 digits for North America, `+<digits>` for other countries);
/// 3. the same local number (`ContactKeys.localNumber`), when one side wrote it without its area code;
/// 4. the names (`PersonName`: `Brown, Michael` is `Michael Brown`; honorifics, middle names and degrees
///    do not count; a known nickname or a fitting initial agrees), compared with Jaro–Winkler
///    (`nameThreshold`) whichever order they were written in.
///
/// | contact evidence | first name | last name | decision |
/// |---|---|---|---|
/// | any | agrees | agrees | the same person (unless only one of them is `Jr.`/`Sr.`: review) |
/// | e-mail or phone | agrees | differs | review (a married name? a typo?) |
/// | e-mail | differs | any | review (a couple's shared address?) — unless another candidate is the same person |
/// | phone only | differs | any | not this record: another person of the household |
/// | none | any | any | not this record: a name alone never merges |
///
/// Several candidates that are each the same person (a customer entered twice on the other side)
/// give the one with the strongest evidence; a candidate to merge beside one whose last name differs
/// goes to review.
public struct CustomerMatcher: Sendable {
    public var nameThreshold: Double

    public init(nameThreshold: Double = 0.85) {
        self.nameThreshold = nameThreshold
    }

    /// The contact evidence one record gives about another.
    public struct Evidence: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let email = Evidence(rawValue: 1)
        public static let phone = Evidence(rawValue: 2)
        public static let localNumber = Evidence(rawValue: 4)

        var weight: Int { (contains(.email) ? 4 : 0) + (contains(.phone) ? 3 : 0) + (contains(.localNumber) ? 1 : 0) }

        var description: String {
            var parts: [String] = []
            if contains(.email) { parts.append("e-mail") }
            if contains(.phone) { parts.append("phone") }
            if contains(.localNumber) { parts.append("local number") }
            return parts.joined(separator: " and ")
        }
    }

    public static func evidence(_ a: CustomerRecord, _ b: CustomerRecord) -> Evidence {
        var found: Evidence = []
        if let email = ContactKeys.email(a.email), email == ContactKeys.email(b.email) { found.insert(.email) }
        let phoneA = ContactKeys.phone(a.phone), phoneB = ContactKeys.phone(b.phone)
        if let phoneA, phoneA == phoneB { found.insert(.phone) }
        if phoneA == nil || phoneB == nil, let local = ContactKeys.localNumber(a.phone), local == ContactKeys.localNumber(b.phone) {
            found.insert(.localNumber)
        }
        return found
    }

    public func match(_ incoming: CustomerRecord, among existing: [CustomerRecord]) -> CustomerMatch {
        let name = incoming.name
        var merges: [(id: String, score: Double, because: String)] = []
        var reviews: [(id: String, because: String)] = []
        var others: [(id: String, because: String)] = []
        for candidate in existing {
            let evidence = Self.evidence(incoming, candidate)
            guard !evidence.isEmpty else { continue }
            let names = NameAgreement.between(name, candidate.name)
            let first = names.suffixConflict ? 0 : names.first
            let detail = "same \(evidence.description) as \(candidate.id), first-name similarity \(Self.format(names.first)), "
                + "last-name \(Self.format(names.last))"
            switch (first >= nameThreshold, names.last >= nameThreshold) {
            case (true, true) where names.suffixOnOneSide:
                reviews.append((candidate.id, detail + ": only one of them is Jr./Sr."))
            case (true, true):
                merges.append((candidate.id, Double(evidence.weight) + (first + names.last) / 2, detail))
            case (true, false) where evidence != .localNumber:
                reviews.append((candidate.id, detail + ": last names differ"))
            case (false, _) where evidence.contains(.email):
                others.append((candidate.id, detail + (names.suffixConflict ? ": Jr. and Sr." : ": first names differ")))
            default:
                continue  // a shared phone, another first name: another person of the household
            }
        }
        // Another person who shares the e-mail does not stand in the way of the one who is the same person.
        if reviews.isEmpty, let best = merges.max(by: { ($0.score, $1.id) < ($1.score, $0.id) }) {
            let alternatives = merges.filter { $0.id != best.id }.map(\.id)
            let because = best.because + (alternatives.isEmpty ? "" : " (strongest of \(merges.count) records of this person: also \(alternatives.joined(separator: ", ")))")
            return .existing(id: best.id, confidence: best.score, because: because)
        }
        let uncertain = merges.map { ($0.id, $0.because) } + reviews + others
        if !uncertain.isEmpty {
            return .review(candidates: uncertain.map(\.0), because: uncertain.map(\.1).joined(separator: "; "))
        }
        return .new
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    // MARK: normalisation (kept for callers of the first version)

    public static func normalisedEmail(_ email: String?) -> String? { ContactKeys.email(email) }

    public static func normalisedPhone(_ phone: String?) -> String? { ContactKeys.phone(phone) }

    /// Jaro–Winkler similarity, 0…1.
    static func similarity(_ a: String, _ b: String) -> Double { JaroWinkler.similarity(a, b) }
}
