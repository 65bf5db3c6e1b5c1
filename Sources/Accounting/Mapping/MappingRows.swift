/// One rule of the mapping as a row of the mapping page: which Heartland value it maps, and to which Sage account.
public struct MappingRow: Hashable, Sendable, Codable {
    /// The rule's path in the file, e.g. `tenders.card_brands.visa.account`: the row's identity.
    public var rule: String
    /// What kind of Heartland value the rule maps: `Card brand`, `Tender`, `Sales line`, `Payroll tax code`…
    public var kind: String
    /// The Heartland value itself, in words: `visa (VISA, Visa, VI…)`, `FIT`, `any other brand`.
    public var heartland: String
    /// The comment the file gives the rule, if any.
    public var note: String?
    public var account: String
    /// The account's name in the file's `accounts:` chart.
    public var accountName: String

    public init(rule: String, kind: String, heartland: String, note: String?, account: String, accountName: String) {
        self.rule = rule
        self.kind = kind
        self.heartland = heartland
        self.note = note
        self.account = account
        self.accountName = accountName
    }
}

/// A change of one rule's account between two versions of the mapping (`nil`: the rule is not in that version).
public struct MappingRowChange: Hashable, Sendable, Codable {
    public var rule: String
    public var before: String?
    public var after: String?
}

/// The mapping file as text and as rules: the rows the page shows, and the text a changed row gives back. The text is
/// edited line by line, so every comment, the order of the keys and the layout stay as they were: the file remains
/// the reviewable source of truth (a diff of a save shows the changed account and any account added to `accounts:`).
public struct MappingDocument: Hashable, Sendable {
    public let text: String
    public let rules: MappingRules

    /// Parses and validates the text (`MappingRules(yaml:source:)`).
    public init(yaml text: String, source: String) throws(MappingError) {
        self.text = text
        rules = try MappingRules(yaml: text, source: source)
    }

