import Foundation

/// JSON read directly, byte by byte, where it is written plainly; anything else is declined, to be read by `JSONDecoder`.
///
/// Issue 21: `JSONDecoder` took 57 % of the transformer's CPU reading a 50,000-ticket batch event, much of it looking up
/// the generic metadata of its containers for every field of every record (`transformer bench`, `perf`). A record written
/// plainly, as Heartland writes them, is read here instead; `JSONDecoder` stays the reference for everything else.
///
/// Plainly means: well-formed JSON (RFC 8259) whose strings have no escape and are valid UTF-8, whose integers are written
/// `0` or `-?[1-9][0-9]*` within 64 bits, whose decimals have at most 18 digits and no exponent, nested at most 32 deep.
/// A reading declines (`Declined`) at the first thing it does not read exactly as `JSONDecoder` would (a field of another
/// type, a key twice, an escape): declining is always safe, since the record is then read as it was before.
struct PlainJSON {
    struct Declined: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private static let maximumDepth = 32

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// What `read` makes of `data`, the whole of it one value with nothing but white space around it; nil when declined.
    static func value<T>(of data: Data, _ read: (inout PlainJSON) throws(Declined) -> T) -> T? {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> T? in
            var json = PlainJSON(raw.bindMemory(to: UInt8.self))
            do {
                json.skipSpace()
                let value = try read(&json)
                json.skipSpace()
                return json.index == json.bytes.count ? value : nil
            } catch {
                return nil
            }
        }
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
    }

    /// JSON's white space: space, line feed, carriage return, tab.
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    // MARK: containers

    /// An object's members in order: `member` is given each key's bytes (between its quotation marks) and reads its value.
    mutating func object(_ member: (inout PlainJSON, UnsafeBufferPointer<UInt8>) throws(Declined) -> Void) throws(Declined) {
        try enter(UInt8(ascii: "{"))
        skipSpace()
        if peek == UInt8(ascii: "}") { return leave() }
        while true {
            skipSpace()
            let key = try stringBytes()
            guard Self.isUTF8(key) else { throw Declined() }
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw Declined() }
            index += 1
            skipSpace()
            try member(&self, key)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): return leave()
            default: throw Declined()
            }
        }
    }

    /// An array's elements in order, each read by `element`.
    mutating func array(_ element: (inout PlainJSON) throws(Declined) -> Void) throws(Declined) {
        try enter(UInt8(ascii: "["))
        skipSpace()
        if peek == UInt8(ascii: "]") { return leave() }
        while true {
            skipSpace()
            try element(&self)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): return leave()
            default: throw Declined()
            }
        }
    }

    /// An array of objects, each read by `element` into what it returns.
    mutating func objects<T>(_ element: (inout PlainJSON) throws(Declined) -> T) throws(Declined) -> [T] {
        var read: [T] = []
        try array { json throws(Declined) in
            guard json.peek == UInt8(ascii: "{") else { throw Declined() }
            read.append(try element(&json))
        }
        return read
    }

    private mutating func enter(_ bracket: UInt8) throws(Declined) {
        guard peek == bracket, depth < Self.maximumDepth else { throw Declined() }
        index += 1
        depth += 1
    }

    private mutating func leave() {
        index += 1
        depth -= 1
    }

    // MARK: values

    /// `null`, passed over (true), or another value, left to be read (false).
    mutating func null() -> Bool {
        guard peek == UInt8(ascii: "n") else { return false }
        return (try? literal("null")) != nil
    }

    /// Whether the value here is a string.
    var isString: Bool { peek == UInt8(ascii: "\"") }

    /// A string without escapes, valid UTF-8.
    mutating func string() throws(Declined) -> String {
        let body = try stringBytes()
        if body.allSatisfy({ $0 < 0x80 }) { return String(decoding: body, as: UTF8.self) }
        guard let text = String(validating: body, as: UTF8.self) else { throw Declined() }
        return text
    }

    /// A string as it is, or an integer as its digits (what the lenient readings keep of either).
    mutating func stringOrDigits() throws(Declined) -> String {
        isString ? try string() : String(try integer())
    }

    private static func isUTF8(_ body: UnsafeBufferPointer<UInt8>) -> Bool {
        body.allSatisfy { $0 < 0x80 } || String(validating: body, as: UTF8.self) != nil
    }

    /// The body of a string without escapes (a reverse solidus or a control character declines); its UTF-8 is not checked.
    private mutating func stringBytes() throws(Declined) -> UnsafeBufferPointer<UInt8> {
        guard peek == UInt8(ascii: "\"") else { throw Declined() }
        let start = index + 1
        var at = start
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                index = at + 1
                return UnsafeBufferPointer(rebasing: bytes[start..<at])
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { throw Declined() }
            at += 1
        }
        throw Declined()
    }

    /// An integer written `0` or `-?[1-9][0-9]*`, within Int64 (`-0`, `12.0` and `1e2`, which JSONDecoder also reads as
    /// integers, decline).
    mutating func integer() throws(Declined) -> Int64 {
        let number = try number()
        guard number.fraction == nil, !number.hasExponent, !(number.negative && number.integerIsZero) else { throw Declined() }
        var value: Int64 = 0
        for at in number.integer {
            let digit = Int64(bytes[at] - UInt8(ascii: "0"))
            let (times, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowedAgain) = number.negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !overflowed, !overflowedAgain else { throw Declined() }
            value = next
        }
        index = number.end
        return value
    }

    /// A number written `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 18 digits, as `DecimalText` writes the `Decimal`
    /// JSONDecoder reads from it: no leading `-` for zero, no trailing zeros after the point, no point without digits after
    /// it (`-0.50` → `-0.5`, `10.00` → `10`, `0.00` → `0`).
    mutating func decimalText() throws(Declined) -> String {
        let number = try number()
        guard !number.hasExponent, number.integer.count + (number.fraction?.count ?? 0) <= 18 else { throw Declined() }
        index = number.end
        // The fraction without its trailing zeros; the value is zero when it and the integer part are.
        var significant = number.fraction ?? number.integer.upperBound..<number.integer.upperBound
        while !significant.isEmpty, bytes[significant.upperBound - 1] == UInt8(ascii: "0") { significant = significant.dropLast() }
        let isZero = significant.isEmpty && number.integerIsZero
        var text = number.negative && !isZero ? "-" : ""
        text += String(decoding: UnsafeBufferPointer(rebasing: bytes[number.integer.lowerBound..<(significant.isEmpty ? number.integer.upperBound : significant.upperBound)]),
                       as: UTF8.self)
        return text
    }

    /// A value of any kind, read for its well-formedness only (the value of a key no reading asks for).
    mutating func skipValue() throws(Declined) {
        switch peek {
        case UInt8(ascii: "\""):
            guard Self.isUTF8(try stringBytes()) else { throw Declined() }
        case UInt8(ascii: "{"): try object { json, _ throws(Declined) in try json.skipValue() }
        case UInt8(ascii: "["): try array { json throws(Declined) in try json.skipValue() }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: index = try number().end
        }
    }

    /// Where a number's parts stand: the digits of its integer part, those after its point, whether it has an exponent.
    private struct Number {
        var negative: Bool
        var integer: Range<Int>
        /// Whether the integer part is `0`.
        var integerIsZero: Bool
        var fraction: Range<Int>?
        var hasExponent: Bool
        var end: Int
    }

    /// The number here, in any form JSON allows (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`), not passed over.
    private func number() throws(Declined) -> Number {
        var at = index
        func digits() -> Range<Int> {
            let start = at
            while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
            return start..<at
        }
        let negative = at < bytes.count && bytes[at] == UInt8(ascii: "-")
        if negative { at += 1 }
        let integer = digits()
        guard !integer.isEmpty, bytes[integer.lowerBound] != UInt8(ascii: "0") || integer.count == 1 else { throw Declined() }
        var fraction: Range<Int>?
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            fraction = digits()
            guard fraction?.isEmpty == false else { throw Declined() }
        }
        let hasExponent = at < bytes.count && (bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E"))
        if hasExponent {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard !digits().isEmpty else { throw Declined() }
        }
        guard !continuesNumber(at) else { throw Declined() }
        return Number(negative: negative, integer: integer, integerIsZero: integer.count == 1 && bytes[integer.lowerBound] == UInt8(ascii: "0"),
                      fraction: fraction, hasExponent: hasExponent, end: at)
    }

    private mutating func literal(_ word: StaticString) throws(Declined) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count, memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0 else { throw Declined() }
        index += count
    }

    /// Whether the byte at `at` would make the number before it another one, or not a number (`.`, an exponent, a digit
    /// after a leading zero, a letter).
    private func continuesNumber(_ at: Int) -> Bool {
        guard at < bytes.count else { return false }
        let byte = bytes[at]
        return byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "+") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    // MARK: keys

    /// Words looked up by their bytes, without making strings of them: by length, then compared.
    struct Spellings: Sendable {
        private let byLength: [[(bytes: [UInt8], index: Int)]]

        init(_ words: [String]) {
            var byLength = [[(bytes: [UInt8], index: Int)]](repeating: [], count: (words.map(\.utf8.count).max() ?? 0) + 1)
            for (index, word) in words.enumerated() { byLength[word.utf8.count].append((Array(word.utf8), index)) }
            self.byLength = byLength
        }

        /// The position in the words of the one `key` spells; nil for none.
        func index(of key: UnsafeBufferPointer<UInt8>) -> Int? {
            guard key.count < byLength.count else { return nil }
            for candidate in byLength[key.count] where candidate.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }) {
                return candidate.index
            }
            return nil
        }
    }

    /// The fields of one object met so far: a field met twice declines (which of the two JSONDecoder reads is not said).
    struct Seen {
        private var fields: UInt64 = 0

        mutating func insert(_ field: Int) throws(Declined) {
            let bit: UInt64 = 1 << UInt64(field)
            guard fields & bit == 0 else { throw Declined() }
            fields |= bit
        }
    }
}
