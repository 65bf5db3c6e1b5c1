import Foundation
import Synchronization

/// One Retail ticket record as received, read on its own, so that a bad record is named and held
/// while the others post (ACCOUNTING.md: validation is per document).
public struct TicketRecord: Sendable, Equatable {
    /// The record's `id` as written (nil when it has none that can be read).
    public var id: String?
    /// Its receipt number (`public_id`), when readable.
    public var number: String?
    /// The record's bytes exactly as received (an amount like `12.30` never passes through a binary double); read again
    /// from where they stand escaped when the record was read from a batch event's tickets (`EscapedJSON`), so that a
    /// day's records do not hold a second copy of the day.
    public var raw: Data {
        get {
            switch bytes {
            case .data(let data): data
            case .escaped(let json, let range): json.unescaped(range) ?? Data(json.bytes[range])
            }
        }
        set { bytes = .data(newValue) }
    }
    /// The ticket, or why it cannot post: the field and the problem.
    public var ticket: Ticket?
    public var problem: HeartlandDataError? {
        get { problems.first }
        set { problems = newValue.map { [$0] } ?? [] }
    }
    /// The ticket's Retail details (`TicketDetails.parse` of `raw`, for its id), read from the same parse; nil without a ticket.
    public var details: TicketDetails?

    private enum Bytes: Sendable {
        case data(Data)
        case escaped(EscapedJSON, Range<Int>)
    }

    private var bytes: Bytes
    /// The problem, held apart: few records have one, and inline its three strings would take 49 bytes of every record of a
    /// day held at once (an empty array takes 8 and allocates nothing).
    private var problems: [HeartlandDataError] = []

    public init(id: String?, number: String?, raw: Data, ticket: Ticket? = nil, problem: HeartlandDataError? = nil, details: TicketDetails? = nil) {
        self.id = id
        self.number = number
        self.bytes = .data(raw)
        self.ticket = ticket
        self.problem = problem
        self.details = details
    }

    /// The same record, its bytes those at `range` of `json`.
    func standing(at range: Range<Int>, of json: EscapedJSON) -> TicketRecord {
        var record = self
        record.bytes = .escaped(json, range)
        return record
    }

    /// The record's id, or `?<fingerprint of its bytes>` for a record without a readable id (heartland-ingest claims it
    /// under the same name).
    public var documentID: String { id ?? "?" + HeartlandJSON.fingerprint(raw) }

    public static func == (lhs: TicketRecord, rhs: TicketRecord) -> Bool {
        lhs.id == rhs.id && lhs.number == rhs.number && lhs.ticket == rhs.ticket && lhs.problem == rhs.problem && lhs.details == rhs.details
            && lhs.raw == rhs.raw
    }
}

/// The tickets of a day's records, read where the records hold them, by position: never copied into an array of their own
/// (5 MB at 50,000 tickets, held while the journals are built; issue 21).
public struct RecordedTickets: RandomAccessCollection, Sendable {
    public let records: [TicketRecord]
    /// The positions in `records` of the tickets, in order.
    public let positions: [Int]

    /// Every record's ticket, those that have one.
    public init(_ records: [TicketRecord]) {
        self.init(records: records, positions: records.indices.filter { records[$0].ticket != nil })
    }

    private init(records: [TicketRecord], positions: [Int]) {
        self.records = records
        self.positions = positions
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { positions.count }
    public subscript(position: Int) -> Ticket { records[positions[position]].ticket! }

    /// The record the ticket at `position` was read from.
    public func record(at position: Int) -> TicketRecord { records[positions[position]] }

    /// Those of the tickets that satisfy `isKept`, still where the records hold them.
    public func keeping(_ isKept: (Ticket) -> Bool) -> RecordedTickets {
        RecordedTickets(records: records, positions: indices.filter { isKept(self[$0]) }.map { positions[$0] })
    }
}

/// JSON text held escaped, as the body of a JSON string inside a larger message (a batch event's tickets inside its
/// delivery's bytes), read where it stands: its records are found and unescaped one at a time.
public struct EscapedJSON: Sendable, CustomDebugStringConvertible {
    /// The message's bytes.
    public let bytes: [UInt8]
    /// Where in them the string's body stands (after its opening quotation mark, before its closing one).
    public let range: Range<Int>

