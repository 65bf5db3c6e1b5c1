import Foundation
import Synchronization

/// One Retail ticket record as received, read on its own, so that a bad record is named and held
/// while the others post (ACCOUNTING.md: validation is per document).
public struct TicketRecord: Sendable, Equatable {
    /// The record's `id` as written (nil when it has none that can be read).
    public var id: String?
    /// Its receipt number (`public_id`), when readable.
    public var number: String?
    /// The record's bytes exactly as received (an amount like `12.30` never passes through a binary double).
    public var raw: Data
    /// The ticket, or why it cannot post: the field and the problem.
    public var ticket: Ticket?
    public var problem: HeartlandDataError?
    /// The ticket's Retail details (`TicketDetails.parse` of `raw`, for its id), read from the same parse; nil without a ticket.
    public var details: TicketDetails?

    /// The record's id, or `?<fingerprint of its bytes>` for a record without a readable id (heartland-ingest claims it
    /// under the same name).
    public var documentID: String { id ?? "?" + HeartlandJSON.fingerprint(raw) }
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
        let slices = try JSONSlices.records(in: data)
        var records: [TicketRecord] = []
        var seen: [String: Int] = [:]
        var conflicting: Set<String> = []
        for var record in read(slices, currency: currency) {
            if let id = record.id, let earlier = seen[id] {
                if records[earlier].raw == record.raw { continue }
                conflicting.insert(id)
            }
            if let id = record.id, seen[id] == nil { seen[id] = records.count }
            if record.id == nil, record.problem == nil {
                record.problem = HeartlandDataError(record: "ticket", field: "id", problem: "is missing")
            }
            records.append(record)
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

    private static func read(_ raw: Data, currency: CurrencyCode) -> TicketRecord {
        // One parse for every reading: the record's identity (whatever else is wrong with it), the ticket and its details.
        struct Readings: Decodable {
            var identity: WireIdentity?
            var ticket: Result<WireTicket, any Error>
            var details: [TicketID: TicketDetails]?
            init(from decoder: any Decoder) throws {
                identity = try? WireIdentity(from: decoder)
                do { ticket = .success(try WireTicket(from: decoder)) } catch { ticket = .failure(error) }
                details = (try? RetailRecords<TicketDetails.Wire>(from: decoder)).map { TicketDetails.byID($0.records) }
            }
        }
        let readings = Result { try decoder.decode(Readings.self, from: raw) }
        let identity = try? readings.get().identity
        var record = TicketRecord(id: identity?.id?.text, number: identity?.publicId, raw: raw)
        do {
            let wire = try readings.get().ticket.get()
            let ticket = try wire.ticket(currency: currency)
            record.ticket = ticket
            if case .success(let read) = readings { record.details = read.details?[ticket.id] }
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

/// The id and receipt number of a record, however malformed the rest of it is.
private struct WireIdentity: Decodable {
    struct Text: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let integer = try? container.decode(Int64.self) { text = String(integer) } else { text = try container.decode(String.self) }
        }
    }
    var id: Text?
    var publicId: String?
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
    static func inShares<T: Sendable>(_ records: [Data], _ body: @Sendable (Data) -> T) -> [T] {
        let shares = min(ProcessInfo.processInfo.activeProcessorCount, records.count / minimumShare)
        guard shares > 1 else { return records.map(body) }
        let results = Mutex<[Int: [T]]>([:])
        let size = (records.count + shares - 1) / shares
        DispatchQueue.concurrentPerform(iterations: shares) { share in
            let read = records[share * size..<min(records.count, (share + 1) * size)].map(body)
            results.withLock { $0[share] = read }
        }
        return results.withLock { done in (0..<shares).flatMap { done[$0] ?? [] } }
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
        let ranges = try data.withUnsafeBytes { raw -> [Range<Int>] in
            let bytes = raw.bindMemory(to: UInt8.self)
            var scanner = Scanner(bytes: bytes)
            scanner.skipSpace()
            guard scanner.index < bytes.count else { return [] }
            let whole = try scanner.value()
            return try records(of: whole, in: bytes)
        }
        return ranges.map { data[data.startIndex + $0.lowerBound..<data.startIndex + $0.upperBound] }
    }

    typealias Bytes = UnsafeBufferPointer<UInt8>

    private static func records(of range: Range<Int>, in bytes: Bytes) throws -> [Range<Int>] {
        switch bytes[range.lowerBound] {
        case UInt8(ascii: "{"):
            if let results = try member("results", ofObject: range, in: bytes) { return try elements(ofArray: results, in: bytes) }
            return [range]
        case UInt8(ascii: "["):
            return try elements(ofArray: range, in: bytes).flatMap { element -> [Range<Int>] in
                if bytes[element.lowerBound] == UInt8(ascii: "{"), let results = try member("results", ofObject: element, in: bytes) {
                    return try elements(ofArray: results, in: bytes)
                }
                return [element]
            }
        default:
            throw Malformed(offset: range.lowerBound)
        }
    }

    private static func elements(ofArray range: Range<Int>, in bytes: Bytes) throws -> [Range<Int>] {
        guard bytes[range.lowerBound] == UInt8(ascii: "[") else { throw Malformed(offset: range.lowerBound) }
        var scanner = Scanner(bytes: bytes, index: range.lowerBound + 1)
        var found: [Range<Int>] = []
        scanner.skipSpace()
        if scanner.peek == UInt8(ascii: "]") { return [] }
        while true {
            scanner.skipSpace()
            found.append(try scanner.value())
            scanner.skipSpace()
            if scanner.peek == UInt8(ascii: ",") { scanner.index += 1; continue }
            guard scanner.peek == UInt8(ascii: "]") else { throw Malformed(offset: scanner.index) }
            return found
        }
    }

    private static func member(_ name: String, ofObject range: Range<Int>, in bytes: Bytes) throws -> Range<Int>? {
        var scanner = Scanner(bytes: bytes, index: range.lowerBound + 1)
        scanner.skipSpace()
        if scanner.peek == UInt8(ascii: "}") { return nil }
        while true {
            scanner.skipSpace()
            let key = try scanner.value()
            scanner.skipSpace()
            guard scanner.peek == UInt8(ascii: ":") else { throw Malformed(offset: scanner.index) }
            scanner.index += 1
            scanner.skipSpace()
            let value = try scanner.value()
            if String(decoding: bytes[key], as: UTF8.self) == "\"\(name)\"", bytes[value.lowerBound] == UInt8(ascii: "[") { return value }
            scanner.skipSpace()
            if scanner.peek == UInt8(ascii: ",") { scanner.index += 1; continue }
            guard scanner.peek == UInt8(ascii: "}") else { throw Malformed(offset: scanner.index) }
            return nil
        }
    }

    private struct Scanner {
        let bytes: Bytes
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        /// The range of the value starting here (string, number, literal, object or array).
        mutating func value() throws -> Range<Int> {
            let start = index
            guard let first = peek else { throw Malformed(offset: index) }
            switch first {
            case UInt8(ascii: "\""):
                index += 1
                while let byte = peek, byte != UInt8(ascii: "\"") { index += byte == UInt8(ascii: "\\") ? 2 : 1 }
                guard peek != nil else { throw Malformed(offset: start) }
                index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                repeat {
                    guard let byte = peek else { throw Malformed(offset: start) }
                    if byte == UInt8(ascii: "\"") {
                        _ = try value()
                        continue
                    }
                    if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                    if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") { depth -= 1 }
                    index += 1
                } while depth > 0
            default:
                while let byte = peek, !",]} \n\r\t".utf8.contains(byte) { index += 1 }
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

/// What `HeartlandJSON.houseAccountCustomerIDs` reads of a record: its customer, when it is charged to (an `On Account`
/// payment) or pays down (an `AccountPaymentLine`) a house account.
struct HouseAccountReading: Decodable {
    private struct Lenient: Decodable {
        struct Payment: Decodable { var paymentType: String? }
        struct Line: Decodable { var type: String? }
        var customerId: WireTicket.LenientID?
        var payments: [Payment]?
        var lines: [Line]?
    }
    private static let onAccount: Set<String> = ["ONACCOUNT", "HOUSEACCOUNT", "CUSTOMERACCOUNT"]

    /// Nil when the record does not touch a house account (or names no customer).
    var customerID: String?

    init(from decoder: any Decoder) throws {
        let ticket = try Lenient(from: decoder)
        guard let id = ticket.customerId?.text else { return }
        let charged = (ticket.payments ?? []).contains { Self.onAccount.contains(MappingRules.normalisedSpelling($0.paymentType ?? "")) }
        let paysDown = (ticket.lines ?? []).contains { MappingRules.normalisedSpelling($0.type ?? "") == "ACCOUNTPAYMENTLINE" }
        if charged || paysDown { customerID = id }
    }
}

extension HeartlandJSON {
    /// Every record of the payload, sketched; each record is parsed once (its identity, its time and card transactions,
    /// and its house-account customer are read from that one parse, each leniently on its own).
    public static func ticketSketches(from data: Data) throws -> [TicketSketch] {
        struct Lenient: Decodable {
            struct Payment: Decodable { var gatewayTransactionId: String? }
            var completedAt: String?
            var payments: [Payment]?
        }
        struct Readings: Decodable {
            var identity: WireIdentity?
            var lenient: Lenient?
            var houseAccount: HouseAccountReading?
            init(from decoder: any Decoder) throws {
                identity = try? WireIdentity(from: decoder)
                lenient = try? Lenient(from: decoder)
                houseAccount = try? HouseAccountReading(from: decoder)
            }
        }
        return JSONSlices.inShares(try JSONSlices.records(in: data)) { raw in
            let readings = try? decoder.decode(Readings.self, from: raw)
            let lenient = readings?.lenient
            let completed = lenient?.completedAt.flatMap { try? HeartlandTimestamp.parse($0, field: "completed_at", record: "ticket") }
            return TicketSketch(id: readings?.identity?.id?.text, completedAt: completed,
                                transactionIDs: (lenient?.payments ?? []).compactMap(\.gatewayTransactionId).filter { !$0.isEmpty }, raw: raw,
                                houseAccountCustomerID: readings?.houseAccount?.customerID)
        }
    }

    /// The customers (`customer_id`) of the records that are charged to or pay down a house account (an `On Account`
    /// payment, an `AccountPaymentLine`), read leniently, sorted, once each: whose Retail record their AR documents need.
    public static func houseAccountCustomerIDs(in records: [Data]) -> [String] {
        Set(records.compactMap { (try? decoder.decode(HouseAccountReading.self, from: $0))?.customerID }).sorted()
    }

    /// The same, of records already sketched (no second parse).
    public static func houseAccountCustomerIDs(in sketches: [TicketSketch]) -> [String] {
        Set(sketches.compactMap(\.houseAccountCustomerID)).sorted()
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
