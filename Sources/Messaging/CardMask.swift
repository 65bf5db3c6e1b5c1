/// The one masking function for card numbers (PCI DSS requirement 3): every text or JSON body that
/// leaves a boundary (a Heartland answer, a log line, an alert, a notice, a parked message shown to a
/// person) passes `mask` or `scrub` (CardMask+JSON.swift). A card number keeps its first six and last
/// four digits, the rest become `*` (`411111******1111`, `4111 11** **** 1111`); track data loses
/// everything after the card number (`%B411111******1111^[track data removed]`).
///
/// What is taken for a card number (a PAN), and why:
/// - Digits are ASCII digits or, so that JSON text is covered, `\u0030`…`\u0039` escapes.
/// - A *group* is a maximal run of digits. Groups joined by exactly one separator (space, `-`, `.`,
///   `/`, or JSON's `\/`) form a *chain*. A candidate is a run of *whole* groups of a chain: digits are
///   never cut out of a longer run, so a 20-digit order number holds no candidate.
/// - A candidate is a PAN when it has 13–19 digits, passes the Luhn check, and is either one group or
///   grouped the way cards are printed (a first group of four, middle groups of three to six, a last
///   group of one to six, one separator throughout: `4111 1111 1111 1111`, `3782-822463-10005`).
///   Every candidate of a chain is tried, so a trailing CVV or expiry (`4111111111111111 123`,
///   `4111111111111111 12/27`) or a second PAN (`4111111111111111 5500000000000004`) does not hide one.
/// - Identifiers are left alone: a candidate preceded by a word that holds `_` or a digit
///   (`TRN_4242424242424242`, `TRN_C59EC7DF4245F…`), or with letters right before *and* right after it
///   (`TRN_AB4111111111111111CD`). Letters on one side only do not protect it (`cc4111111111111111`,
///   `%B4111…`, `4111111111111111D`).
/// - Track data: a PAN followed by `^` is track 1, followed by `=` and a digit is track 2. Expiry,
///   service code and discretionary data are sensitive authentication data: removed up to the end
///   sentinel `?` (track 1 without one: to the end of the line; track 2: its digits).
///
/// False positives, accepted: about one in ten numbers of 13–19 digits that are not card numbers
/// (a long amount in cents, an epoch in milliseconds, a numeric order id) passes Luhn and is masked.
/// Dates, times, amounts with decimals and phone numbers are too short or grouped otherwise. Ids that
/// must survive should be longer than 19 digits or carry a prefix such as `ORD_`.
/// Not covered: a PAN split by other characters (`4111,1111,…`), written in words, or cut in two
/// lines; a CVV or expiry next to a PAN stays (worthless without the PAN, which is masked).
public enum CardMask {
    /// How many digits a card number has.
    static let panDigits = 13...19

    /// The text with every card number masked.
    public static func mask(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let masked = mask(bytes, in: 0..<bytes.count) else { return text }
        return String(decoding: masked.bytes, as: UTF8.self)
    }

    /// True when the text holds a card number.
    public static func containsCardNumber(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return mask(bytes, in: 0..<bytes.count) != nil
    }

    /// The bytes of `range` with every card number masked and how many were found, or nil when there is none.
    /// Only ASCII bytes are read or written, so UTF-8 text stays UTF-8.
    static func mask(_ bytes: [UInt8], in range: Range<Int>) -> (bytes: [UInt8], count: Int)? {
        var scanner = PANScanner(bytes: bytes, range: range)
        return scanner.run()
    }

    public static func luhnValid<C: Collection>(_ digits: C) -> Bool where C.Element == UInt8 {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if offset % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    static let trackDataRemoved = Array("[track data removed]".utf8)
}

extension CardMask {
    /// One pass over a range of bytes: finds chains of digit groups, decides which candidates are card
    /// numbers, and writes the masked copy.
    struct PANScanner {
        /// A digit: its first byte, its length (1, or 6 for `\u003N`) and its value.
        struct Digit {
            var start: Int
            var length: Int
            var value: UInt8
        }

        struct Group {
            var digits: [Digit]
            /// The separator before this group in its chain (a canonical byte), nil for the first.
            var separator: UInt8?
            var start: Int { digits[0].start }
            var end: Int { digits[digits.count - 1].start + digits[digits.count - 1].length }
        }

        let bytes: [UInt8]
        let range: Range<Int>
        var output: [UInt8] = []
        /// Everything before this index has been copied to `output` (or replaced).
        var copied: Int
        var found = 0

        init(bytes: [UInt8], range: Range<Int>) {
            self.bytes = bytes
            self.range = range
            copied = range.lowerBound
        }

        mutating func run() -> (bytes: [UInt8], count: Int)? {
            var index = range.lowerBound
            while index < range.upperBound {
                guard digit(at: index) != nil else {
                    index += 1
                    continue
                }
                // Most chains (ids, amounts, times) hold fewer digits than the shortest card number: passed over
                // without building them.
                let extent = chainExtent(at: index)
                guard extent.digits >= CardMask.panDigits.lowerBound else {
                    index = extent.end
                    continue
                }
                let chain = self.chain(at: index)
                index = max(chain.last!.end, handle(chain))
            }
            guard found > 0 else { return nil }
            output.append(contentsOf: bytes[copied..<range.upperBound])
            return (output, found)
        }

