import Foundation

/// Keeps primary account numbers out of the pipeline (ARCHITECTURE.md: only brand, first six,
/// last four and a token may enter). Every response body passes `scrub` before it is decoded, so
/// a full card number in any string field (a free-text description, a misconfigured gateway
/// echoing the PAN) is masked to `424242XXXXXX4242` before a record exists; `CardSummary` keeps
/// only first six and last four of `masked_number_first6last4`.
public enum CardDataGuard {
    /// Masks every PAN-like run in a text: 13–19 digits (single spaces or dashes between digit
    /// groups allowed), not part of a longer word, passing the Luhn check.
    public static func mask(_ text: String) -> String {
        var bytes = Array(text.utf8)
        guard maskDigitRuns(&bytes, in: 0..<bytes.count) > 0 else { return text }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Masks PANs inside the string literals of a JSON body; numbers and structure are untouched,
    /// so the body still parses. Returns the body and how many numbers were masked.
    public static func scrub(_ body: Data) -> (body: Data, masked: Int) {
        var bytes = [UInt8](body)
        var masked = 0
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\"") else {
                index += 1
                continue
            }
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            end = min(end, bytes.count)
            if end - start >= 13 { masked += maskDigitRuns(&bytes, in: start..<end) }
            index = end + 1
        }
        return masked == 0 ? (body, 0) : (Data(bytes), masked)
    }

    /// True when the text holds a PAN-like number.
    public static func containsCardNumber(_ text: String) -> Bool { mask(text) != text }

    /// First six and last four of a masked (or, defensively, unmasked) card number.
    public static func firstSixLastFour(_ masked: String) -> (first6: String?, last4: String?) {
        let characters = Array(masked.filter { !$0.isWhitespace && $0 != "-" })
        guard characters.count >= 10 else { return (nil, nil) }
        let first = String(characters.prefix(6)), last = String(characters.suffix(4))
        return (first.allSatisfy(\.isNumber) ? first : nil, last.allSatisfy(\.isNumber) ? last : nil)
    }

    /// Whether a card summary holds only permitted data: brand, 6-digit first six, 4-digit last four, a token.
    public static func isPermitted(_ card: CardSummary) -> Bool {
        func digits(_ text: String?, _ count: Int) -> Bool { text.map { $0.count == count && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) } ?? true }
        let texts = [card.token, card.authCode, card.brandReference, card.brand.rawValue].compactMap { $0 }
        return digits(card.first6, 6) && digits(card.last4, 4) && !texts.contains(where: containsCardNumber)
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

    /// Scans `range` for digit runs and masks those that look like PANs. Returns how many.
    private static func maskDigitRuns(_ bytes: inout [UInt8], in range: Range<Int>) -> Int {
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func isWordByte(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == UInt8(ascii: "_") }
        var count = 0
        var index = range.lowerBound
        while index < range.upperBound {
            guard isDigit(bytes[index]), index == range.lowerBound || !isWordByte(bytes[index - 1]) else {
                index += 1
                continue
            }
            // Collect digits, allowing a single space or dash between digits.
            var positions: [Int] = []
            var groups: [Int] = [0]
            var cursor = index
            while cursor < range.upperBound {
                if isDigit(bytes[cursor]) {
                    positions.append(cursor)
                    groups[groups.count - 1] += 1
                    cursor += 1
                } else if bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: "-"),
                    cursor + 1 < range.upperBound, isDigit(bytes[cursor + 1])
                {
                    groups.append(0)
                    cursor += 1
                } else {
                    break
                }
            }
            // Grouped digits look like a card only as 4-4-4-4, 4-6-5 and similar, never like
            // `20261127-00001` (a ticket number) or a date.
            let cardGrouping = groups.count == 1 || (groups[0] == 4 && groups.allSatisfy { (3...6).contains($0) })
            let boundedAfter = cursor >= range.upperBound || !isWordByte(bytes[cursor])
            if boundedAfter, cardGrouping, (13...19).contains(positions.count), luhnValid(positions.map { bytes[$0] - 0x30 }) {
                for position in positions.dropFirst(6).dropLast(4) { bytes[position] = UInt8(ascii: "X") }
                count += 1
            }
            index = max(cursor, index + 1)
        }
        return count
    }
}
