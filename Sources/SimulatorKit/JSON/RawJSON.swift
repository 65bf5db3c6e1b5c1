import Foundation

/// JSON kept as the exact bytes it was written with, for records a simulator must serve verbatim
/// (a malformed amount, a number where a string belongs, odd spacing): `JSONValue` would normalise them.
public enum RawJSON {
    /// The elements of the array under `key` of the top-level object in `data`, each as its own bytes;
    /// nil when `data` is not an object or `key` does not hold an array.
    public static func arrayElements(forKey key: String, in data: Data) -> [Data]? {
        let bytes = [UInt8](data)
        var scanner = Scanner(bytes: bytes)
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        while true {
            scanner.skipWhitespace()
            if scanner.consume(UInt8(ascii: "}")) { return nil }
            guard let keyRange = scanner.skipValue(), let name = try? JSONDecoder().decode(String.self, from: Data(bytes[keyRange])),
                scanner.consume(UInt8(ascii: ":"))
            else { return nil }
            scanner.skipWhitespace()
            if name == key {
                guard scanner.consume(UInt8(ascii: "[")) else { return nil }
                var elements: [Data] = []
                while true {
                    scanner.skipWhitespace()
                    if scanner.consume(UInt8(ascii: "]")) { return elements }
                    guard let element = scanner.skipValue() else { return nil }
                    elements.append(Data(bytes[element]))
                    scanner.skipWhitespace()
                    _ = scanner.consume(UInt8(ascii: ","))
                }
            }
            guard scanner.skipValue() != nil else { return nil }
            scanner.skipWhitespace()
            _ = scanner.consume(UInt8(ascii: ","))
        }
    }

    /// Whether `data` is one JSON object (whatever its content), surrounding whitespace allowed.
    public static func isObject(_ data: Data) -> Bool {
        guard case .object = try? JSONValue.parse(data) else { return false }
        return true
    }

    /// Walks JSON text without building values: enough to find where each value starts and ends.
    struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
            skipWhitespace()
        }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// Skips one value (string, number, literal, object or array) and returns its byte range.
        mutating func skipValue() -> Range<Int>? {
            skipWhitespace()
            let start = position
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                guard skipString() else { return nil }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                repeat {
                    guard position < bytes.count else { return nil }
                    switch bytes[position] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return nil }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                    default: break
                    }
                    position += 1
                } while depth > 0
            default:
                while position < bytes.count, !Array(",}] \t\r\n".utf8).contains(bytes[position]) { position += 1 }
                guard position > start else { return nil }
            }
            return start..<position
        }

        /// From an opening quote to just past its closing quote.
        private mutating func skipString() -> Bool {
            position += 1
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\\"): position += 2
                case UInt8(ascii: "\""):
                    position += 1
                    return true
                default: position += 1
                }
            }
            return false
        }
    }
}

/// A JSON response in which some values are raw bytes: build the document with `placeholder(for:)`
/// where a raw value goes, then `serialize` puts each raw value's bytes in its place.
public struct RawJSONSplice: Sendable {
    private let nonce = UUID().uuidString
    private var fragments: [Data] = []

    public init() {}

    /// A stand-in string for `raw`; control characters keep it from colliding with real text.
    public mutating func placeholder(for raw: Data) -> JSONValue {
        fragments.append(raw)
        return .string("\u{1}raw:\(nonce):\(fragments.count - 1)\u{1}")
    }

    /// `value` serialised, each placeholder replaced by its raw bytes (placeholders are met in the
    /// order they were made, as arrays serialise in order; a placeholder not found is left as it is).
    public func serialize(_ value: JSONValue) -> Data {
        let text = value.serialized()
        guard !fragments.isEmpty else { return text }
        var out = Data()
        var cursor = text.startIndex
        for (index, fragment) in fragments.enumerated() {
            let token = Data("\"\\u0001raw:\(nonce):\(index)\\u0001\"".utf8)
            guard let range = text.range(of: token, in: cursor..<text.endIndex) else { continue }
            out.append(text[cursor..<range.lowerBound])
            out.append(fragment)
            cursor = range.upperBound
        }
        out.append(text[cursor..<text.endIndex])
        return out
    }
}
