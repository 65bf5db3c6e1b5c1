import Foundation
import Testing
@testable import Accounting
import StableHash

/// Issue 21: a ticket record written plainly is read byte by byte (`PlainJSON`, `WireTicket.plainly`), not through
/// `JSONDecoder`. Whatever a record holds, it must read exactly as `JSONDecoder` reads it (`HeartlandJSON.readDecoding`):
/// the same identity, ticket, details and problem. A record the plain reading cannot read exactly is declined, and then
/// read by `JSONDecoder`; these tests also hold that the records Heartland writes are the ones read plainly.
@Suite struct PlainTicketReadingTests {
    /// A record as heartland-sim renders one (`RetailRendering.ticket`): every field, keys no reading asks for, nulls.
    static let record = """
        {"business_day":"2026-12-04","completed_at":"2026-12-04T12:00:01Z","created_at":"2026-12-04T11:56:43Z","customer_id":501,\
        "gift_card_total":0,"id":98340100001,"lines":[{"description":"Whole milk 1 gal","discount_amount":0,"gift_card_number":null,\
        "id":9834010000100,"item_id":12,"original_line_id":null,"original_unit_price":4.59,"qty":1,"taxable":false,"type":"ItemLine",\
        "unit_price":4.59,"value":4.59},{"description":"Scented candle","discount_amount":0.5,"id":9834010000102,"qty":3,\
        "type":"ItemLine","unit_price":15.99,"value":47.47},{"description":"Sales Tax","id":9834010000104,"type":"TaxLine","value":3.07}],\
        "local_completed_at":"2026-12-04T07:00:01-05:00","location_id":1,"notes":null,"payments":[{"amount":20,"card_type":null,\
        "entry_mode":null,"gateway_transaction_id":null,"id":983401000010,"last4":null,"payment_type":"On Account","tip_amount":0},\
        {"amount":35.13,"auth_code":"A1B2C3","card_type":"Visa","entry_mode":"CHIP","first6":"424242","gateway_transaction_id":"TRN_1",\
        "id":983401000011,"last4":"4242","payment_type":"Credit Card","tip_amount":2.5}],"public_id":"S01-00001",\
        "return_of_ticket_id":null,"sales_rep":"Dana","station_id":4,"status":"complete","subtotal":52.06,"tax_total":3.07,\
        "tip_total":2.5,"total":55.13,"total_discounts":0.5,"total_paid":55.13,"updated_at":"2026-12-04T12:00:01Z"}
        """

