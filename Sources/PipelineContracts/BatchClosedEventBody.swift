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
        if let escaped = tickets.escaped {
            return Data(try encodedBytes(escapedTickets: escaped.range.count, fallback: self) { body in
                body.append(contentsOf: escaped.bytes[escaped.range])
            })
        }
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
        guard let (shell, tickets) = Self.split(body) else {
            self = try JSONDecoder().decode(BatchClosedEvent.self, from: body)
            return
        }
        self = try JSONDecoder().decode(BatchClosedEvent.self, from: shell)
        self.tickets = RawJSON(tickets)
    }

    /// The same from a message's bytes as delivered, the tickets left where they stand escaped in them (`RawJSON.escaped`):
    /// neither the body copied into a `Data` nor the tickets unescaped whole (98 and 88 MB for a 100,000-ticket day).
    public init(bytes body: [UInt8]) throws {
        guard let (shell, tickets) = body.withUnsafeBufferPointer(Self.ticketsStanding) else {
            self = try JSONDecoder().decode(BatchClosedEvent.self, from: Data(body))
            return
        }
        self = try JSONDecoder().decode(BatchClosedEvent.self, from: shell)
        self.tickets = RawJSON(escaped: EscapedJSON(bytes: body, range: tickets))
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
        guard let (shell, range) = ticketsStanding(bytes), let tickets = JSONStringBytes.unescape(bytes, range: range) else { return nil }
        return (shell, tickets)
    }

    /// The body without the tickets' value and where the tickets' string stands in it (after its opening quotation mark,
    /// before its closing one); nil when the body does not end with the tickets string.
    static func ticketsStanding(_ bytes: UnsafeBufferPointer<UInt8>) -> (shell: Data, tickets: Range<Int>)? {
        guard let key = find(ticketsKey, in: bytes) else { return nil }
        let start = key + ticketsKey.count
        guard let end = JSONStringBytes.closingMark(in: bytes, from: start), end + 2 == bytes.count, bytes[end + 1] == UInt8(ascii: "}") else {
            return nil
        }
        var shell = Data(UnsafeBufferPointer(rebasing: bytes[..<start]))
        shell.append(contentsOf: Array("\"}".utf8))
        return (shell, start..<end)
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
        EscapedJSON(bytes: bytes, range: ranges[index]).unescaped() ?? Data()
    }
}
