import Foundation

/// A customer's name as people write it — `Brown, Michael`, `Dr. Michael J. Brown Jr.`, `Michael Brown`,
/// `Acme Supply Co.` — read into its parts, so that two spellings of one name compare equal whatever
/// their order. Sage keeps one `CustomerName`; Heartland a first and a last name, which clerks fill in
/// just as loosely (`Brown,` as a first name, the whole name in the first field).
///
/// The normalised parts (`given`, `middle`, `family`, `suffix`, `companyKey`) are lower case, without
/// diacritics or punctuation; `first` and `last` keep the writer's spelling for the other side's fields.
public struct PersonName: Sendable, Hashable {
    /// The first given name (normalised), or "".
    public var given = ""
    /// Middle names and initials (normalised).
    public var middle: [String] = []
    /// The family name with its particles (`van der berg`), normalised, or "".
    public var family = ""
    /// `jr`, `sr`, `ii`, `iii`, `iv`.
    public var suffix: String?
    /// A company rather than a person: the normalised name without its legal form (`acme supply`).
    public var companyKey: String?
    /// For the other side's first-name field: the given and middle names as written (no honorific).
    public var first = ""
    /// For the other side's last-name field: the family name and suffix as written (a company's whole name).
    public var last = ""

    public var isCompany: Bool { companyKey != nil }

    package static let honorifics: Set<String> = ["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "mme", "mlle", "fr"]
    package static let suffixes: Set<String> = ["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "dds", "cpa"]
    /// Suffixes that tell two people of one family apart (a degree does not).
    package static let generational: Set<String> = ["jr", "sr", "ii", "iii", "iv"]
    package static let particles: Set<String> = ["van", "von", "der", "den", "de", "la", "le", "del", "della", "da", "di", "du", "dos", "das", "st", "ter", "ten", "bin", "ibn", "al"]
    package static let legalForms: Set<String> = ["inc", "llc", "ltd", "co", "corp", "corporation", "company", "gmbh", "plc", "llp", "lp", "pllc",
                                          "incorporated", "limited", "ag", "bv", "pty", "sarl"]

    /// A name written in one field (Sage's `CustomerName`).
    public static func parse(_ written: String) -> PersonName {
        let text = written.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if let company = companyKey(text) {
            return PersonName(companyKey: company, first: "", last: text)
        }
        var suffix: String?
        // `Brown, Michael`, `Brown, Michael J., Jr.`, `Michael Brown, Jr.`: parts that are only a suffix or a title are set aside.
        var parts: [String] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let key = normalised(part)
            if suffixes.contains(key) { suffix = suffix ?? key; continue }
            if honorifics.contains(key) { continue }
            parts.append(part)
        }
        if parts.count >= 2 {
            // Last, First [Middle]
            var given = words(parts[1...].joined(separator: " "))
            given = dropHonorifics(given)
            if let last = given.last, suffixes.contains(normalised(last)) { suffix = suffix ?? normalised(last); given.removeLast() }
            var family = dropHonorifics(words(parts[0]))
            if let last = family.last, suffixes.contains(normalised(last)), family.count > 1 { suffix = suffix ?? normalised(last); family.removeLast() }
            return person(given: given, family: family, suffix: suffix)
        }
        var tokens = dropHonorifics(words(parts.first ?? ""))
        while tokens.count > 1, let last = tokens.last, suffixes.contains(normalised(last)) {
            suffix = suffix ?? normalised(last)
            tokens.removeLast()
        }
        guard tokens.count > 1 else { return person(given: tokens, family: [], suffix: suffix) }
        // The family name starts at its particles: `Ana de la Cruz`, `Jan van der Berg`.
        var start = tokens.count - 1
        while start > 1, particles.contains(normalised(tokens[start - 1])) { start -= 1 }
        return person(given: Array(tokens[..<start]), family: Array(tokens[start...]), suffix: suffix)
    }

    /// A name kept in two fields (Heartland's first and last name). A comma, or an empty field beside
    /// a field of several words, means the whole name was written in one place: it is parsed as written.
    public static func from(first: String, last: String) -> PersonName {
        let f = first.trimmingCharacters(in: .whitespacesAndNewlines), l = last.trimmingCharacters(in: .whitespacesAndNewlines)
        if f.contains(",") || l.contains(",") || f.isEmpty || l.isEmpty || companyKey("\(f) \(l)") != nil {
            return parse([f, l].filter { !$0.isEmpty }.joined(separator: " "))
        }
        var given = dropHonorifics(words(f))
        var family = words(l)
        var suffix: String?
        while family.count > 1, let end = family.last, suffixes.contains(normalised(end)) {
            suffix = suffix ?? normalised(end)
            family.removeLast()
        }
        if given.count > 1, let end = given.last, suffixes.contains(normalised(end)) {
            suffix = suffix ?? normalised(end)
            given.removeLast()
        }
        return person(given: given, family: family, suffix: suffix)
    }

    private static func person(given: [String], family: [String], suffix: String?) -> PersonName {
        let givenKeys = given.map(normalised).filter { !$0.isEmpty }
        var name = PersonName()
        name.given = givenKeys.first ?? ""
        name.middle = Array(givenKeys.dropFirst())
        name.family = family.map(normalised).filter { !$0.isEmpty }.joined(separator: " ")
        name.suffix = suffix
        name.first = given.joined(separator: " ")
        name.last = (family + (suffix.map { [display(suffix: $0)] } ?? [])).joined(separator: " ")
        return name
    }

    private static func display(suffix: String) -> String {
        switch suffix {
        case "jr": return "Jr."
        case "sr": return "Sr."
        case "phd": return "PhD"
        case "md": return "MD"
        case "esq": return "Esq."
        default: return suffix.uppercased()
        }
    }

    private static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isWhitespace }).map(String.init).filter { !normalised($0).isEmpty }
    }

    private static func dropHonorifics(_ tokens: [String]) -> [String] {
        var rest = tokens[...]
        while rest.count > 1, let first = rest.first, honorifics.contains(normalised(first)) { rest.removeFirst() }
        return Array(rest)
    }

    /// The normalised name of a company without its legal form, or nil for a person.
    package static func companyKey(_ text: String) -> String? {
        let tokens = text.replacingOccurrences(of: "&", with: " & ").split(whereSeparator: { $0.isWhitespace || $0 == "," })
            .map { normalised(String($0)) }.filter { !$0.isEmpty || false }
        let isCompany = text.contains("&") || tokens.contains(where: legalForms.contains)
        guard isCompany, tokens.count > 1 || text.contains("&") else { return nil }
        let kept = tokens.filter { !legalForms.contains($0) && !$0.isEmpty && $0 != "the" && $0 != "and" }
        return kept.joined(separator: " ")
    }

    /// Lower case, no diacritics, letters only: `O'Brien` → `obrien`, `José` → `jose`.
    public static func normalised(_ word: String) -> String {
        word.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX"))
            .lowercased().filter { $0.isLetter }
    }

    /// Every part, in a form that does not depend on the order it was written in: for logs and review pages.
    public var key: String {
        if let companyKey { return companyKey }
        return ([given] + middle + [family]).filter { !$0.isEmpty }.sorted().joined(separator: " ") + (suffix.map { " " + $0 } ?? "")
    }
}