    public init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.range = range
    }

    public var debugDescription: String { "EscapedJSON(\(range.count) of \(bytes.count) bytes)" }

    /// The whole text unescaped; nil when it is not well-formed.
    public func unescaped() -> Data? { unescaped(range) }

    func unescaped(_ part: Range<Int>) -> Data? {
        bytes.withUnsafeBufferPointer { JSONStringBytes.unescape($0, range: part) }
    }
}

extension HeartlandJSON {
    /// A short, stable fingerprint of a record's bytes (FNV-1a, 64 bits, base 36): two versions of a record differ in it.
    public static func fingerprint(_ data: Data) -> String {
        String(data.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }, radix: 36)
    }

    /// Every ticket record of a payload (a page, an array of pages, an array of records or one record),
    /// each read and checked on its own: a record that cannot be read (an amount `"12.3x"`, a timestamp
    /// without an offset, another currency, a cash tender with a tip) carries its problem instead of a
    /// ticket. Two records under one id with different content both carry a problem: which one is right
    /// is for a person to say. Identical repeats are kept once.
    public static func ticketRecords(from data: Data, currency: CurrencyCode) throws -> [TicketRecord] {
        checked(read(try JSONSlices.records(in: data), currency: currency))
    }

    /// The same of tickets held escaped (a batch event's, in its delivery's bytes): each record unescaped on its own to be
    /// read and let go, its bytes left where they stand (`TicketRecord.raw` reads them again when asked).
    public static func ticketRecords(from json: EscapedJSON, currency: CurrencyCode) throws -> [TicketRecord] {
        checked(JSONSlices.inShares(try JSONSlices.records(in: json)) { range in
            guard let raw = json.unescaped(range) else {
                return TicketRecord(id: nil, number: nil, raw: Data(json.bytes[range]),
                                    problem: HeartlandDataError(record: "ticket", field: "(record)", problem: "is not a well-formed JSON string"))
            }
            return read(raw, currency: currency).standing(at: range, of: json)
        })
    }

    /// Records as read, identical repeats kept once, conflicting ones and those without an id set aside; in place (a day's
    /// records are 15 MB as an array, not copied).
    private static func checked(_ read: consuming [TicketRecord]) -> [TicketRecord] {
        var records = consume read
        var first: [String: Int] = [:]
        var repeats: [Int] = []
        var conflicting: Set<String> = []
        for index in records.indices {
            guard let id = records[index].id else {
                if records[index].problem == nil { records[index].problem = HeartlandDataError(record: "ticket", field: "id", problem: "is missing") }
                continue
            }
            guard let earlier = first[id] else {
                first[id] = index
                continue
            }
            if records[earlier].raw == records[index].raw { repeats.append(index) } else { conflicting.insert(id) }
        }
        if !repeats.isEmpty {
            let identical = Set(repeats)
            var unique: [TicketRecord] = []
            unique.reserveCapacity(records.count - identical.count)
            for index in records.indices where !identical.contains(index) { unique.append(records[index]) }
            records = unique
        }
        for index in records.indices {
            guard let id = records[index].id, conflicting.contains(id) else { continue }
            let count = records.filter { $0.id == id }.count
            records[index].ticket = nil
            records[index].problem = HeartlandDataError(
                record: "ticket \(id)", field: "id",
                problem: "Heartland served \(count) different records under this id; which one is the ticket is for a person to decide")
        }
        return records
    }

    /// Each record read on its own, in order, a day's worth on every core (`JSONSlices.inShares`).
    static func read(_ slices: [Data], currency: CurrencyCode) -> [TicketRecord] {
        JSONSlices.inShares(slices) { read($0, currency: currency) }
    }

    /// A record read plainly when it is written plainly (`WireTicket.plainly`), else through `JSONDecoder`: the same either way.
    static func read(_ raw: Data, currency: CurrencyCode) -> TicketRecord {
        guard let wire = WireTicket.plainly(raw) else { return readDecoding(raw, currency: currency) }
        return record(raw, identity: (String(wire.id), wire.publicId), currency: currency) { wire }
    }

    /// A record read through `JSONDecoder`: the reference the plain reading is held to.
    static func readDecoding(_ raw: Data, currency: CurrencyCode) -> TicketRecord {
        // One parse, and one container of the record's keys, for every reading: the record's identity (whatever else is
        // wrong with it), the ticket and its details.
        struct Readings: Decodable {
            var identity: (id: String?, number: String?)?
            var ticket: Result<WireTicket, any Error>
            init(from decoder: any Decoder) throws {
                do {
                    let container = try decoder.container(keyedBy: WireTicket.CodingKeys.self)
                    identity = WireIdentity.read(from: container, id: .id, publicId: .publicId)
                    do { ticket = .success(try WireTicket(from: container)) } catch { ticket = .failure(error) }
                } catch {
                    identity = nil
                    ticket = .failure(error)
                }
            }
        }
        let readings = Result { try TicketKeys.decoder(for: raw).decode(Readings.self, from: raw) }
        return record(raw, identity: try? readings.get().identity, currency: currency) { try readings.get().ticket.get() }
    }

    /// The record of `raw`, its identity and its ticket as read (`wire`), or why it cannot post.
    private static func record(_ raw: Data, identity: (id: String?, number: String?)?, currency: CurrencyCode,
                               wire read: () throws -> WireTicket) -> TicketRecord {
        var record = TicketRecord(id: identity?.id, number: identity?.number, raw: raw)
        do {
            let wire = try read()
            let ticket = try wire.ticket(currency: currency)
            record.ticket = ticket
            // The receipt number read twice (identity, ticket) is held once.
            if record.number == ticket.number { record.number = ticket.number }
            record.details = wire.details()
        } catch let error as HeartlandDataError {
            record.problem = error
        } catch let error as DecodingError {
            record.problem = HeartlandDataError(decoding: error, record: "ticket \(record.id ?? "?")")
        } catch {
            record.problem = HeartlandDataError(record: "ticket \(record.id ?? "?")", field: "(record)", problem: "\(error)")
        }
        return record
    }
}

