import Foundation
import HeartlandSimulator
import StableHash
import Sync
import SyncContracts

/// A generated merchant whose customers are kept in both Sage and Heartland, written the way people
/// write them: the same person in clusters of near-duplicates (e-mail case and spaces, a plus tag,
/// phones written four ways, 7-digit and foreign numbers, typos, `Last, First`, middle names,
/// suffixes, honorifics, nicknames, companies, a changed e-mail or phone, a chain of three records),
/// and different people who look alike (name twins, a household sharing a phone, a couple sharing an
/// e-mail). Seeded, written apart from the matcher: it knows who is who, the matcher does not.
struct NearDuplicateMerchant {
    struct Record: Hashable {
        var side: SyncSide
        var number: String
        var firstName: String
        var lastName: String
        /// Sage's one `CustomerName` (Sage records only).
        var written: String
        var email: String?
        var phone: String?
        /// Who this really is.
        var person: Int
        var cluster: Int
    }

    enum Kind: String, CaseIterable {
        case emailCaseAndSpaces, phoneFourWays, nameTypo, changedEmail, changedPhone, chainOfThree, plusTag, sevenDigitPhone, foreignPhone,
             middleSuffixTitle, nickname, company, nameTwins, householdPhone, coupleSharingEmail, onlyInSage, onlyInHeartland
    }

    private(set) var records: [Record] = []
    private(set) var kinds: [Int: Kind] = [:]
    private var random: SeededRandom
    private var nextPerson = 0
    private var nextCluster = 0
    private var sageNumber = 1000
    private var heartlandNumber = 0

    static let firstNames = ["Michael", "Sarah", "David", "Laura", "James", "Emily", "Daniel", "Olivia", "Thomas", "Grace", "Andrew", "Chloe",
                             "Nathan", "Hannah", "Peter", "Megan", "Samuel", "Rachel", "Victor", "Alice", "Oscar", "Irene", "Hugo", "Paula"]
    static let lastNames = ["Brown", "Garcia", "Nguyen", "Okafor", "Schmidt", "Rossi", "Kowalski", "Haddad", "Lindqvist", "Moreau", "Tanaka",
                            "Fischer", "Murphy", "Petrov", "Silva", "Johansson", "Kaplan", "Novak", "Ortega", "Walsh", "Becker", "Dubois"]

    /// `clustersPerKind` clusters of each kind (name twins, households and couples are clusters too).
    init(seed: UInt64, clustersPerKind: Int = 2) {
        random = SeededRandom(seed: seed)
        for _ in 0..<clustersPerKind {
            for kind in Kind.allCases { add(kind) }
        }
    }

    var clusters: [Int: [Record]] { Dictionary(grouping: records, by: \.cluster) }

    // MARK: generation