/// How far two names agree, part by part, whichever order each was written in.
public struct NameAgreement: Sendable, Equatable {
    /// Similarity (0…1) of the given names (1 for a known nickname; 0.9 for an initial that fits).
    public var first: Double
    /// Similarity (0…1) of the family names (1 when one family name is part of the other's names).
    public var last: Double
    /// Both carry a generational suffix and they differ (`Jr.` and `Sr.`): two people.
    public var suffixConflict: Bool
    /// Only one of them carries a generational suffix: perhaps a father and his son.
    public var suffixOnOneSide: Bool

    public static func between(_ a: PersonName, _ b: PersonName) -> NameAgreement {
        let suffixA = a.suffix.flatMap { PersonName.generational.contains($0) ? $0 : nil }
        let suffixB = b.suffix.flatMap { PersonName.generational.contains($0) ? $0 : nil }
        let conflict = suffixA != nil && suffixB != nil && suffixA != suffixB
        let oneSided = (suffixA == nil) != (suffixB == nil)
        if a.isCompany || b.isCompany {
            let s = JaroWinkler.similarity(a.companyKey ?? a.key, b.companyKey ?? b.key)
            return NameAgreement(first: s, last: s, suffixConflict: false, suffixOnOneSide: false)
        }
        let straight = (given(a.given, b.given), family(a, b))
        // Written the other way round (`Kim Ava` for `Ava Kim`): the given name of one is the family name of the other.
        let swapped = (given(a.given, b.family), given(a.family, b.given))
        let best = swapped.0 + swapped.1 > straight.0 + straight.1 + 0.0001 ? swapped : straight
        return NameAgreement(first: best.0, last: best.1, suffixConflict: conflict, suffixOnOneSide: oneSided)
    }

    package static func given(_ a: String, _ b: String) -> Double {
        if a.isEmpty || b.isEmpty { return a == b ? 1 : 0 }
        if a == b || Nicknames.same(a, b) { return 1 }
        if (a.count == 1 || b.count == 1), a.first == b.first { return 0.9 }
        return JaroWinkler.similarity(a, b)
    }

