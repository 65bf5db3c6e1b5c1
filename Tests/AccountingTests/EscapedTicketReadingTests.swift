import Foundation
import Testing
@testable import Accounting

/// Issue 21: the transformer reads a batch event's tickets where they stand escaped in the delivery (`EscapedJSON`),
/// never unescaping the whole 88 MB. What it reads must be what reading the unescaped tickets reads, record for record and
/// byte for byte, however the records are written and however the string was escaped.
@Suite struct EscapedTicketReadingTests {
    static func ticket(_ id: Int, amount: String = "10.00", note: String = #""plain""#) -> String {
        """
        {"id": \(id), "public_id": "S01-\(id)", "status": "complete", "completed_at": "2026-11-27T15:00:00Z", "note": \(note),
         "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "\(amount)", "description": \(note)}],
         "payments": [{"payment_type": "Cash", "amount": "\(amount)"}]}
        """
    }

    /// Strings that look like JSON's structure, escapes of every kind, characters beyond ASCII, control characters.
    static let notes = [
        #""plain""#, #""a \"quoted\" {brace} [bracket], comma: colon""#, #""back\\slash\\""#, #""\\\"""#, #""ends in \\\\""#,
        #""é € 𝄞 \u00e9 \ud834\udd1e""#, #""tab\tline\nfeed\r\/""#, #""}]},{\"id\": 99""#, "\"raw é\u{7F}\"", #""""#,
    ]

    static var payloads: [String] {
        var records = (1...(JSONSlices.minimumShare * 2 + 5)).map { ticket($0, note: notes[$0 % notes.count]) }
        records[10] = ticket(11, amount: "12.3x")  // cannot be read
        records.append(ticket(5, amount: "11.00"))  // a second, different record under id 5
        records.append(records[6])  // an identical repeat of id 7
        records.append(#"{"public_id": "no-id", "lines": []}"#)  // no id
        let two = [ticket(1, note: notes[1]), ticket(2, note: notes[2])]
        return [
            "[\(records.joined(separator: ","))]",
            "  [\n\(records.prefix(20).joined(separator: " ,\n\t"))\r\n]  ",
            "{\"pages\": 1, \"results\": [\(two.joined(separator: ","))], \"note\": \(notes[7])}",
            "[{\"results\": [\(two[0])]}, {\"results\": [\(two[1])]}]",
            two[0],
            "[]",
        ]
    }

    /// `json` as the body of a string inside a larger message, escaped as heartland-ingest escapes it, and as Foundation does.
    static func standing(_ json: Data) throws -> [EscapedJSON] {
        var ours = Array(#"{"batch":"{\"x\":\"]\"}","tickets":""#.utf8)
        let start = ours.count
        JSONStringBytes.escape(json, escapedLength: JSONStringBytes.escapedLength(of: json), into: &ours)
        let end = ours.count
        ours += Array("\"}".utf8)
        let foundation = Array(try JSONEncoder().encode(["tickets": String(decoding: json, as: UTF8.self)]))
        let body = foundation.firstIndex(of: UInt8(ascii: ":"))! + 2
        return [EscapedJSON(bytes: ours, range: start..<end), EscapedJSON(bytes: foundation, range: body..<foundation.count - 2)]
    }

    @Test func recordsReadWhereTheyStandEscapedAreTheRecordsReadUnescaped() throws {
        for payload in Self.payloads {
            let json = Data(payload.utf8)
            let unescaped = try HeartlandJSON.ticketRecords(from: json, currency: .usd)
            for escaped in try Self.standing(json) {
                #expect(escaped.unescaped() == json)
                let read = try HeartlandJSON.ticketRecords(from: escaped, currency: .usd)
                #expect(read.count == unescaped.count, "\(payload.prefix(30))")
                // `==` compares the bytes too: each record's `raw`, read again from where it stands, is the record as served.
                #expect(read == unescaped, "\(payload.prefix(30))")
                #expect(read.map(\.documentID) == unescaped.map(\.documentID))
            }
        }
    }

    @Test func theRecordsOfTheFirstPayloadAreJudgedAsAlone() throws {
        let json = Data(Self.payloads[0].utf8)
        let read = try HeartlandJSON.ticketRecords(from: Self.standing(json)[0], currency: .usd)
        #expect(read.filter { $0.ticket == nil }.map(\.number) == ["S01-5", "S01-11", "S01-5", "no-id"])
        #expect(read.count == JSONSlices.minimumShare * 2 + 5 + 2, "the identical repeat is kept once")
        #expect(read[1].ticket?.lines.count == 1 && read[1].raw.count > 100)
        #expect(read.last?.documentID == "?" + HeartlandJSON.fingerprint(Data(#"{"public_id": "no-id", "lines": []}"#.utf8)))
    }

    /// Only an element with `results` in its bytes is looked into for a page's key (issue 21): a page among records is still
    /// a page, and a record malformed within (its brackets balanced) is judged on its own, the others read.
    @Test func aPageAmongRecordsIsAPageAndARecordMalformedWithinIsJudgedAlone() throws {
        let payload = "[\(Self.ticket(1)), {\"id\" 2, \"status\": \"complete\"}, {\"page\": 1, \"results\": [\(Self.ticket(3))]}, \(Self.ticket(4))]"
        let json = Data(payload.utf8)
        let unescaped = try HeartlandJSON.ticketRecords(from: json, currency: .usd)
        #expect(unescaped.map(\.id) == ["1", nil, "3", "4"])
        #expect(unescaped.map { $0.ticket != nil } == [true, false, true, true])
        #expect(unescaped[1].problem != nil)
        for escaped in try Self.standing(json) {
            #expect(try HeartlandJSON.ticketRecords(from: escaped, currency: .usd) == unescaped)
        }
    }

    @Test func textThatIsNotJSONIsRefusedAsUnescapedItIs() throws {
        for text in ["[{\"id\": 1}", "{\"id\": \"open}", "[1, 2", "x"] {
            let json = Data(text.utf8)
            #expect(throws: (any Error).self) { try HeartlandJSON.ticketRecords(from: json, currency: .usd) }
            for escaped in try Self.standing(json) {
                #expect(throws: (any Error).self) { try HeartlandJSON.ticketRecords(from: escaped, currency: .usd) }
            }
        }
    }
}
