import Foundation

/// The body of a JSON string (RFC 8259 §7), as bytes.
package enum JSONStringBytes {
    private static let hex = Array("0123456789abcdef".utf8)

    /// How many bytes `text` takes escaped.
    package static func escapedLength(of text: Data) -> Int {
        text.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var length = 0
            for byte in raw {
                length += byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") ? 2 : byte < 0x20 ? 6 : 1
            }
            return length
        }
    }

    /// Appends `text` (UTF-8) escaped: quotation mark, reverse solidus and control characters; everything else as it is.
    /// Written in place at the end of `out` (no copy of them between), in `escapedLength` bytes (`escapedLength(of: text)`).
    package static func escape(_ text: Data, escapedLength: Int, into out: inout [UInt8]) {
        text.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var at = out.count
            out.append(contentsOf: repeatElement(0, count: escapedLength))
            out.withUnsafeMutableBufferPointer { target in
                func put(_ unit: UInt8) {
                    target[at] = unit
                    at += 1
                }
                for byte in bytes {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                        put(UInt8(ascii: "\\"))
                        put(byte)
                    case 0..<0x20:
                        for unit in [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]] {
                            put(unit)
                        }
                    default:
                        put(byte)
                    }
                }
            }
        }
    }

    /// The bytes of `range`, a stretch of a string's body with no quotation mark of its own (a record of the tickets a
    /// batch event carries as one string), unescaped; nil when the stretch is not well-formed (it ends inside an escape).
    package static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> Data? {
        let stretch = UnsafeBufferPointer(rebasing: bytes[range])
        var out = Data(count: stretch.count)
        var written = 0
        let wellFormed = out.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            unescape(stretch, into: raw.bindMemory(to: UInt8.self), written: &written)
        }
        guard wellFormed else { return nil }
        out.count = written
        return out
    }

    /// The character the string's body has at `index`, as one byte, and how many bytes it takes there: a byte below 0x80
    /// as itself (`\"` is a quotation mark, `\u000a` a line feed), any other character as 0x80 (what reading JSON's
    /// structure needs: never a quotation mark, bracket, comma or space); nil at the string's closing quotation mark, for a
    /// raw control character or a malformed escape, and past the end.
    package static func character(in bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (byte: UInt8, width: Int)? {
        guard index < bytes.count else { return nil }
        let byte = bytes[index]
        if byte == UInt8(ascii: "\"") || byte < 0x20 { return nil }  // the string's end, or not a string
        guard byte == UInt8(ascii: "\\") else { return byte < 0x80 ? (byte, 1) : (0x80, 1) }
        guard index + 1 < bytes.count else { return nil }
        if let simple = simpleEscape(bytes[index + 1]) { return (simple, 2) }
        guard bytes[index + 1] == UInt8(ascii: "u"), let value = hex4(in: bytes, at: index + 2) else { return nil }
        switch value {
        case 0xD800..<0xDC00:
            // A high surrogate: its low surrogate follows.
            guard lowSurrogate(in: bytes, at: index + 6) != nil else { return nil }
            return (0x80, 12)
        case 0xDC00..<0xE000: return nil
        default: return (value < 0x80 ? UInt8(value) : 0x80, 6)
        }
    }

    /// The index of the quotation mark that closes the string whose body starts at `start`; nil when there is none or the
    /// body is malformed before it.
    package static func closingMark(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return index }
            if byte == UInt8(ascii: "\\") {
                guard let (_, width) = character(in: bytes, at: index) else { return nil }
                index += width
            } else {
                guard byte >= 0x20 else { return nil }
                index += 1
            }
        }
        return nil
    }

    /// The character a simple escape (`\"`, `\n`, …) stands for, after its reverse solidus; nil for `u` and unknown ones.
    private static func simpleEscape(_ escaped: UInt8) -> UInt8? {
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escaped
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The four hexadecimal digits at `at` (of a `\u` escape).
    private static func hex4(in bytes: UnsafeBufferPointer<UInt8>, at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[at..<at + 4] {
            guard let digit = byte.hexDigitValue else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The low surrogate `\uDC00`–`\uDFFF` that must follow a high one, at `at`.
    private static func lowSurrogate(in bytes: UnsafeBufferPointer<UInt8>, at: Int) -> UInt32? {
        guard at + 6 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u"),
              let low = hex4(in: bytes, at: at + 2), (0xDC00..<0xE000).contains(low)
        else { return nil }
        return low
    }

    /// Unescapes all of `bytes` (a stretch of a string's body) into `out`; false when it is malformed (a quotation mark or
    /// a control character of its own, an unknown escape, a lone surrogate, an escape cut at the end).
    private static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, written: inout Int) -> Bool {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte < 0x20 { return false }
            guard byte == UInt8(ascii: "\\") else {
                out[written] = byte
                written += 1
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { return false }
            let escaped = bytes[index + 1]
            index += 2
            if let simple = simpleEscape(escaped) {
                out[written] = simple
                written += 1
                continue
            }
            guard escaped == UInt8(ascii: "u"), var scalar = hex4(in: bytes, at: index) else { return false }
            index += 4
            if (0xD800..<0xDC00).contains(scalar) {
                guard let low = lowSurrogate(in: bytes, at: index) else { return false }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                index += 6
            } else if (0xDC00..<0xE000).contains(scalar) {
                return false
            }
            guard let unicode = Unicode.Scalar(scalar) else { return false }
            // At most four UTF-8 bytes for the six or twelve of the escape.
            for unit in String(unicode).utf8 {
                out[written] = unit
                written += 1
            }
        }
        return true
    }
}

private extension UInt8 {
    var hexDigitValue: Int? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(self - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(self - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(self - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
