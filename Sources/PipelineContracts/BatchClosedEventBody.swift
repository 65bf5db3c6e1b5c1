import Accounting
import Foundation

/// A batch event's JSON as heartland-ingest keeps and publishes it, and its reading by the transformer, without Foundation's
/// string escaping of the tickets. The tickets travel as one JSON string (`RawJSON`: Heartland's bytes, unchanged): 17.5 MB
/// for a 10,000-ticket day, whose escaping took heartland-ingest 0.28 s and whose unescaping took the transformer 0.14 s
/// through JSONEncoder/JSONDecoder (issue 21). The message is the same `bridge.heartland.batch_closed.v1` JSON either way:
/// the body is written with sorted keys, the tickets last, and read back by any JSON reader; a body this reader does not
/// recognise (another key order, white space) is read by JSONDecoder.
extension BatchClosedEvent {
    /// The event's JSON, keys sorted (as `OutboundMessage(json:)` writes), the tickets escaped here.
    public func encodedBody() throws -> Data {
        let length = JSONStringBytes.escapedLength(of: tickets.data)
        return Data(try encodedBytes(escapedTickets: length, fallback: self) { body in
            JSONStringBytes.escape(tickets.data, escapedLength: length, into: &body)
        })
    }

    /// The same JSON for this event with records as its tickets, a JSON array of them (`[r1,r2,…]`), written from records
    /// escaped beforehand a page at a time (`EscapedRecords`): those `keep` names (by page and record), in order, into bytes
    /// a message carries as they are. Each page's bytes are let go once written, so the pages and the body are never held
    /// whole side by side, nor the tickets unescaped in one piece (heartland-ingest escapes a page as it arrives and lets
    /// the page as served go).
    public func encodedBody(escapedPages: consuming [EscapedRecords], keep: (_ page: Int, _ record: Int) -> Bool) throws -> [UInt8] {
        let kept = escapedPages.indices.map { page in escapedPages[page].ranges.indices.filter { keep(page, $0) } }
        let count = kept.reduce(0) { $0 + $1.count }
        let length = zip(escapedPages, kept).reduce(2 + max(0, count - 1)) { sum, pair in
            pair.1.reduce(sum) { $0 + pair.0.ranges[$1].count }
        }
        var whole: BatchClosedEvent {
            var event = self
            event.tickets = RawJSON(HeartlandJSON.array(of: zip(escapedPages, kept).flatMap { page, records in records.map(page.unescaped) }))
            return event
        }
        return try encodedBytes(escapedTickets: length, fallback: whole) { body in
            body.append(UInt8(ascii: "["))
            var first = true
            for page in escapedPages.indices {
                for record in kept[page] {
                    if !first { body.append(UInt8(ascii: ",")) }
                    first = false
                    body.append(contentsOf: escapedPages[page].bytes[escapedPages[page].ranges[record]])
                }
                escapedPages[page] = EscapedRecords()
            }
            body.append(UInt8(ascii: "]"))
        }
    }

    /// The shell (this event without its tickets) encoded, then the tickets' string written by `writeTickets`, escaped, in
    /// `escapedTickets` bytes reserved beforehand (no growing, which copies); `fallback` encoded whole by JSONEncoder if the
    /// shell does not end with its empty tickets (never with sorted keys).
    private func encodedBytes(escapedTickets: Int, fallback: @autoclosure () -> BatchClosedEvent,
                              writeTickets: (inout [UInt8]) -> Void) throws -> [UInt8] {
        var shell = self
        shell.tickets = RawJSON(Data())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let encodedShell = try encoder.encode(shell)
        // With sorted keys `tickets` is the last member: the shell ends `"tickets":""}`.
        guard encodedShell.count >= Self.emptyTicketsEnd.count, encodedShell.suffix(Self.emptyTicketsEnd.count).elementsEqual(Self.emptyTicketsEnd) else {
            return Array(try encoder.encode(fallback()))
        }
        var body: [UInt8] = []
        body.reserveCapacity(encodedShell.count + escapedTickets)
        body.append(contentsOf: encodedShell.dropLast(2))  // `"}`
        writeTickets(&body)
        body.append(contentsOf: "\"}".utf8)
        return body
    }

    /// The event in `body`: the tickets unescaped here when the body is as `encodedBody()` writes it, otherwise JSONDecoder
    /// reads the whole body.
    public init(body: Data) throws {
        try self.init(split: Self.split(body)) { try JSONDecoder().decode(BatchClosedEvent.self, from: body) }
    }

    /// The same from a message's bytes as delivered, read where they are (no copy of a 98 MB body into a `Data` first).
    public init(bytes body: [UInt8]) throws {
        try self.init(split: body.withUnsafeBufferPointer(Self.split)) { try JSONDecoder().decode(BatchClosedEvent.self, from: Data(body)) }
    }