    private mutating func add(_ kind: Kind) {
        let cluster = nextCluster
        nextCluster += 1
        kinds[cluster] = kind
        let first = pick(Self.firstNames), last = pick(Self.lastNames)
        let email = "\(first.lowercased()).\(last.lowercased())\(int(100))@\(pick(["example.com", "mail.example", "post.example"]))"
        let area = 200 + int(700), exchange = 200 + int(700), line = int(10_000)
        let phone = String(format: "%03d%03d%04d", area, exchange, line)
        let person = newPerson()
        switch kind {
        case .emailCaseAndSpaces:
            sage(cluster, person, first, last, written: "\(last), \(first)", email: " \(email.uppercased())\t", phone: nil)
            heartland(cluster, person, first, last, email: "  \(capitalised(email)) ", phone: nil)
        case .phoneFourWays:
            let ways = formats(phone)
            sage(cluster, person, first, last, written: "\(last), \(first)", email: nil, phone: ways[int(2)])
            heartland(cluster, person, first, last, email: nil, phone: ways[2 + int(2)])
        case .nameTypo:
            sage(cluster, person, first, last, written: "\(typo(first)) \(last)", email: email, phone: nil)
            heartland(cluster, person, first, typo(last), email: email, phone: formats(phone)[0])
        case .changedEmail:
            sage(cluster, person, first, last, written: "\(last), \(first)", email: "old.\(email)", phone: formats(phone)[1])
            heartland(cluster, person, first, last, email: email, phone: formats(phone)[3])
        case .changedPhone:
            sage(cluster, person, first, last, written: "\(first) \(last)", email: email, phone: formats(phone)[0])
            heartland(cluster, person, first, last, email: email, phone: formats(String(format: "%03d%03d%04d", area, exchange, (line + 1) % 10_000))[2])
        case .chainOfThree:
            // Sage has the person twice (an old record with the phone only); Heartland once, with both.
            sage(cluster, person, first, last, written: "\(last), \(first)", email: email, phone: nil)
            sage(cluster, person, first, last, written: "\(first) \(last)", email: nil, phone: formats(phone)[0])
            heartland(cluster, person, first, last, email: email.uppercased(), phone: formats(phone)[2])
        case .plusTag:
            let parts = email.split(separator: "@")
            sage(cluster, person, first, last, written: "\(last), \(first)", email: "\(parts[0])+store@\(parts[1])", phone: nil)
            heartland(cluster, person, first, last, email: email, phone: nil)
        case .sevenDigitPhone:
            let local = String(format: "%03d-%04d", exchange, line)
            sage(cluster, person, first, last, written: "\(last), \(first)", email: nil, phone: local)
            heartland(cluster, person, first, last, email: nil, phone: formats(phone)[0])
        case .foreignPhone:
            let uk = "+44 20 \(String(format: "%04d %04d", int(10_000), int(10_000)))"
            let digits = uk.filter(\.isNumber).dropFirst(2)
            sage(cluster, person, first, last, written: "\(first) \(last)", email: nil, phone: uk)
            heartland(cluster, person, first, last, email: nil, phone: "0044 (0)\(digits.prefix(2)) \(digits.dropFirst(2).prefix(4)) \(digits.suffix(4))")
        case .middleSuffixTitle:
            let middle = pick(["J.", "Anne", "R", "Lee"])
            sage(cluster, person, first, last, written: "\(pick(["Dr.", "Mr.", "Ms.", "Prof."])) \(first) \(middle) \(last)", email: email, phone: nil)
            heartland(cluster, person, "\(first) \(middle)", "\(last)", email: email, phone: formats(phone)[1])
        case .nickname:
            let (formal, short) = pick([("Robert", "Bob"), ("William", "Bill"), ("Elizabeth", "Liz"), ("Katherine", "Kate"), ("Richard", "Rick")])
            sage(cluster, person, formal, last, written: "\(last), \(formal)", email: email, phone: nil)
            heartland(cluster, person, short, last, email: email, phone: nil)
        case .company:
            let name = "\(last) \(pick(["Supply", "Outfitters", "Hardware", "Studio"]))"
            sage(cluster, person, "", name, written: "\(name) Co.", email: nil, phone: formats(phone)[0])
            heartland(cluster, person, "", "\(name.uppercased()) Company", email: nil, phone: formats(phone)[3])
        case .nameTwins:
            // Two people with one name, nothing else in common.
            sage(cluster, person, first, last, written: "\(last), \(first)", email: email, phone: formats(phone)[0])
            let other = newPerson()
            heartland(cluster, other, first, last, email: "\(first.lowercased())\(int(100))@other.example",
                      phone: formats(String(format: "%03d%03d%04d", 200 + int(700), 200 + int(700), int(10_000)))[1])
        case .householdPhone:
            // Two people of one household sharing the home phone, one on each side.
            let partner = pick(Self.firstNames.filter { $0 != first && $0.first != first.first })
            sage(cluster, person, first, last, written: "\(last), \(first)", email: nil, phone: formats(phone)[0])
            heartland(cluster, newPerson(), partner, last, email: nil, phone: formats(phone)[2])
        case .coupleSharingEmail:
            // A couple writing one address: one on each side. Nobody can tell from the data alone: a person decides.
            let partner = pick(Self.firstNames.filter { $0 != first && $0.first != first.first })
            let shared = "the.\(last.lowercased())s\(int(100))@example.com"
            sage(cluster, person, first, last, written: "\(last), \(first)", email: shared, phone: nil)
            heartland(cluster, newPerson(), partner, last, email: shared, phone: nil)
        case .onlyInSage:
            sage(cluster, person, first, last, written: "\(last), \(first)", email: email, phone: formats(phone)[0])
        case .onlyInHeartland:
            heartland(cluster, person, first, last, email: email, phone: formats(phone)[1])
        }
    }

    private mutating func newPerson() -> Int {
        nextPerson += 1
        return nextPerson
    }

    private mutating func sage(_ cluster: Int, _ person: Int, _ first: String, _ last: String, written: String, email: String?, phone: String?) {
        sageNumber += 10
        records.append(Record(side: .sage, number: String(sageNumber), firstName: first, lastName: last, written: written, email: email,
                              phone: phone, person: person, cluster: cluster))
    }

    private mutating func heartland(_ cluster: Int, _ person: Int, _ first: String, _ last: String, email: String?, phone: String?) {
        heartlandNumber += 1
        records.append(Record(side: .heartland, number: String(format: "C%05d", heartlandNumber), firstName: first, lastName: last,
                              written: "\(first) \(last)", email: email, phone: phone, person: person, cluster: cluster))
    }

    /// `(555) 010-1234`, `555.010.1234`, `+1 555 010 1234`, `1-555-010-1234`.
    private func formats(_ digits: String) -> [String] {
        let a = digits.prefix(3), b = digits.dropFirst(3).prefix(3), c = digits.suffix(4)
        return ["(\(a)) \(b)-\(c)", "\(a).\(b).\(c)", "+1 \(a) \(b) \(c)", "1-\(a)-\(b)-\(c)"]
    }

    /// One letter swapped with its neighbour, or doubled.
    private mutating func typo(_ word: String) -> String {
        var letters = Array(word)
        guard letters.count > 3 else { return word }
        let at = 1 + int(letters.count - 2)
        if int(2) == 0, at + 1 < letters.count { letters.swapAt(at, at + 1) } else { letters.insert(letters[at], at: at) }
        return String(letters)
    }

    private func capitalised(_ email: String) -> String {
        email.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: ".")
    }

    private mutating func int(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    private mutating func pick<T>(_ values: [T]) -> T { values[int(values.count)] }
}