/// The id and receipt number of a record, however malformed the rest of it is, read from the container of its keys that
/// the record's other readings share: nil when either cannot be read.
enum WireIdentity {
    struct Text: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let integer = try? container.decode(Int64.self) { text = String(integer) } else { text = try container.decode(String.self) }
        }
    }

    static func read<Key: CodingKey>(from container: KeyedDecodingContainer<Key>, id: Key, publicId: Key) -> (id: String?, number: String?)? {
        try? (container.decodeIfPresent(Text.self, forKey: id)?.text, container.decodeIfPresent(String.self, forKey: publicId))
    }
}

extension HeartlandDataError {
    /// A record that does not have Heartland's shape, named by the field's path (`payments[0].amount`).
    init(decoding error: DecodingError, record: String) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { text, key in
                if let index = key.intValue { return text + "[\(index)]" }
                let name = key.stringValue.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression).lowercased()
                return text.isEmpty ? name : text + "." + name
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(record: record, field: path(context.codingPath + [key]), problem: "is missing")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(record: record, field: path(context.codingPath).isEmpty ? "(record)" : path(context.codingPath),
                      problem: context.debugDescription)
        @unknown default:
            self.init(record: record, field: "(record)", problem: "\(error)")
        }
    }
}

/// Finds the byte ranges of records in Heartland's JSON without parsing their numbers.
enum JSONSlices {
    /// `body` of each record, in order. A day's worth of records is read on every core, a share each (reading a record
    /// depends on nothing but its bytes): a 10,000-ticket batch in about half the time on two. The calling thread takes
    /// part and waits for the others; the shares run on Dispatch's threads, not on Swift's cooperative pool.
    static func inShares<Record: Sendable, T: Sendable>(_ records: [Record], _ body: @Sendable (Record) -> T) -> [T] {
        let shares = min(ProcessInfo.processInfo.activeProcessorCount, records.count / minimumShare)
        guard shares > 1 else { return records.map(body) }
        let size = (records.count + shares - 1) / shares
        // Each share writes its results where they belong in the one array returned (not an array a share, joined after).
        return [T](unsafeUninitializedCapacity: records.count) { results, count in
            nonisolated(unsafe) let results = results
            DispatchQueue.concurrentPerform(iterations: shares) { share in
                for index in share * size..<min(records.count, (share + 1) * size) {
                    (results.baseAddress! + index).initialize(to: body(records[index]))
                }
            }
            count = records.count
        }
    }

