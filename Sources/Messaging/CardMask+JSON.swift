import Foundation

extension CardMask {
    /// A JSON body with every card number masked (the rule of `CardMask`), still valid JSON: inside
    /// strings (escaped digits included) the digits are masked in place; a number token that is a card
    /// number becomes a string (`{"note": 4111111111111111}` → `{"note": "411111******1111"}`), so a
    /// field typed as a number then fails to decode, loudly, rather than keep the PAN. Numbers under an
    /// identifier key (`id`, `…_id`, `…_ids`, `…Id`) are ids Heartland assigns (a ticket line's id has 13
    /// digits and may pass Luhn), not text anyone typed: left alone. Returns the body and how many card
    /// numbers were masked. A body that is not JSON is masked all the same.
    public static func scrub(_ body: Data) -> (body: Data, masked: Int) {
        let bytes = [UInt8](body)
        var output: [UInt8] = []
        var copied = 0
        var masked = 0
        var index = 0
        var key: ArraySlice<UInt8> = []  // the last object key seen
        func replace(_ range: Range<Int>, quoted: Bool, with replacement: [UInt8]) {
            output.append(contentsOf: bytes[copied..<range.lowerBound])
            if quoted { output.append(UInt8(ascii: "\"")) }
            output.append(contentsOf: replacement)
            if quoted { output.append(UInt8(ascii: "\"")) }
            copied = range.upperBound
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let start = index + 1
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                end = min(end, bytes.count)
                if Self.mayHoldCardNumber(start..<end), let found = mask(bytes, in: start..<end) {
                    replace(start..<end, quoted: false, with: found.bytes)
                    masked += found.count
                }
                index = end + 1
                var next = index
                while next < bytes.count, Self.isWhitespace(bytes[next]) { next += 1 }
                if next < bytes.count, bytes[next] == UInt8(ascii: ":") { key = bytes[start..<end] }
            } else if PANScanner.isDigit(byte) || byte == UInt8(ascii: "-") {
                var end = index + 1
                while end < bytes.count, Self.isNumberByte(bytes[end]) { end += 1 }
                if Self.mayHoldCardNumber(index..<end), !Self.isIdentifierKey(key), let found = mask(bytes, in: index..<end) {
                    // The masked number as a string: `*` is not a JSON number.
                    replace(index..<end, quoted: true, with: found.bytes)
                    masked += found.count
                }
                index = end
            } else {
                index += 1
            }
        }
        guard masked > 0 else { return (body, 0) }
        output.append(contentsOf: bytes[min(copied, bytes.count)...])
        return (Data(output), masked)
    }

    /// Whether a string's body or a number at `range` is long enough to hold a card number: fewer bytes than a card number
    /// has digits cannot (every digit takes a byte or more). Most of a ticket page's strings and numbers are shorter, and
    /// scanning each for digits was most of heartland-ingest's time in scrubbing a page (issue 21).
    private static func mayHoldCardNumber(_ range: Range<Int>) -> Bool { range.count >= panDigits.lowerBound }

    /// Read from the key's bytes as they stand: a ticket page has dozens of numbers a ticket, and making a String of the key
    /// for each was heartland-ingest's largest cost in scrubbing a page (issue 21).
    static func isIdentifierKey(_ key: ArraySlice<UInt8>) -> Bool {
        func endsWith(_ suffix: String) -> Bool { key.count >= suffix.utf8.count && key.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) }
        return key.elementsEqual("id".utf8) || key.elementsEqual("ids".utf8)
            || endsWith("_id") || endsWith("_ids") || endsWith("Id") || endsWith("Ids")
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        PANScanner.isDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
