import Foundation
import Accounting
import Testing
@testable import PipelineContracts

/// A batch event's body, written by heartland-ingest and read by the transformer without Foundation's string escaping of
/// the tickets (issue 21): the same JSON as JSONEncoder's, read back to the same event, whatever the tickets hold.
@Suite struct BatchEventBodyTests {
    static func event(tickets: String) -> BatchClosedEvent {
        BatchClosedEvent(store: .init(id: "S01", timeZone: "America/New_York", currency: "USD"), businessDate: "2026-12-02",
                         batchId: "BAT_1", batch: RawJSON(Data(#"{"id":"BAT_1","note":"a \"quoted\" \\ note"}"#.utf8)),
                         tickets: RawJSON(Data(tickets.utf8)), closedAt: "2026-12-02T23:00:00Z",
                         customers: RawJSON(Data(#"[{"id":7,"name":"tickets\":\""}]"#.utf8)))
    }

    static let awkward = [
        #"[{"id":1,"public_id":"S01-1","lines":[{"unit_price":"10.00"}]}]"#,
        "[]", "", "\"", "\\", "\\\"", "/ and \\/", "tab\there, line\nnext, return\r, nul \u{0}, bell \u{7}, unit sep \u{1F}",
        "café ☕️ 𝄞 and a lone \\ud800 written as text", #"{"tickets":""}"#, String(repeating: #"{"a":"\\"}"#, count: 1000),
    ]

    @Test func theBodyIsJSONAnyReaderReadsAsTheEvent() throws {
        for tickets in Self.awkward {
            let event = Self.event(tickets: tickets)
            let body = try event.encodedBody()
            let foundation = try JSONDecoder().decode(BatchClosedEvent.self, from: body)
            #expect(foundation.tickets == event.tickets, "\(tickets.prefix(30))")
            #expect(foundation.batch == event.batch && foundation.customers == event.customers && foundation.businessDate == event.businessDate)
            let ours = try BatchClosedEvent(body: body)
            #expect(ours.tickets == event.tickets, "\(tickets.prefix(30))")
            #expect(ours.batch == event.batch && ours.customers == event.customers && ours.batchId == event.batchId && ours.closedAt == event.closedAt)
            #expect(BatchClosedEvent.split(body) != nil, "the fast path reads the body it writes")
            let delivered = try BatchClosedEvent(bytes: Array(body))
            #expect(delivered.tickets == event.tickets && delivered.batch == event.batch && delivered.customers == event.customers)
        }
    }

    /// heartland-ingest writes a batch's body from the records it took (escaped beforehand), never joining them first: the
    /// same bytes as the event whose tickets are the records as one array, and slices of a larger buffer (as records are)
    /// written as they are.
    @Test func aBodyWrittenFromTheRecordsIsTheBodyOfTheirArray() throws {
        let page = Data(("xx" + Self.awkward.joined(separator: "|") + "yy").utf8)
        var records: [Data] = []
        var start = page.startIndex + 2
        for text in Self.awkward {
            let end = start + text.utf8.count
            records.append(page[start..<end])
            start = end + 1
        }
        for count in [0, 1, 2, records.count] {
            let taken = Array(records.prefix(count))
            let array = "[" + taken.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") + "]"
            let event = Self.event(tickets: array)
            let body = try Self.event(tickets: "").encodedBody(escapedPages: [EscapedRecords(taken)]) { _, _ in true }
            #expect(Data(body) == (try event.encodedBody()), "\(count) records")
            #expect(try JSONDecoder().decode(BatchClosedEvent.self, from: Data(body)).tickets == event.tickets)
            #expect(body.capacity < body.count + 64, "the body's bytes are reserved once, not grown")
        }
    }

    /// heartland-ingest escapes each page's records as the page arrives and lets the page go; the body written from those
    /// escaped pages, with the records its batch claimed, is the body written from the claimed records themselves.
    @Test func aBodyWrittenFromEscapedPagesIsTheBodyOfTheRecordsKept() throws {
        let records = Self.awkward.map { Data($0.utf8) }
        let pages = [Array(records[0..<3]), [], Array(records[3..<7]), Array(records[7...])]
        #expect(EscapedRecords(records).unescaped(5) == records[5], "a record escaped reads back as it was")
        let masks: [(String, (Int, Int) -> Bool)] = [
            ("all", { _, _ in true }), ("none", { _, _ in false }), ("every other", { ($0 + $1) % 2 == 0 }),
            ("only the last page's last", { $0 == pages.count - 1 && $1 == pages[$0].count - 1 }), ("not the first page", { page, _ in page > 0 }),
        ]
        for (name, keep) in masks {
            let kept = pages.indices.flatMap { page in pages[page].indices.filter { keep(page, $0) }.map { pages[page][$0] } }
            let expected = try Array(Self.event(tickets: String(decoding: HeartlandJSON.array(of: kept), as: UTF8.self)).encodedBody())
            let body = try Self.event(tickets: "").encodedBody(escapedPages: pages.map(EscapedRecords.init), keep: keep)
            #expect(body == expected, "\(name)")
            #expect(try BatchClosedEvent(bytes: body).tickets.data == HeartlandJSON.array(of: kept), "\(name)")
            #expect(body.capacity < body.count + 64, "the body's bytes are reserved once, not grown")
        }
    }

    @Test func aBodyJSONEncoderWroteReadsTheSame() throws {
        let encoder = JSONEncoder()
        for format: JSONEncoder.OutputFormatting in [[.sortedKeys], [.sortedKeys, .prettyPrinted], [], [.sortedKeys, .withoutEscapingSlashes]] {
            encoder.outputFormatting = format
            for tickets in Self.awkward {
                let event = Self.event(tickets: tickets)
                let read = try BatchClosedEvent(body: encoder.encode(event))
                #expect(read.tickets == event.tickets && read.batch == event.batch && read.customers == event.customers)
                let delivered = try BatchClosedEvent(bytes: Array(encoder.encode(event)))
                #expect(delivered.tickets == event.tickets && delivered.batch == event.batch && delivered.customers == event.customers)
            }
        }
    }

    @Test func escapesAreReadAsJSONDefinesThem() throws {
        let body = Data(#"{"batch":"{}","business_date":"2026-12-02","schema":"bridge.heartland.batch_closed.v1","store":{"currency":"USD","id":"S01","time_zone":"UTC"},"tickets":"\u0041\u00e9\u20ac\ud834\udd1e\/\b\f\n\r\t\"\\"}"#.utf8)
        #expect(BatchClosedEvent.split(body) != nil)
        #expect(try BatchClosedEvent(body: body).tickets.data == Data("Aé€𝄞/\u{8}\u{C}\n\r\t\"\\".utf8))
    }

    @Test func aMalformedBodyIsRefusedAsJSONDecoderRefusesIt() {
        let malformed = [
            #"{"batch":"{}","business_date":"d","schema":"s","store":{"currency":"USD","id":"S01","time_zone":"UTC"},"tickets":"\q"}"#,
            #"{"batch":"{}","business_date":"d","schema":"s","store":{"currency":"USD","id":"S01","time_zone":"UTC"},"tickets":"\ud800"}"#,
            #"{"batch":"{}","business_date":"d","schema":"s","store":{"currency":"USD","id":"S01","time_zone":"UTC"},"tickets":"open"#,
            "{\"batch\":\"{}\",\"business_date\":\"d\",\"schema\":\"s\",\"store\":{\"currency\":\"USD\",\"id\":\"S01\",\"time_zone\":\"UTC\"},\"tickets\":\"raw\u{1}\"}",
        ]
        for text in malformed {
            #expect(BatchClosedEvent.split(Data(text.utf8)) == nil, "\(text.suffix(12))")
            #expect(throws: (any Error).self) { try BatchClosedEvent(body: Data(text.utf8)) }
            #expect(throws: (any Error).self) { try BatchClosedEvent(bytes: Array(text.utf8)) }
        }
    }
}