    /// Fewer records than this a share are read on the calling thread alone (a refund's few tickets, a corrected one).
    static let minimumShare = 256

    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var description: String { "the payload is not JSON (at byte \(offset))" }
    }

    /// The records of a page (`{results: [...]}`), an array of pages, an array of records, or one record.
    /// The payload is read in place, and each record is a slice of it, not a copy (a 100,000-ticket day's tickets are 88 MB:
    /// copied out, the records were as much again).
    static func records(in data: Data) throws -> [Data] {
        let ranges = try data.withUnsafeBytes { raw in try records(in: Plain(bytes: raw.bindMemory(to: UInt8.self))) }
        return ranges.map { data[data.startIndex + $0.lowerBound..<data.startIndex + $0.upperBound] }
    }

    /// The same of JSON held escaped (`EscapedJSON`): the ranges of its records as they stand escaped, read without
    /// unescaping the whole (a batch event's tickets, 98 MB escaped for 100,000 tickets, were unescaped into 88 MB more).
    static func records(in json: EscapedJSON) throws -> [Range<Int>] {
        try json.bytes.withUnsafeBufferPointer { bytes in try records(in: Escaped(bytes: bytes, end: json.range.upperBound), from: json.range.lowerBound) }
    }

    /// A Retail page (`{..., pages, results: [...]}`): the elements of its `results` (none when missing or null) and its
    /// `pages` value as it stands (nil when missing). The first of a repeated name counts. A UTF-8 byte order mark before
    /// it is passed over, as `JSONDecoder` passes over it.
    static func page(in data: Data) throws -> (records: [Data], pages: Data?) {
        let (records, pages) = try data.withUnsafeBytes { raw -> ([Range<Int>], Range<Int>?) in
            let text = Plain(bytes: raw.bindMemory(to: UInt8.self))
            var scanner = Scanner(text: text, index: raw.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0)
            scanner.skipSpace()
            let page = try scanner.value()
            scanner.skipSpace()
            guard scanner.peek == nil else { throw Malformed(offset: scanner.index) }
            guard text.character(at: page.lowerBound)?.byte == UInt8(ascii: "{") else { throw NotAPage(problem: "is not an object") }
            var results: Range<Int>?, pages: Range<Int>?
            try members(ofObject: page, in: text) { key, value in
                if results == nil, characters(key, in: text, are: "\"results\"") { results = value }
                if pages == nil, characters(key, in: text, are: "\"pages\"") { pages = value }
                return results == nil || pages == nil
            }
            guard let results, !characters(results, in: text, are: "null") else { return ([], pages) }
            guard text.character(at: results.lowerBound)?.byte == UInt8(ascii: "[") else { throw NotAPage(problem: "has results that are not an array") }
            return (try elements(ofArray: results, in: text), pages)
        }
        let slice = { (range: Range<Int>) in data[data.startIndex + range.lowerBound..<data.startIndex + range.upperBound] }
        return (records.map(slice), pages.map(slice))
    }

    struct NotAPage: Error, CustomStringConvertible {
        var problem: String
        var description: String { "the page \(problem)" }
    }

    private static func records<Text: JSONText>(in text: Text, from start: Int = 0) throws -> [Range<Int>] {
        var scanner = Scanner(text: text, index: start)
        scanner.skipSpace()
        guard scanner.peek != nil else { return [] }
        return try records(of: scanner.value(), in: text)
    }

    private static func records<Text: JSONText>(of range: Range<Int>, in text: Text) throws -> [Range<Int>] {
        switch text.character(at: range.lowerBound)?.byte {
        case UInt8(ascii: "{"):
            if let results = try member("results", ofObject: range, in: text) { return try elements(ofArray: results, in: text) }
            return [range]
        case UInt8(ascii: "["):
            return try elements(ofArray: range, in: text).flatMap { element -> [Range<Int>] in
                // A page among records has a `results` key: an element whose bytes spell `results` nowhere, not even
                // behind an escape (`\u0072`), has none, and its keys are not read one by one (a day's array holds 50,000
                // records; reading the keys of each was 7.6 % of the transformer's CPU reading a batch event, on one core
                // before the records are read on all, issue 21). Such a record is then judged on its own, malformed or not.
                if text.character(at: element.lowerBound)?.byte == UInt8(ascii: "{"),
                   contains(Self.results, in: element, of: text) || contains(Self.escapedCharacter, in: element, of: text),
                   let results = try member("results", ofObject: element, in: text)
                {
                    return try elements(ofArray: results, in: text)
                }
                return [element]
            }
        default:
            throw Malformed(offset: range.lowerBound)
        }
    }

    private static func elements<Text: JSONText>(ofArray range: Range<Int>, in text: Text) throws -> [Range<Int>] {
        var scanner = Scanner(text: text, index: range.lowerBound)
        guard scanner.peek == UInt8(ascii: "[") else { throw Malformed(offset: range.lowerBound) }
        scanner.advance()
        var found: [Range<Int>] = []
        scanner.skipSpace()
        if scanner.peek == UInt8(ascii: "]") { return [] }
        while true {
            scanner.skipSpace()
            found.append(try scanner.value())
            scanner.skipSpace()
            if scanner.peek == UInt8(ascii: ",") { scanner.advance(); continue }
            guard scanner.peek == UInt8(ascii: "]") else { throw Malformed(offset: scanner.index) }
            return found
        }
    }

    /// The first member `name` of the object at `range` whose value is an array.
    private static func member<Text: JSONText>(_ name: String, ofObject range: Range<Int>, in text: Text) throws -> Range<Int>? {
        var found: Range<Int>?
        try members(ofObject: range, in: text) { key, value in
            if characters(key, in: text, are: "\"\(name)\""), text.character(at: value.lowerBound)?.byte == UInt8(ascii: "[") { found = value }
            return found == nil
        }
        return found
    }

    /// The ranges of the key and value of each member of the object at `range`, in order, until `body` returns false.
    private static func members<Text: JSONText>(ofObject range: Range<Int>, in text: Text,
                                                _ body: (_ key: Range<Int>, _ value: Range<Int>) throws -> Bool) throws {
        var scanner = Scanner(text: text, index: range.lowerBound)
        scanner.advance()
        scanner.skipSpace()
        if scanner.peek == UInt8(ascii: "}") { return }
        while true {
            scanner.skipSpace()
            let key = try scanner.value()
            scanner.skipSpace()
            guard scanner.peek == UInt8(ascii: ":") else { throw Malformed(offset: scanner.index) }
            scanner.advance()
            scanner.skipSpace()
            let value = try scanner.value()
            guard try body(key, value) else { return }
            scanner.skipSpace()
            if scanner.peek == UInt8(ascii: ",") { scanner.advance(); continue }
            guard scanner.peek == UInt8(ascii: "}") else { throw Malformed(offset: scanner.index) }
            return
        }
    }

    private static let results = Array("results".utf8), escapedCharacter = Array("\\u".utf8)

    /// Whether the bytes of `range` hold those of `needle` anywhere.
    private static func contains<Text: JSONText>(_ needle: [UInt8], in range: Range<Int>, of text: Text) -> Bool {
        let base = UnsafeRawPointer(text.bytes.baseAddress!)
        var index = range.lowerBound
        // Each of its first byte, found by memchr, then the rest compared.
        while index + needle.count <= range.upperBound,
              let found = memchr(base + index, Int32(needle[0]), range.upperBound - needle.count + 1 - index)
        {
            index = base.distance(to: UnsafeRawPointer(found))
            if needle.indices.allSatisfy({ text.bytes[index + $0] == needle[$0] }) { return true }
            index += 1
        }
        return false
    }

    /// Whether the characters of `range` are `expected`'s (ASCII), read where they stand, not made a string to be compared
    /// (issue 21: 3 % of the transformer's CPU reading a batch event's tickets, when every key of every record was compared).
    private static func characters<Text: JSONText>(_ range: Range<Int>, in text: Text, are expected: String) -> Bool {
        var index = range.lowerBound
        for byte in expected.utf8 {
            guard index < range.upperBound, let (found, width) = text.character(at: index), found == byte else { return false }
            index += width
        }
        return index == range.upperBound
    }

    /// Counts `byte` into `depth` when it is a bracket (outside strings); true when it closes the outermost one.
    private static func closes(_ byte: UInt8, depth: inout Int) -> Bool {
        if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
            depth += 1
        } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
            depth -= 1
            return depth == 0
        }
        return false
    }

    /// JSON text read character by character, each taking one byte or more where it stands.
    private protocol JSONText {
        /// The bytes the text stands in.
        var bytes: UnsafeBufferPointer<UInt8> { get }
        /// Where the text ends.
        var end: Int { get }
        /// The character at `index` (one byte: all JSON's structure is ASCII) and its width; nil at the end or where the
        /// text is malformed.
        func character(at index: Int) -> (byte: UInt8, width: Int)?
        /// Where the object or array starting at `start` ends (just after its closing bracket); nil when it does not.
        /// (`Scanner` could find it character by character; a day's tickets are one array, found faster in one loop.)
        func endOfContainer(from start: Int) -> Int?
    }

    /// JSON as it is.
    private struct Plain: JSONText {
        let bytes: UnsafeBufferPointer<UInt8>
        var end: Int { bytes.count }
        func character(at index: Int) -> (byte: UInt8, width: Int)? { index < bytes.count ? (bytes[index], 1) : nil }

        func endOfContainer(from start: Int) -> Int? {
            var depth = 0
            var inString = false
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                if inString {
                    if byte == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if byte == UInt8(ascii: "\"") { inString = false }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if JSONSlices.closes(byte, depth: &depth) {
                    return index + 1
                }
                index += 1
            }
            return nil
        }
    }

    /// JSON escaped as the body of a JSON string, up to `end`: `\"` is a quotation mark, `\\` a reverse solidus.
    private struct Escaped: JSONText {
        let bytes: UnsafeBufferPointer<UInt8>
        let end: Int
        func character(at index: Int) -> (byte: UInt8, width: Int)? { index < end ? JSONStringBytes.character(in: bytes, at: index) : nil }

        func endOfContainer(from start: Int) -> Int? {
            var depth = 0
            var inString = false
            var index = start
            while index < end {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < end else { return nil }
                    let escaped = bytes[index + 1]
                    if escaped == UInt8(ascii: "\"") {
                        // A quotation mark of the JSON: a string starts or ends.
                        inString.toggle()
                        index += 2
                        continue
                    }
                    if inString, escaped == UInt8(ascii: "\\") {
                        // A reverse solidus of the JSON's own string: it and the character it escapes.
                        index += 2
                    }
                    guard let (_, width) = character(at: index) else { return nil }
                    index += width
                    continue
                }
                if byte == UInt8(ascii: "\"") || byte < 0x20 { return nil }  // the escaped string ends, or is malformed
                if inString {
                    // Inside the JSON's own string only an escape can matter (its end is one, `\"`): on to the next.
                    let base = UnsafeRawPointer(bytes.baseAddress!)
                    if let next = memchr(base + index, Int32(UInt8(ascii: "\\")), end - index) {
                        index = base.distance(to: UnsafeRawPointer(next))
                    } else {
                        index = end
                    }
                    continue
                }
                if JSONSlices.closes(byte, depth: &depth) { return index + 1 }
                index += 1
            }
            return nil
        }
    }

    private struct Scanner<Text: JSONText> {
        let text: Text
        var index: Int

        var peek: UInt8? { text.character(at: index)?.byte }

        mutating func advance() {
            index += text.character(at: index)?.width ?? 1
        }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { advance() }
        }

        /// The range of the value starting here (string, number, literal, object or array).
        mutating func value() throws -> Range<Int> {
            let start = index
            guard let first = peek else { throw Malformed(offset: index) }
            switch first {
            case UInt8(ascii: "\""):
                advance()
                while let byte = peek, byte != UInt8(ascii: "\"") {
                    advance()
                    if byte == UInt8(ascii: "\\") { advance() }
                }
                guard peek != nil else { throw Malformed(offset: start) }
                advance()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard let end = text.endOfContainer(from: index) else { throw Malformed(offset: start) }
                index = end
            default:
                while let byte = peek, !",]} \n\r\t".utf8.contains(byte) { advance() }
                guard index > start else { throw Malformed(offset: start) }
            }
            return start..<index
        }
    }
}