    /// Both readings of `text`, and whether the plain one took it; the same of heartland-ingest's sketch of it must agree.
    func readings(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> (plain: TicketRecord, decoded: TicketRecord, readPlainly: Bool) {
        let raw = Data(text.utf8)
        Self.expectSketchesAgree(raw, sourceLocation: sourceLocation)
        return (HeartlandJSON.read(raw, currency: .usd), HeartlandJSON.readDecoding(raw, currency: .usd), WireTicket.plainly(raw) != nil)
    }

    /// heartland-ingest's sketch of `raw` (`SketchReading.of`) is the one `JSONDecoder` reads.
    static func expectSketchesAgree(_ raw: Data, sourceLocation: SourceLocation = #_sourceLocation) {
        func text(_ sketch: SketchReading?) -> String {
            sketch.map { "\($0.id ?? "-") \($0.completedAt ?? "-") \($0.transactionIDs) \($0.houseAccountCustomerID ?? "-")" } ?? "none"
        }
        let decoded = try? TicketKeys.decoder(for: raw).decode(SketchReading.self, from: raw)
        #expect(text(SketchReading.of(raw)) == text(decoded), "\(String(decoding: raw, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test func aRecordWrittenAsHeartlandWritesItIsReadPlainlyAsJSONDecoderReadsIt() throws {
        let (plain, decoded, readPlainly) = readings(Self.record)
        #expect(readPlainly)
        #expect(plain == decoded)
        let ticket = try #require(plain.ticket)
        #expect(plain.id == "98340100001" && plain.number == "S01-00001" && plain.problem == nil)
        #expect(ticket.tenders.count == 2 && ticket.lines.count == 3)
        let sketch = try #require(SketchReading.plainly(Data(Self.record.utf8)))
        #expect(sketch.id == "98340100001" && sketch.completedAt == "2026-12-04T12:00:01Z" && sketch.transactionIDs == ["TRN_1"])
        #expect(sketch.houseAccountCustomerID == "501")
        #expect(plain.details?.payments.map(\.last4) == [nil, "4242"] && plain.details?.stationId == 4 && plain.details?.salesRep == "Dana")
    }

    /// Every field given every kind of value, each record read both ways: the two readings agree on all of them, the plain
    /// one reads the values Heartland writes and declines the ones it could not read exactly.
    @Test func everyFieldWithEveryKindOfValueReadsAsJSONDecoderReadsIt() throws {
        let values = ["null", "0", "-0", "7", "-7", "12.0", "1e2", "1.5", "-0.50", "10.00", "0.000001", "123456789012345678",
                      "1234567890123456789", "99999999999999999999", "true", "false", "{}", "[]", "{\"a\":1}", "[1,2]", "\"\"", "\"7\"",
                      "\"-7\"", "\"+7\"", "\"12.30\"", "\"$12.30\"", "\"complete\"", "\"Cash\"", "\"On Account\"", "\"ItemLine\"",
                      "\"AccountPaymentLine\"", "\"2026-12-04T12:00:01Z\"",
                      "\"caf\u{e9}\"", "\"a\\\"b\"", "\"\\u0041\"", "\"12\\u0030\"", "01", "1.", ".5", "+1", "1e", "--1", "nul", "\"USD\"", "\"CAD\""]
        // Each field of the record, of its first line and of its second payment: a value replaced where it stands, or added.
        let fields: [(key: String, occurrence: Int)] = [
            ("id", 0), ("public_id", 0), ("status", 0), ("completed_at", 0), ("currency", 0), ("return_of_ticket_id", 0), ("customer_id", 0),
            ("lines", 0), ("payments", 0), ("station_id", 0), ("sales_rep", 0), ("id", 1), ("type", 0), ("description", 0), ("qty", 0),
            ("unit_price", 0), ("discount_amount", 0), ("value", 0), ("gift_card_number", 0), ("id", 4), ("payment_type", 1), ("amount", 1),
            ("tip_amount", 1), ("card_type", 1), ("gateway_transaction_id", 1), ("last4", 1), ("entry_mode", 1), ("item_id", 0), ("notes", 0),
            ("payment_type", 0), ("type", 2),
        ]
        var plainly = 0, declined = 0
        for field in fields {
            for value in values {
                let text = Self.replacing(field.key, occurrence: field.occurrence, in: Self.record, with: value)
                let (plain, decoded, readPlainly) = readings(text)
                #expect(plain == decoded, "\(field.key) = \(value)")
                if readPlainly { plainly += 1 } else { declined += 1 }
            }
        }
        // Both readings were exercised, neither alone.
        #expect(plainly > 400 && declined > 400, "read plainly \(plainly), declined \(declined)")
        // What Heartland writes is read plainly; what the plain reading cannot read exactly is declined.
        func plain(_ key: String, _ occurrence: Int = 0, _ value: String) -> Bool {
            readings(Self.replacing(key, occurrence: occurrence, in: Self.record, with: value)).readPlainly
        }
        #expect(plain("customer_id", 0, "501") && plain("customer_id", 0, "\"C-9\"") && plain("station_id", 0, "\"4\"") && plain("unit_price", 0, "\"4.59\""))
        #expect(plain("amount", 1, "-0.50") && plain("amount", 1, "\"$12.30\"") && plain("last4", 1, "4242") && plain("description", 0, "\"caf\u{e9}\""))
        #expect(!plain("id", 0, "12.0") && !plain("id", 0, "-0") && !plain("amount", 1, "1e2") && !plain("description", 0, "\"a\\\"b\""))
        #expect(!plain("id", 0, "\"7\"") && !plain("qty", 0, "99999999999999999999") && !plain("amount", 1, "1234567890123456789"))
    }

    /// Amounts at random, as numbers and as strings: each is kept as `DecimalText` writes the `Decimal` JSONDecoder reads.
    @Test func anAmountIsKeptAsJSONDecoderKeepsIt() throws {
        var random = SeededRandom(seed: 41)
        for _ in 0..<2_000 {
            let integers: [String] = ["0", "1", "10", "100", "4", "19", "250", "1000000", String(Int.random(in: 0..<1_000_000_000, using: &random))]
            let fractions: [String] = ["", ".0", ".00", ".5", ".50", ".05", ".99", ".001", "." + String(Int.random(in: 0..<10_000, using: &random))]
            let integer: String = integers.randomElement(using: &random)!
            let fraction: String = fractions.randomElement(using: &random)!
            let sign: String = Int.random(in: 0..<4, using: &random) == 0 ? "-" : ""
            let amount: String = sign + integer + fraction
            let text = Self.replacing("unit_price", occurrence: 0, in: Self.record, with: amount)
            let (plain, decoded, readPlainly) = readings(text)
            #expect(readPlainly, "\(amount)")
            #expect(plain == decoded, "\(amount)")
        }
    }

    /// Keys spelled otherwise, repeated, escaped; white space; the record cut short, followed by more, or not an object.
    @Test func aRecordWrittenOtherwiseReadsAsJSONDecoderReadsIt() throws {
        let record = Self.record
        var variants: [String] = [
            record.replacingOccurrences(of: "\"completed_at\"", with: "\"completedAt\""),
            record.replacingOccurrences(of: "\"payment_type\"", with: "\"Payment_Type\""),
            record.replacingOccurrences(of: "\"unit_price\"", with: "\"UNIT_PRICE\""),
            record.replacingOccurrences(of: "\"last4\"", with: "\"last_4\""),
            record.replacingOccurrences(of: "\"item_id\"", with: "\"itemId\""),
            record.replacingOccurrences(of: "\"notes\"", with: "\"Notes\""),
            record.replacingOccurrences(of: "\"status\"", with: "\"st\\u0061tus\""),
            record.replacingOccurrences(of: "\"id\":98340100001,", with: "\"id\":98340100001,\"id\":98340100002,"),
            record.replacingOccurrences(of: "\"status\":\"complete\",", with: "\"status\":\"complete\",\"status\":\"void\","),
            record.replacingOccurrences(of: "\"qty\":1,", with: "\"qty\":1,\"qty\":2,"),
            record.replacingOccurrences(of: "\"taxable\":false,", with: "\"taxable\":false,\"taxable\":true,"),
            record.replacingOccurrences(of: "\"notes\":null", with: "\"notes\":{\"a\":[{\"b\":[[[[]]]]}],\"c\":\"\\n\"}"),
            record.replacingOccurrences(of: ",", with: " ,\n\t"),
            record.replacingOccurrences(of: ":", with: " :\r\n "),
            record.replacingOccurrences(of: "\"lines\":[", with: "\"lines\":[1,"),
            record.replacingOccurrences(of: "\"lines\":[", with: "\"lines\":[null,"),
            record.replacingOccurrences(of: "\"lines\":[", with: "\"lines\":[{},"),
            record.replacingOccurrences(of: "\"payments\":[", with: "\"payments\":[{\"payment_type\":\"Cash\"},"),
            record.replacingOccurrences(of: "Dana", with: "D\u{0}a"),
            record.replacingOccurrences(of: "Dana", with: "D\u{7f}a"),
            "", "null", "7", "{}", "{\"id\":1}", String(record.dropLast()),
        ]
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        variants.append(record.replacingOccurrences(of: "\"notes\":null", with: "\"notes\":\"\(deep)\""))
        variants.append(record.replacingOccurrences(of: "\"notes\":null", with: "\"notes\":\(deep)"))
        for (before, after) in [("  \n", "\n "), ("", " x"), ("", "}"), ("", ","), ("[", "]"), ("\u{feff}", "")] {
            variants.append(before + record + after)
        }
        // Cut short at many places.
        for end in stride(from: 1, to: record.utf8.count, by: 7) { variants.append(String(decoding: Array(record.utf8)[..<end], as: UTF8.self)) }
        var invalid = Array(record.utf8)
        invalid[invalid.count / 2] = 0xFF
        let invalidUTF8 = Data(invalid)
        for text in variants {
            let (plain, decoded, _) = readings(text)
            #expect(plain == decoded, "\(text)")
        }
        #expect(HeartlandJSON.read(invalidUTF8, currency: .usd) == HeartlandJSON.readDecoding(invalidUTF8, currency: .usd))
        Self.expectSketchesAgree(invalidUTF8)
        #expect(WireTicket.plainly(invalidUTF8) == nil)
        #expect(readings(record.replacingOccurrences(of: ",", with: " ,\n\t")).readPlainly, "white space is JSON's")
        #expect(!readings(record.replacingOccurrences(of: "\"completed_at\"", with: "\"completedAt\"")).readPlainly)
    }

    /// The record mutated at random, byte by byte, with the characters JSON's structure is made of: whatever comes of it reads
    /// the same both ways.
    @Test func aRecordMutatedAtRandomReadsAsJSONDecoderReadsIt() throws {
        var random = SeededRandom(seed: 7)  // the same mutations on every run: a failure reproduces
        let alphabet = Array("{}[]\":,.-+0123456789eEtrufalsn \\/u\u{e9}x".utf8)
        let original = Array(Self.record.utf8)
        var plainly = 0
        for _ in 0..<3_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                }
            }
            let raw = Data(bytes)
            Self.expectSketchesAgree(raw)
            let plain = HeartlandJSON.read(raw, currency: .usd), decoded = HeartlandJSON.readDecoding(raw, currency: .usd)
            #expect(plain == decoded, "\(String(decoding: bytes, as: UTF8.self))")
            if WireTicket.plainly(raw) != nil { plainly += 1 }
        }
        #expect(plainly > 300 && plainly < 2_700, "read plainly \(plainly) of 3,000")
    }

    /// `text` with the value of the `occurrence`th member named `key` replaced by `value`; a key not there is added to the
    /// record's object.
    static func replacing(_ key: String, occurrence: Int, in text: String, with value: String) -> String {
        var bytes = Array(text.utf8)
        let needle = Array("\"\(key)\":".utf8)
        var found = -1, at = 0
        while at + needle.count <= bytes.count {
            if Array(bytes[at..<at + needle.count]) == needle {
                found += 1
                if found == occurrence { break }
            }
            at += 1
        }
        guard at + needle.count <= bytes.count else { return "{\"\(key)\":\(value)," + text.dropFirst() }
        let start = at + needle.count
        // The value's end: the comma or bracket that closes it, at its depth, outside strings.
        var end = start, depth = 0, inString = false
        while end < bytes.count {
            let byte = bytes[end]
            if inString {
                if byte == UInt8(ascii: "\\") { end += 2; continue }
                if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                if depth == 0 { break }
                depth -= 1
            } else if byte == UInt8(ascii: ","), depth == 0 {
                break
            }
            end += 1
        }
        bytes.replaceSubrange(start..<end, with: Array(value.utf8))
        return String(decoding: bytes, as: UTF8.self)
    }
}
