/// Parses the rule language (grammar in docs/FRAUD.md). One statement per line; `#` starts a comment.
public enum RuleParser {
    public static func parse(_ source: String, file: String = "rules") throws -> RuleSet {
        var rules: [Rule] = []
        var lists: [ListEntry] = []
        for (index, rawLine) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var parser = LineParser(file: file, line: index + 1, text: String(rawLine))
            switch try parser.statement() {
            case .none: continue
            case .rule(let rule): rules.append(rule)
            case .list(let entry): lists.append(entry)
            }
        }
        return RuleSet(rules: rules, lists: lists)
    }
}

private struct Token: Equatable {
    enum Kind: Equatable { case word, number, text, attribute, symbol, end }
    var kind: Kind
    var value: String
    var column: Int
}

private struct LineParser {
    enum Statement { case rule(Rule), list(ListEntry) }

    let file: String
    let line: Int
    let text: String
    var tokens: [Token] = []
    var position = 0

    init(file: String, line: Int, text: String) {
        self.file = file
        self.line = line
        self.text = text
    }

    func error(_ column: Int, _ message: String) -> RuleSyntaxError {
        RuleSyntaxError(file: file, line: line, column: column, message: message)
    }

    mutating func statement() throws -> Statement? {
        tokens = try tokenize()
        guard tokens.first?.kind != .end else { return nil }
        let head = next()
        guard head.kind == .word, let action = FraudAction(rawValue: head.value.lowercased()) else {
            throw error(head.column, "expected allow, review or block, found '\(head.value)'")
        }
        let second = peek()
        if second.kind == .word, let subject = ListEntry.Subject(rawValue: second.value.lowercased()) {
            guard action != .review else { throw error(head.column, "lists are allow or block lists; there is no review list") }
            _ = next()
            var values: Set<String> = []
            repeat {
                let value = next()
                guard [.word, .text, .number].contains(value.kind) else {
                    throw error(value.column, "expected a \(subject.rawValue) value, found '\(value.value)'")
                }
                values.insert(value.value)
            } while accept(",")
            try expectEnd()
            return .list(ListEntry(line: line, action: action, subject: subject, values: values))
        }
        let keyword = next()
        guard keyword.kind == .word, keyword.value.lowercased() == "if" else {
            throw error(keyword.column, "expected 'if' or a list subject (card, terminal, clerk, store) after '\(head.value)', found '\(keyword.value)'")
        }
        let condition = try disjunction()
        try expectEnd()
        let body = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
        return .rule(Rule(line: line, action: action, condition: condition,
                          text: body.trimmingCharacters(in: .whitespaces)))
    }

    mutating func disjunction() throws -> Condition {
        var left = try conjunction()
        while acceptWord("or") { left = .or(left, try conjunction()) }
        return left
    }

    mutating func conjunction() throws -> Condition {
        var left = try negation()
        while acceptWord("and") { left = .and(left, try negation()) }
        return left
    }

    mutating func negation() throws -> Condition {
        if acceptWord("not") { return .not(try negation()) }
        return try primary()
    }

    mutating func primary() throws -> Condition {
        if accept("(") {
            let inner = try disjunction()
            let close = next()
            guard close.kind == .symbol, close.value == ")" else { throw error(close.column, "expected ')', found '\(close.value)'") }
            return inner
        }
        let startToken = peek()
        let left = try operand()
        let comparatorToken = peek()
        guard comparatorToken.kind == .symbol, let comparator = Comparator(rawValue: comparatorToken.value) else {
            guard case .attribute(let attribute) = left, attribute.isNumeric else {
                throw error(comparatorToken.column, "expected a comparison (>, >=, <, <=, =, !=) after '\(startToken.value)'")
            }
            return .truthy(attribute)
        }
        _ = next()
        let rightToken = peek()
        let right = try operand()
        if left.isNumeric != right.isNumeric {
            throw error(rightToken.column, "cannot compare '\(startToken.value)' with '\(rightToken.value)': one is a number, the other text")
        }
        if !left.isNumeric, comparator != .equal, comparator != .notEqual {
            throw error(comparatorToken.column, "text can only be compared with = or !=")
        }
        return .compare(left, comparator, right)
    }

    mutating func operand() throws -> Operand {
        let token = next()
        switch token.kind {
        case .attribute:
            guard let attribute = Attribute(name: token.value) else {
                throw error(token.column, "unknown attribute :\(token.value):; known: \(Attribute.allNames.joined(separator: ", "))")
            }
            return .attribute(attribute)
        case .number: return .number(Double(token.value)!)
        case .text: return .text(token.value)
        default: throw error(token.column, token.kind == .end ? "condition ends too early" : "expected an attribute, number or 'text', found '\(token.value)'")
        }
    }

    mutating func next() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    func peek() -> Token { tokens[position] }

    mutating func accept(_ symbol: String) -> Bool {
        guard peek().kind == .symbol, peek().value == symbol else { return false }
        _ = next()
        return true
    }

    mutating func acceptWord(_ word: String) -> Bool {
        guard peek().kind == .word, peek().value.lowercased() == word else { return false }
        _ = next()
        return true
    }

    func expectEnd() throws {
        let token = peek()
        guard token.kind == .end else { throw error(token.column, "unexpected '\(token.value)' after the end of the statement") }
    }

    func tokenize() throws -> [Token] {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c == "#" { break }
            if c.isWhitespace { i += 1; continue }
            if c == ":" {
                var j = i + 1
                while j < chars.count, chars[j] != ":", !chars[j].isWhitespace { j += 1 }
                guard j < chars.count, chars[j] == ":", j > i + 1 else { throw error(column, "attribute must be written :name:") }
                tokens.append(Token(kind: .attribute, value: String(chars[(i + 1)..<j]), column: column))
                i = j + 1
            } else if c == "'" || c == "\"" {
                var j = i + 1
                while j < chars.count, chars[j] != c { j += 1 }
                guard j < chars.count else { throw error(column, "text is not closed: missing \(c)") }
                tokens.append(Token(kind: .text, value: String(chars[(i + 1)..<j]), column: column))
                i = j + 1
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber) {
                var j = i + 1
                while j < chars.count, chars[j].isNumber || chars[j] == "." || chars[j] == "_" { j += 1 }
                let literal = String(chars[i..<j]).replacingOccurrences(of: "_", with: "")
                guard Double(literal) != nil else { throw error(column, "'\(literal)' is not a number") }
                tokens.append(Token(kind: .number, value: literal, column: column))
                i = j
            } else if "()<>=!,".contains(c) {
                if i + 1 < chars.count, chars[i + 1] == "=", "<>!".contains(c) {
                    tokens.append(Token(kind: .symbol, value: String(chars[i...(i + 1)]), column: column))
                    i += 2
                } else if c == "!" {
                    throw error(column, "'!' must be followed by '=' (write 'not' for negation)")
                } else {
                    tokens.append(Token(kind: .symbol, value: String(c), column: column))
                    i += 1
                }
            } else if c.isLetter || c == "_" {
                var j = i + 1
                // Bare list values may hold the characters of card tokens and terminal keys.
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || "_-/*.:?".contains(chars[j]) { j += 1 }
                tokens.append(Token(kind: .word, value: String(chars[i..<j]), column: column))
                i = j
            } else {
                throw error(column, "unexpected character '\(c)'")
            }
        }
        tokens.append(Token(kind: .end, value: "end of line", column: chars.count + 1))
        return tokens
    }
}