        /// Masks the card numbers of one chain; returns where scanning goes on (past removed track data).
        private mutating func handle(_ chain: [Group]) -> Int {
            var masked = Set<Int>()  // start bytes of digits to mask
            var starts = Set<Int>()
            var removal: Range<Int>?
            for first in chain.indices {
                var count = 0
                for last in first..<chain.count {
                    count += chain[last].digits.count
                    if count > CardMask.panDigits.upperBound { break }
                    let window = chain[first...last]
                    guard count >= CardMask.panDigits.lowerBound, isCardGrouping(window), !isInsideIdentifier(window) else { continue }
                    let digits = window.flatMap(\.digits)
                    guard CardMask.luhnValid(digits.map(\.value)) else { continue }
                    for unit in digits.dropFirst(6).dropLast(4) { masked.insert(unit.start) }
                    starts.insert(window.first!.start)
                    if removal == nil { removal = trackData(after: window.last!.end) }
                }
            }
            guard !starts.isEmpty else { return chain.last!.end }
            found += starts.count
            for unit in chain.flatMap(\.digits) where masked.contains(unit.start) {
                output.append(contentsOf: bytes[copied..<unit.start])
                output.append(UInt8(ascii: "*"))
                copied = unit.start + unit.length
            }
            guard let removal else { return chain.last!.end }
            output.append(contentsOf: bytes[copied..<removal.lowerBound])
            output.append(contentsOf: CardMask.trackDataRemoved)
            copied = removal.upperBound
            return removal.upperBound
        }

        /// One group, or groups as cards are printed: 4, then 3–6 each, the last 1–6, one separator throughout.
        private func isCardGrouping(_ window: ArraySlice<Group>) -> Bool {
            guard window.count > 1 else { return true }
            let separator = window[window.startIndex + 1].separator
            return window.first!.digits.count == 4
                && window.dropFirst().allSatisfy { $0.separator == separator }
                && window.dropFirst().dropLast().allSatisfy { (3...6).contains($0.digits.count) }
                && (1...6).contains(window.last!.digits.count)
        }

        /// Digits inside an identifier: a word holding `_` or a digit right before them, or letters on both sides.
        private func isInsideIdentifier(_ window: ArraySlice<Group>) -> Bool {
            var index = window.first!.start
            var word: [UInt8] = []
            while index > range.lowerBound, Self.isWordByte(bytes[index - 1]) {
                index -= 1
                word.append(bytes[index])
            }
            guard !word.isEmpty else { return false }
            if word.contains(where: { $0 == UInt8(ascii: "_") || Self.isDigit($0) }) { return true }
            let end = window.last!.end
            return end < range.upperBound && Self.isWordByte(bytes[end])
        }

        /// The track data after a PAN ending at `end`, to remove: track 1 after `^` up to `?` (else the end
        /// of the line), track 2 after `=` its digits and `?`.
        private func trackData(after end: Int) -> Range<Int>? {
            guard end + 1 < range.upperBound else { return nil }
            let start = end + 1
            switch bytes[end] {
            case UInt8(ascii: "^"):
                var index = start
                while index < range.upperBound, bytes[index] != UInt8(ascii: "?"), bytes[index] != UInt8(ascii: "\n") { index += 1 }
                if index < range.upperBound, bytes[index] == UInt8(ascii: "?") { index += 1 }
                return start..<index
            case UInt8(ascii: "="):
                guard digit(at: start) != nil else { return nil }
                var index = start
                while let next = digit(at: index) { index += next.length }
                if index < range.upperBound, bytes[index] == UInt8(ascii: "?") { index += 1 }
                return start..<index
            default:
                return nil
            }
        }

        /// The groups joined by single separators from `start` on.
        private func chain(at start: Int) -> [Group] {
            var groups: [Group] = []
            var index = start
            var separator: UInt8?
            while true {
                var digits: [Digit] = []
                while let next = digit(at: index) {
                    digits.append(next)
                    index += next.length
                }
                groups.append(Group(digits: digits, separator: separator))
                guard let joint = self.separator(at: index), digit(at: index + joint.length) != nil else { return groups }
                separator = joint.byte
                index += joint.length
            }
        }

        /// Where the chain from `start` on ends (as `chain(at:)` reads it) and how many digits it holds.
        private func chainExtent(at start: Int) -> (end: Int, digits: Int) {
            var index = start
            var digits = 0
            while true {
                while let next = digit(at: index) {
                    digits += 1
                    index += next.length
                }
                guard let joint = separator(at: index), digit(at: index + joint.length) != nil else { return (index, digits) }
                index += joint.length
            }
        }

        private func digit(at index: Int) -> Digit? {
            guard index < range.upperBound else { return nil }
            let byte = bytes[index]
            if Self.isDigit(byte) { return Digit(start: index, length: 1, value: byte - 0x30) }
            // `\u0030`…`\u0039`: a digit as JSON may escape it.
            guard byte == UInt8(ascii: "\\"), index + 5 < range.upperBound, bytes[index + 1] == UInt8(ascii: "u"),
                  bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"), bytes[index + 4] == UInt8(ascii: "3"),
                  Self.isDigit(bytes[index + 5])
            else { return nil }
            return Digit(start: index, length: 6, value: bytes[index + 5] - 0x30)
        }

        private func separator(at index: Int) -> (byte: UInt8, length: Int)? {
            guard index < range.upperBound else { return nil }
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"): return (bytes[index], 1)
            case UInt8(ascii: "\\") where index + 1 < range.upperBound && bytes[index + 1] == UInt8(ascii: "/"): return (UInt8(ascii: "/"), 2)
            default: return nil
            }
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

        static func isWordByte(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == UInt8(ascii: "_")
        }
    }
}