    package static func family(_ a: PersonName, _ b: PersonName) -> Double {
        if a.family.isEmpty || b.family.isEmpty { return a.family == b.family ? 1 : 0 }
        let direct = JaroWinkler.similarity(a.family, b.family)
        // `Garcia Lopez` and `Garcia`, or `Garcia` kept as a middle name: one family name inside the other's names.
        let namesA = Set(a.family.split(separator: " ").map(String.init) + a.middle)
        let namesB = Set(b.family.split(separator: " ").map(String.init) + b.middle)
        let familyA = Set(a.family.split(separator: " ").map(String.init)).subtracting(PersonName.particles)
        let familyB = Set(b.family.split(separator: " ").map(String.init)).subtracting(PersonName.particles)
        if !familyA.isEmpty && familyA.isSubset(of: namesB) || !familyB.isEmpty && familyB.isSubset(of: namesA) { return max(direct, 1) }
        // `de la Cruz` and `Delacruz`, `Smith-Jones` and `Smith Jones`.
        let joinedA = a.family.replacingOccurrences(of: " ", with: ""), joinedB = b.family.replacingOccurrences(of: " ", with: "")
        return max(direct, JaroWinkler.similarity(joinedA, joinedB))
    }
}

/// Common English given names and their short forms: `Bob` is `Robert`, `Liz` is `Elizabeth`.
package enum Nicknames {
    package static let groups: [[String]] = [
        ["robert", "rob", "bob", "bobby", "robbie", "bert"], ["william", "will", "bill", "billy", "liam", "willy"],
        ["richard", "rick", "ricky", "dick", "rich", "richie"], ["michael", "mike", "mikey", "mick", "mickey"],
        ["james", "jim", "jimmy", "jamie"], ["john", "jack", "johnny", "jon"], ["jonathan", "jon", "jonny", "nathan"],
        ["joseph", "joe", "joey"], ["thomas", "tom", "tommy"], ["charles", "charlie", "chuck", "chas"],
        ["christopher", "chris", "kit"], ["daniel", "dan", "danny"], ["david", "dave", "davey"], ["edward", "ed", "eddie", "ted", "ned"],
        ["anthony", "tony"], ["andrew", "andy", "drew"], ["matthew", "matt"], ["nicholas", "nick", "nicky"], ["steven", "steve"],
        ["stephen", "steve"], ["benjamin", "ben", "benny"], ["samuel", "sam", "sammy"], ["alexander", "alex", "al", "sandy"],
        ["gregory", "greg"], ["patrick", "pat", "paddy"], ["peter", "pete"], ["timothy", "tim", "timmy"], ["kenneth", "ken", "kenny"],
        ["ronald", "ron", "ronnie"], ["donald", "don", "donnie"], ["lawrence", "larry"], ["gerald", "jerry"], ["jeffrey", "jeff"],
        ["elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "libby", "betsy"], ["margaret", "maggie", "meg", "peggy", "marge", "greta"],
        ["katherine", "kate", "kathy", "katie", "kat", "kitty"], ["catherine", "cathy", "kate", "katie", "cat"],
        ["jennifer", "jen", "jenny"], ["jessica", "jess", "jessie"], ["patricia", "pat", "patty", "trish", "tricia"],
        ["susan", "sue", "susie"], ["deborah", "deb", "debbie"], ["rebecca", "becky", "becca"], ["victoria", "vicky", "tori"],
        ["christina", "chris", "tina", "christy"], ["christine", "chris", "tina"], ["alexandra", "alex", "sandra", "sandy", "lexi"],
        ["abigail", "abby"], ["samantha", "sam", "sammy"], ["kimberly", "kim"], ["pamela", "pam"], ["barbara", "barb", "babs"],
        ["dorothy", "dot", "dottie"], ["theresa", "terry", "tess", "tessa"], ["josephine", "jo", "josie"], ["frances", "fran", "frankie"],
        ["francis", "frank", "frankie"], ["franklin", "frank"], ["henry", "hank", "harry"], ["harold", "harry", "hal"],
        ["zachary", "zach", "zack"], ["joshua", "josh"], ["nathaniel", "nate", "nathan"], ["raymond", "ray"], ["walter", "walt"],
        ["eugene", "gene"], ["leonard", "leo", "len", "lenny"], ["vincent", "vince", "vinny"], ["philip", "phil"], ["douglas", "doug"],
        ["maria", "mary", "marie"], ["susanna", "sue", "susie"], ["allison", "ali", "allie"], ["madeline", "maddie", "maddy"],
    ]

    package static let index: [String: Set<Int>] = {
        var index: [String: Set<Int>] = [:]
        for (number, group) in groups.enumerated() { for name in group { index[name, default: []].insert(number) } }
        return index
    }()

    package static func same(_ a: String, _ b: String) -> Bool {
        guard let x = index[a], let y = index[b] else { return false }
        return !x.isDisjoint(with: y)
    }
}

/// Jaro–Winkler similarity, 0…1.
package enum JaroWinkler {
    package static func similarity(_ a: String, _ b: String) -> Double {
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