    /// The event from its shell and unescaped tickets, or `decoded` when the body could not be split.
    private init(split: (shell: Data, tickets: Data)?, otherwise decoded: () throws -> BatchClosedEvent) throws {
        guard let (shell, tickets) = split else {
            self = try decoded()
            return
        }
        self = try JSONDecoder().decode(BatchClosedEvent.self, from: shell)
        self.tickets = RawJSON(tickets)
    }

    private static let emptyTicketsEnd = Array(#""tickets":""}"#.utf8)
    private static let ticketsKey = Array(#""tickets":""#.utf8)

    /// The body without the tickets' value (`"tickets":""`) and the tickets unescaped; nil when the body does not end with
    /// the tickets string. The key is found as bytes: a quote inside a JSON string is always escaped, so `"tickets":"` can
    /// only be a member's name, and of the top-level object (the store's members are `id`, `time_zone`, `currency`).
    static func split(_ body: Data) -> (shell: Data, tickets: Data)? {
        body.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in split(raw.bindMemory(to: UInt8.self)) }
    }

    static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> (shell: Data, tickets: Data)? {
        guard let key = find(ticketsKey, in: bytes) else { return nil }
        let start = key + ticketsKey.count
        guard let (tickets, end) = JSONStringBytes.unescape(bytes, from: start), end + 1 == bytes.count, bytes[end] == UInt8(ascii: "}") else {
            return nil
        }
        var shell = Data(UnsafeBufferPointer(rebasing: bytes[..<start]))
        shell.append(contentsOf: Array("\"}".utf8))
        return (shell, tickets)
    }

    private static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first, needle.indices.allSatisfy({ haystack[index + $0] == needle[$0] }) { return index }
            index += 1
        }
        return nil
    }
}

/// Records escaped as the body of a JSON string is (`BatchClosedEvent.encodedBody(escapedPages:keep:)`), one after the
/// other in one buffer of their exact length, each by its range.
public struct EscapedRecords: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var ranges: [Range<Int>] = []

    public init() {}

    public init(_ records: [Data]) {
        let lengths = records.map(JSONStringBytes.escapedLength(of:))
        bytes.reserveCapacity(lengths.reduce(0, +))
        for (record, length) in zip(records, lengths) {
            let start = bytes.count
            JSONStringBytes.escape(record, escapedLength: length, into: &bytes)
            ranges.append(start..<bytes.count)
        }
    }

    /// Record `index` as it was before escaping.
    func unescaped(_ index: Int) -> Data {
        var quoted = Array(bytes[ranges[index]])
        quoted.append(UInt8(ascii: "\""))
        return quoted.withUnsafeBufferPointer { JSONStringBytes.unescape($0, from: 0)?.0 } ?? Data()
    }
}

/// The body of a JSON string (RFC 8259 §7), as bytes.
enum JSONStringBytes {
    private static let hex = Array("0123456789abcdef".utf8)

    /// How many bytes `text` takes escaped.
    static func escapedLength(of text: Data) -> Int {
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
    static func escape(_ text: Data, escapedLength: Int, into out: inout [UInt8]) {
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

    /// The string whose body starts at `start` (just after its opening quotation mark), unescaped, and the index just after
    /// its closing quotation mark; nil when it is not a well-formed JSON string (a raw control character, an unknown
    /// escape, a lone surrogate, no closing mark).
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (Data, Int)? {
        var end: Int?
        // Unescaped, a string is never longer than escaped: written in place into that much, then cut to its length.
        var out = Data(count: bytes.count - start)
        var written = 0
        out.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            end = unescape(bytes, from: start, into: raw.bindMemory(to: UInt8.self), written: &written)
        }
        guard let end else { return nil }
        out.count = written
        return (out, end)
    }

    private static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, into out: UnsafeMutableBufferPointer<UInt8>,
                                 written: inout Int) -> Int? {
        func hex4(at at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[at..<at + 4] {
                guard let digit = byte.hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return index + 1 }
            if byte < 0x20 { return nil }
            guard byte == UInt8(ascii: "\\") else {
                out[written] = byte
                written += 1
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { return nil }
            let escaped = bytes[index + 1]
            index += 2
            let simple: UInt8? = switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escaped
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "t"): 0x09
            default: nil
            }
            if let simple {
                out[written] = simple
                written += 1
                continue
            }
            guard escaped == UInt8(ascii: "u"), var scalar = hex4(at: index) else { return nil }
            index += 4
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate: its low surrogate follows as `\uDC00`–`\uDFFF`.
                guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                      let low = hex4(at: index + 2), (0xDC00..<0xE000).contains(low)
                else { return nil }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                index += 6
            } else if (0xDC00..<0xE000).contains(scalar) {
                return nil
            }
            guard let unicode = Unicode.Scalar(scalar) else { return nil }
            // At most four UTF-8 bytes for the six or twelve of the escape.
            for unit in String(unicode).utf8 {
                out[written] = unit
                written += 1
            }
        }
        return nil
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