    /// Every rule naming an account, in the order of the file's lines, with the account's name and the rule's comment.
    public var rows: [MappingRow] {
        let lines = YAMLLines(text)
        let position = Dictionary(lines.lines.enumerated().compactMap { index, line in line.path.map { ($0, index) } },
                                  uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        let rules = rules.ruleAccounts.filter { seen.insert($0.rule).inserted }
        return rules.enumerated().sorted { (position[$0.element.rule] ?? Int.max, $0.offset) < (position[$1.element.rule] ?? Int.max, $1.offset) }
            .map { _, rule in
                let (kind, value) = Self.heartlandSide(rule.rule, rules: self.rules)
                return MappingRow(rule: rule.rule, kind: kind, heartland: value, note: lines.line(at: rule.rule)?.comment,
                                  account: rule.account.rawValue, accountName: self.rules.name(of: rule.account))
            }
    }

    /// The document with each rule of `changes` (rule path → account) set to its account. An account the file's
    /// `accounts:` does not list yet is added there under `names[account]` (Sage's name), in number order.
    /// Throws when a rule is not in the file, or when the edited text does not read back as intended.
    public func setting(_ changes: [String: String], names: [String: String] = [:]) throws(MappingError) -> MappingDocument {
        var lines = YAMLLines(text)
        let known = Set(rules.ruleAccounts.map(\.rule))
        for rule in changes.keys.sorted() {
            let account = changes[rule]!.trimmingWhitespace()
            guard known.contains(rule) else {
                throw MappingError(file: rules.source, rule: rule, problem: "is not a rule of this mapping that names an account")
            }
            guard !account.isEmpty, !account.contains(where: { $0 == "\"" || $0 == "\n" || $0 == "\\" }) else {
                throw MappingError(file: rules.source, rule: rule, problem: "\"\(account)\" is not an account number")
            }
            if rules.accounts[AccountNumber(account)] == nil, lines.line(at: "accounts.\(account)") == nil {
                guard let name = names[account], !name.trimmingWhitespace().isEmpty else {
                    throw MappingError(file: rules.source, rule: rule, problem: "account \(account) is not in the file's chart and no name was given for it")
                }
                try lines.addAccount(account, name: name, source: rules.source)
            }
            guard lines.setValue(at: rule, to: YAMLLines.quoted(account)) else {
                throw MappingError(file: rules.source, rule: rule, problem: "cannot be edited in place (not a one-line `key: value` in the file)")
            }
        }
        let edited = try MappingDocument(yaml: lines.text, source: rules.source)
        for (rule, account) in changes where edited.rules.ruleAccounts.first(where: { $0.rule == rule })?.account.rawValue != account.trimmingWhitespace() {
            throw MappingError(file: rules.source, rule: rule, problem: "the edited file does not read back with account \(account)")
        }
        return edited
    }

    /// The rules whose account differs between `self` and `other` (added and removed rules included), in rule order.
    public func changes(to other: MappingDocument) -> [MappingRowChange] {
        let before = Dictionary(rows.map { ($0.rule, $0.account) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(other.rows.map { ($0.rule, $0.account) }, uniquingKeysWith: { first, _ in first })
        var order = rows.map(\.rule)
        order += other.rows.map(\.rule).filter { before[$0] == nil }
        return order.compactMap { rule in
            before[rule] == after[rule] ? nil : MappingRowChange(rule: rule, before: before[rule], after: after[rule])
        }
    }

    /// The Heartland side of a rule, from its path: `(kind, value)`.
    static func heartlandSide(_ rule: String, rules: MappingRules) -> (String, String) {
        let parts = rule.split(separator: ".").map(String.init)
        func words(_ key: String) -> String { key.replacingOccurrences(of: "_", with: " ") }
        switch parts.first {
        case "sales":
            let key = parts.dropFirst().joined(separator: ".")
            switch key {
            case "revenue": return ("Sales line", "merchandise sold")
            case "discounts": return ("Sales line", "discount")
            case "returns": return ("Sales line", "merchandise returned")
            case "sales_tax": return ("Tax", "sales tax collected or refunded")
            case "tips": return ("Sales line", "tip inside a card tender")
            case "gift_card_sold": return ("Sales line", "gift card sold")
            case "processing_fees": return ("Fee", "batch processing fees")
            case "refund_suspense": return ("Card refund", "keyed on the gateway, no return ticket")
            default: return ("Sales line", words(key))
            }
        case "tenders":
            if parts.count >= 3, parts[1] == "card_brands" {
                let brand = parts[2].lowercased()
                let spellings = rules.brandSpellings.filter { $0.value == brand }.keys.sorted()
                return ("Card brand", spellings.isEmpty ? parts[2] : "\(parts[2]) (\(spellings.joined(separator: ", ")))")
            }
            if parts.count == 2, parts[1] == "card_other_brands" { return ("Card brand", "any other brand") }
            if parts.count == 2, parts[1] == "gift_card" { return ("Tender", "gift card redeemed") }
            return ("Tender", words(parts.dropFirst().joined(separator: ".")))
        case "payroll":
            switch Array(parts.dropFirst()) {
            case ["wages"]: return ("Payroll earnings", "gross pay")
            case ["employer_taxes"]: return ("Payroll", "employer taxes")
            case ["net_pay"]: return ("Payroll", "net pay")
            case let rest where rest.count == 2 && rest[0] == "taxes": return ("Payroll tax code", rest[1])
            case let rest where rest.count == 3 && rest[0] == "deductions" && rest[1] == "codes": return ("Payroll deduction code", rest[2])
            case ["deductions", "default"]: return ("Payroll deduction code", "any other code")
            case let rest: return ("Payroll", words(rest.joined(separator: ".")))
            }
        case "accounts_receivable":
            return ("Tender", "on account (house account): AR control")
        default:
            return (parts.first.map(words) ?? rule, words(parts.dropFirst().joined(separator: ".")))
        }
    }
}

/// The mapping file's lines with the path of each `key: value` line, for edits that keep everything else as it is.
/// Reads the block style the file is written in (nested mappings by indentation, `#` comments, quoted or plain keys
/// and scalars); a flow-style mapping (`{…}`) is not edited in place.
struct YAMLLines {
    struct Line {
        var text: String
        var indent: Int
        var key: String?
        /// The path of the key, dotted (`tenders.card_brands.visa.account`).
        var path: String?
        /// Where the value starts and ends in `text` (character offsets), the comment excluded.
        var value: Range<Int>?
        var comment: String?
    }

    private(set) var lines: [Line]

    init(_ text: String) {
        lines = []
        var stack: [(indent: Int, key: String)] = []
        var commented: (index: Int, column: Int)?  // the last line whose value had a comment, and where its `#` stood
        for raw in text.components(separatedBy: "\n") {
            var line = Self.parse(raw)
            // A comment alone on the next line, in the same column, continues that comment.
            if line.key == nil, let last = commented, last.index == lines.count - 1, let column = raw.firstIndex(of: "#"),
               raw.distance(from: raw.startIndex, to: column) == last.column, raw[..<column].allSatisfy({ $0 == " " }) {
                lines[last.index].comment = (lines[last.index].comment ?? "") + " " + String(raw[raw.index(after: column)...]).trimmingWhitespace()
                lines.append(line)
                commented = (lines.count - 1, last.column)
                continue
            }
            commented = nil
            if line.comment != nil, let column = Self.commentColumn(raw) { commented = (lines.count, column) }
            if let key = line.key {
                while let last = stack.last, last.indent >= line.indent { stack.removeLast() }
                line.path = (stack.map(\.key) + [key]).joined(separator: ".")
                stack.append((line.indent, key))
            }
            lines.append(line)
        }
    }

    var text: String { lines.map(\.text).joined(separator: "\n") }

    func line(at path: String) -> Line? { lines.first { $0.path == path } }

    /// Replaces the value of the line at `path`, keeping its comment where it was when the new value fits.
    mutating func setValue(at path: String, to value: String) -> Bool {
        guard let index = lines.firstIndex(where: { $0.path == path }), let range = lines[index].value, !range.isEmpty else { return false }
        let characters = Array(lines[index].text)
        let old = String(characters[range])
        guard !old.hasPrefix("{"), !old.hasPrefix("["), !old.hasPrefix("|"), !old.hasPrefix(">") else { return false }
        var replacement = value
        let rest = String(characters[range.upperBound...])
        if !rest.isEmpty, value.count < old.count { replacement += String(repeating: " ", count: old.count - value.count) }
        if !rest.isEmpty, value.count > old.count, rest.hasPrefix(" ") {
            // Keep at least one space before the comment.
            let drop = min(value.count - old.count, rest.prefix { $0 == " " }.count - 1)
            lines[index].text = String(characters[..<range.lowerBound]) + replacement + String(rest.dropFirst(max(0, drop)))
        } else {
            lines[index].text = String(characters[..<range.lowerBound]) + replacement + rest
        }
        lines[index] = Self.parse(lines[index].text, path: path)
        return true
    }

    /// Adds `"number": name` to `accounts:`, before the first listed account with a greater number.
    mutating func addAccount(_ number: String, name: String, source: String) throws(MappingError) {
        let entries = lines.indices.filter { lines[$0].path.map { $0.hasPrefix("accounts.") } ?? false }
        guard let first = entries.first, let last = entries.last else {
            throw MappingError(file: source, rule: "accounts", problem: "cannot be edited in place (no `accounts:` entries found)")
        }
        let indent = String(repeating: " ", count: lines[first].indent)
        let position = entries.first { (lines[$0].key ?? "") > number } ?? (last + 1)
        let text = "\(indent)\(Self.quoted(number)): \(Self.quoted(name))"
        lines.insert(Self.parse(text, path: "accounts.\(number)"), at: position)
    }

    /// Where the comment of a `key: value  # comment` line starts.
    private static func commentColumn(_ raw: String) -> Int? {
        let characters = Array(raw)
        var quote: Character?
        for (index, character) in characters.enumerated() {
            if let open = quote { if character == open { quote = nil }; continue }
            if character == "\"" || character == "'" { quote = character; continue }
            if character == "#", index > 0, characters[index - 1] == " " { return index }
        }
        return nil
    }

    /// A double-quoted YAML scalar.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\t", with: "\\t") + "\""
    }

    private static func parse(_ raw: String, path: String? = nil) -> Line {
        let characters = Array(raw)
        let indent = characters.prefix { $0 == " " }.count
        var line = Line(text: raw, indent: indent, path: path)
        guard indent < characters.count, characters[indent] != "#", characters[indent] != "-" else { return line }
        // The key: quoted, or plain up to ": " / ":" at the end.
        var index = indent
        var key = ""
        if characters[index] == "\"" || characters[index] == "'" {
            let quote = characters[index]
            index += 1
            while index < characters.count, characters[index] != quote { key.append(characters[index]); index += 1 }
            index += 1
            guard index < characters.count, characters[index] == ":" else { return line }
        } else {
            while index < characters.count, !(characters[index] == ":" && (index + 1 == characters.count || characters[index + 1] == " ")) {
                if characters[index] == "#" { return line }
                key.append(characters[index])
                index += 1
            }
            guard index < characters.count else { return line }
        }
        line.key = key
        index += 1  // past ":"
        while index < characters.count, characters[index] == " " { index += 1 }
        let start = index
        var quote: Character?
        var end = index
        while index < characters.count {
            let character = characters[index]
            if let open = quote {
                if character == "\\", open == "\"" { index += 2; end = min(index, characters.count); continue }
                if character == open { quote = nil }
                index += 1
                end = index
                continue
            }
            if character == "\"" || character == "'" { quote = character; index += 1; end = index; continue }
            if character == "#", index == start || characters[index - 1] == " " {
                line.comment = String(characters[(index + 1)...]).trimmingWhitespace()
                break
            }
            index += 1
            if character != " " { end = index }
        }
        line.value = start..<max(start, end)
        return line
    }
}