/// What heartland-ingest needs of a ticket record to assign it to a batch, read leniently: a record
/// that is malformed elsewhere is still assigned (and set aside downstream, with its reason).
public struct TicketSketch: Sendable, Hashable {
    public var id: String?
    /// Nil when `completed_at` is missing or not RFC 3339.
    public var completedAt: Date?
    /// The GP-API transactions of its card tenders.
    public var transactionIDs: [String]
    public var raw: Data
    /// Its customer (`customer_id`) when the record is charged to or pays down a house account, read leniently.
    public var houseAccountCustomerID: String?
}

/// What a sketch reads of a record, through one container of its keys (issue 21): its identity, its time and card
/// transactions, and its house-account customer were three readings, each building a dictionary of the record's keys, and
/// the payments were read twice: the largest part of heartland-ingest's CPU building a 50,000-ticket batch. Each of the three
/// is still lenient on its own, as when each was a reading of its own: a field one of them needs that cannot be read leaves
/// that one out, and the others stand.
struct SketchReading: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, publicId = "public_id", completedAt = "completed_at", customerId = "customer_id", payments, lines
    }
    struct Payment: Decodable {
        enum CodingKeys: String, CodingKey, CaseIterable { case gatewayTransactionId = "gateway_transaction_id", paymentType = "payment_type" }
        var gatewayTransactionId: Result<String?, any Error>
        var paymentType: Result<String?, any Error>
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            gatewayTransactionId = Result { try container.decodeIfPresent(String.self, forKey: .gatewayTransactionId) }
            paymentType = Result { try container.decodeIfPresent(String.self, forKey: .paymentType) }
        }
    }
    struct Line: Decodable {
        enum CodingKeys: String, CodingKey, CaseIterable { case type }
        var type: Result<String?, any Error>
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = Result { try container.decodeIfPresent(String.self, forKey: .type) }
        }
    }
    private static let onAccount: Set<String> = ["ONACCOUNT", "HOUSEACCOUNT", "CUSTOMERACCOUNT"]

    /// Nil when `id` is missing, or it or `public_id` cannot be read.
    var id: String?
    /// Nil when it cannot be read, or the payments' transactions cannot.
    var completedAt: String?
    /// Empty when they cannot be read, or `completed_at` cannot.
    var transactionIDs: [String] = []
    /// Nil when the record does not touch a house account (an `On Account` payment, an `AccountPaymentLine`), names no
    /// customer, or its customer, payment types or line types cannot be read.
    var houseAccountCustomerID: String?

    init(from decoder: any Decoder) throws {
        guard let container = try? decoder.container(keyedBy: CodingKeys.self) else { return }
        func read<T: Decodable>(_ type: T.Type, _ key: CodingKeys) -> Result<T?, any Error> {
            Result { try container.decodeIfPresent(type, forKey: key) }
        }
        id = WireIdentity.read(from: container, id: .id, publicId: .publicId)?.id
        let payments = try? read([Payment].self, .payments).get() ?? []
        // The time and card transactions.
        if case .success(let completed) = read(String.self, .completedAt), let payments,
           let transactions = try? payments.map({ try $0.gatewayTransactionId.get() })
        {
            completedAt = completed
            transactionIDs = Self.transactions(transactions)
        }
        // The house-account customer.
        guard let customer = try? read(WireTicket.LenientID.self, .customerId).get()?.text, let payments,
              let types = try? payments.map({ try $0.paymentType.get() }),
              let lines = try? read([Line].self, .lines).get() ?? [], let lineTypes = try? lines.map({ try $0.type.get() })
        else { return }
        houseAccountCustomerID = Self.houseAccountCustomer(customer, paymentTypes: types, lineTypes: lineTypes)
    }

    /// The sketch of parts already read (`SketchReading.plainly`): the payments' transactions as named, the customer only
    /// when the record touches a house account.
    init(id: String?, completedAt: String?, transactionIDs: [String?], houseAccountCustomerID: String?) {
        self.id = id
        self.completedAt = completedAt
        self.transactionIDs = Self.transactions(transactionIDs)
        self.houseAccountCustomerID = houseAccountCustomerID
    }

    /// The transactions the payments name (an empty one is none).
    private static func transactions(_ ids: [String?]) -> [String] { ids.compactMap { $0 }.filter { !$0.isEmpty } }

    /// `customer` when the record is charged to (a payment of one of the `onAccount` types) or pays down (an
    /// `AccountPaymentLine`) a house account.
    static func houseAccountCustomer(_ customer: String, paymentTypes: [String?], lineTypes: [String?]) -> String? {
        let charged = paymentTypes.contains { onAccount.contains(MappingRules.normalisedSpelling($0 ?? "")) }
        let paysDown = lineTypes.contains { MappingRules.normalisedSpelling($0 ?? "") == "ACCOUNTPAYMENTLINE" }
        return charged || paysDown ? customer : nil
    }

    /// The sketch of `raw`: read plainly when it is written plainly (`SketchReading.plainly`), else through `JSONDecoder`;
    /// nil when it is not JSON.
    static func of(_ raw: Data) -> SketchReading? {
        plainly(raw) ?? (try? TicketKeys.decoder(for: raw).decode(SketchReading.self, from: raw))
    }
}

extension HeartlandJSON {
    /// Every record of the payload, sketched; each record is parsed once, through one container of its keys
    /// (`SketchReading`).
    public static func ticketSketches(from data: Data) throws -> [TicketSketch] {
        sketches(of: try JSONSlices.records(in: data))
    }

    /// A page of a Retail ticket list as served (`{total, pages, per_page, page, results}`), sketched, and how many pages
    /// its list has (`pages`: a number or a string of digits; nil when missing or neither). Its records are the elements
    /// of `results` (none when it is missing or null). The page is read for its shape only, not parsed as a whole: a record
    /// that is not JSON is sketched as unreadable (and set aside downstream) instead of failing its page. Throws when the
    /// page is not an object, is cut short, or its `results` is not an array.
    public static func ticketSketchPage(from data: Data) throws -> (sketches: [TicketSketch], pageCount: Int?) {
        let page = try JSONSlices.page(in: data)
        let count = page.pages.flatMap { try? JSONDecoder().decode(TicketDetails.LenientInt.self, from: $0).value }
        return (sketches(of: page.records), count.flatMap { Int(exactly: $0) })
    }

    private static func sketches(of records: [Data]) -> [TicketSketch] {
        JSONSlices.inShares(records) { raw in
            let reading = SketchReading.of(raw)
            let completed = reading?.completedAt.flatMap { try? HeartlandTimestamp.parse($0, field: "completed_at", record: "ticket") }
            return TicketSketch(id: reading?.id, completedAt: completed, transactionIDs: reading?.transactionIDs ?? [], raw: raw,
                                houseAccountCustomerID: reading?.houseAccountCustomerID)
        }
    }

    /// The customers (`customer_id`) of the records that are charged to or pay down a house account (an `On Account`
    /// payment, an `AccountPaymentLine`), read leniently, sorted, once each: whose Retail record their AR documents need.
    public static func houseAccountCustomerIDs(in records: [Data]) -> [String] {
        Set(records.compactMap { SketchReading.of($0)?.houseAccountCustomerID }).sorted()
    }

    /// Records as one JSON array (the shape events carry them in).
    public static func array(of records: [Data]) -> Data {
        var out = Data("[".utf8)
        for (index, record) in records.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(record)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
