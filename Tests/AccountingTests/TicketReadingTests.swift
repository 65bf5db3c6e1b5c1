import Foundation
import Testing
@testable import Accounting
import StableHash

/// Issue 21: a store day's tickets are each parsed once and their keys converted once per process. What they read must
/// be what Foundation's `.convertFromSnakeCase` and the separate readings read before.
@Suite struct TicketReadingTests {
    /// Keys spelled every way Foundation's conversion has a rule for.
    static let keys = ["id", "completed_at", "COMPLETED_AT", "Completed_At", "completedAt", "completed__at", "_completed_at",
                       "completed_at_", "__id__", "_", "__", "", "a_b_c", "gateway_transaction_id", "Results", "x_1", "ümlaut_key",
                       "payment-type", "per_page"] + SnakeCaseKeys.ticketKeys.filter { !["completed_at", "gateway_transaction_id"].contains($0) }

    @Test func keysConvertAsFoundationConvertsThem() throws {
        struct Keys: Decodable {
            var names: [String]
            init(from decoder: any Decoder) throws {
                names = try decoder.container(keyedBy: SnakeCaseKeys.AnyKey.self).allKeys.map(\.stringValue).sorted()
            }
        }
        let json = try JSONEncoder().encode(Dictionary(uniqueKeysWithValues: Self.keys.map { ($0, 0) }))
        let foundation = JSONDecoder()
        foundation.keyDecodingStrategy = .convertFromSnakeCase
        let expected = try foundation.decode(Keys.self, from: json).names
        // Twice: the first time converts and remembers, the second reads what was remembered.
        for _ in 0..<2 {
            #expect(try HeartlandJSON.decoder.decode(Keys.self, from: json).names == expected)
        }
        for key in Self.keys {
            let one = try foundation.decode(Keys.self, from: JSONEncoder().encode([key: 0])).names
            #expect([SnakeCaseKeys.converted(key)] == one, "key \(key)")
        }
    }

    @Test func aTicketWithOddlySpelledKeysReadsAsBefore() throws {
        // Foundation's conversion takes COMPLETED_AT and Payment_Type for completedAt and paymentType: so does the reader.
        let json = Data("""
        [{"ID": 1, "id": 7, "PUBLIC_ID": "S01-7", "status": "complete", "COMPLETED_AT": "2026-11-27T15:00:00Z",
          "lines": [{"type": "ItemLine", "qty": 1, "Unit_Price": "10.00"}],
          "payments": [{"Payment_Type": "Cash", "amount": "10.00"}]}]
        """.utf8)
        let records = try HeartlandJSON.ticketRecords(from: json, currency: .usd)
        #expect(records.count == 1)
        #expect(records[0].id == "7" && records[0].number == "S01-7")
        #expect(records[0].problem == nil)
        #expect(records[0].ticket?.tenders == [.cash(amount: usd(1000))])
    }

    /// A ticket's keys are read without conversion when that reads the same fields (`TicketKeys`). Whatever the spelling, a key
    /// is read as the field Foundation's conversion takes it for, and it is read alike only when no conversion is needed.
    @Test func aTicketKeyIsReadAsTheFieldFoundationsConversionTakesItFor() throws {
        let foundation = JSONDecoder()
        foundation.keyDecodingStrategy = .convertFromSnakeCase
        struct Keys: Decodable {
            var names: [String]
            init(from decoder: any Decoder) throws { names = try decoder.container(keyedBy: SnakeCaseKeys.AnyKey.self).allKeys.map(\.stringValue) }
        }
        func converted(_ key: String) throws -> String { try foundation.decode(Keys.self, from: JSONEncoder().encode([key: 0])).names[0] }
        let fields = TicketKeys.fields.sorted()
        #expect(fields.contains("completed_at") && fields.contains("gateway_transaction_id") && fields.contains("last4"))
        var spellings = Self.keys + ["last_4", "Last4", "ID", "Id", "loyalty_points", "Notes", "results", "customerId"]
        for field in fields {
            spellings += [field, field.uppercased(), try converted(field), "_" + field, field + "_", field.replacingOccurrences(of: "_", with: "__"),
                          field.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "_")]
        }
        for key in spellings {
            let asConverted = try converted(key)
            let field = try fields.first { try converted($0) == asConverted }
            #expect(TicketKeys.fields.contains(TicketKeys.spelling(key)) == (field != nil), "key \(key)")
            if let field { #expect(TicketKeys.spelling(key) == field, "key \(key)") }
            // Read alike: without conversion the key would be read as the same field, or as none.
            #expect(TicketKeys.isReadAlike(key) == (field == nil ? !TicketKeys.fields.contains(key) : field == key), "key \(key)")
        }
        #expect(SnakeCaseKeys.ticketKeys.allSatisfy(TicketKeys.isReadAlike), "Heartland's own spellings are read without conversion")
    }

    /// Records with the fields spelled as Heartland spells them, or otherwise at random (`COMPLETED_AT`, `paymentType`), some
    /// twice, among keys no reading asks for: each reads as the record with every field spelled Heartland's way, and only a
    /// record spelled otherwise is read with the conversion.
    @Test func aRecordReadWithoutConversionReadsAsWithIt() throws {
        var generator = SeededRandom(seed: 23)  // the same records on every run: a failure reproduces
        var spelledAtRandom = false
        func spell(_ field: String) -> String {
            guard spelledAtRandom else { return field }
            return switch Int.random(in: 0..<24, using: &generator) {
            case 0: field.uppercased()
            case 1: field.split(separator: "_").enumerated().map { $0 == 0 ? String($1) : $1.prefix(1).uppercased() + $1.dropFirst() }.joined()
            case 2: field.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "_")
            case 3: "_" + field
            default: field
            }
        }
        let others = ["\"notes\": null", "\"loyalty_points\": 3", "\"Notes\": \"x\"", "\"local_completed_at\": \"2026-11-27T10:00:00-05:00\""]
        // Each record as fields (spelling, value); the canonical one spells every field as Heartland does.
        func text(_ fields: [(key: String, value: String)]) -> String { "{" + fields.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}" }
        var odd: [String] = [], canonical: [String] = []
        var spelledOtherwise = 0
        for index in 0..<2_000 {
            var wasOdd = false
            spelledAtRandom = Int.random(in: 0..<2, using: &generator) == 0
            func pairs(_ fields: [(String, String)]) -> (odd: String, canonical: String) {
                var chosen: [(key: String, value: String)] = []
                for (field, value) in fields {
                    let key = spell(field)
                    wasOdd = wasOdd || !TicketKeys.isReadAlike(key)  // `ID` is no field with or without conversion
                    chosen.append((key, value))
                    if Int.random(in: 0..<40, using: &generator) == 0 { chosen.append((field, "\"again\"")) }
                }
                var oddText = text(chosen)
                var canonicalText = text(chosen.map { (TicketKeys.spelling($0.key), $0.value) })
                if Int.random(in: 0..<3, using: &generator) == 0 {
                    let other = others.randomElement(using: &generator)!
                    oddText.insert(contentsOf: other + ", ", at: oddText.index(after: oddText.startIndex))
                    canonicalText.insert(contentsOf: other + ", ", at: canonicalText.index(after: canonicalText.startIndex))
                }
                return (oddText, canonicalText)
            }
            let amount = ["\"10.00\"", "10", "\"1x\""].randomElement(using: &generator)!
            let line = pairs([("type", "\"ItemLine\""), ("qty", "1"), ("unit_price", amount), ("discount_amount", "0"), ("description", "\"cap\"")])
            let payment = pairs([("payment_type", ["\"Cash\"", "\"Credit Card\"", "\"On Account\""].randomElement(using: &generator)!), ("amount", amount),
                                 ("tip_amount", "0"), ("card_type", "\"VISA\""), ("gateway_transaction_id", "\"TRN_\(index)\""), ("last4", "\"4242\""),
                                 ("entry_mode", "\"CHIP\"")])
            let ticket = pairs([("id", "\(index)"), ("public_id", "\"S01-\(index)\""), ("status", "\"complete\""),
                                ("completed_at", ["\"2026-11-27T15:00:00Z\"", "\"noon\""].randomElement(using: &generator)!),
                                ("customer_id", "501"), ("station_id", "\"4\""), ("sales_rep", "\"ann\""),
                                ("lines", "[\(line.odd)]"), ("payments", "[\(payment.odd)]")])
            // The canonical record's lines and payments are the canonical ones too.
            odd.append(ticket.odd)
            canonical.append(ticket.canonical.replacingOccurrences(of: line.odd, with: line.canonical)
                .replacingOccurrences(of: payment.odd, with: payment.canonical))
            #expect(TicketKeys.areReadAlike(Data(canonical[index].utf8)), "\(canonical[index])")
            #expect(TicketKeys.areReadAlike(Data(ticket.odd.utf8)) == !wasOdd, "\(ticket.odd)")
            spelledOtherwise += wasOdd ? 1 : 0
        }
        #expect(spelledOtherwise > 500 && spelledOtherwise < 1_000)
        let read = try HeartlandJSON.ticketRecords(from: Data("[\(odd.joined(separator: ","))]".utf8), currency: .usd)
        let expected = try HeartlandJSON.ticketRecords(from: Data("[\(canonical.joined(separator: ","))]".utf8), currency: .usd)
        #expect(read.count == expected.count)
        for (record, alike) in zip(read, expected) {
            #expect(record.id == alike.id && record.number == alike.number && record.ticket == alike.ticket && record.details == alike.details
                    && record.problem?.description == alike.problem?.description, "\(String(decoding: record.raw, as: UTF8.self))")
        }
        let sketches = try HeartlandJSON.ticketSketches(from: Data("[\(odd.joined(separator: ","))]".utf8))
        let expectedSketches = try HeartlandJSON.ticketSketches(from: Data("[\(canonical.joined(separator: ","))]".utf8))
        #expect(sketches.map(\.id) == expectedSketches.map(\.id) && sketches.map(\.completedAt) == expectedSketches.map(\.completedAt))
        #expect(sketches.map(\.transactionIDs) == expectedSketches.map(\.transactionIDs))
        #expect(sketches.map(\.houseAccountCustomerID) == expectedSketches.map(\.houseAccountCustomerID))
        // The records drawn reach every outcome.
        #expect(read.filter { $0.ticket != nil }.count > 300 && read.filter { $0.problem != nil }.count > 300)
    }

    /// A day's worth of records is read in shares, one a core: the records come back in the payload's order, each read as it
    /// is read alone, a bad one and a conflicting repeat among them judged as they are in a small payload.
    @Test func aDaysRecordsReadInSharesComeBackInOrderEachReadAsAlone() throws {
        func ticket(_ id: Int, amount: String = "10.00") -> String {
            """
            {"id": \(id), "public_id": "S01-\(id)", "status": "complete", "completed_at": "2026-11-27T15:00:00Z",
             "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "\(amount)"}], "payments": [{"payment_type": "Cash", "amount": "\(amount)"}]}
            """
        }
        let count = JSONSlices.minimumShare * 4 + 3
        var texts = (1...count).map { ticket($0) }
        texts[700] = ticket(701, amount: "12.3x")  // cannot be read
        texts.append(ticket(5, amount: "11.00"))  // a second, different record under id 5
        let records = try HeartlandJSON.ticketRecords(from: Data("[\(texts.joined(separator: ","))]".utf8), currency: .usd)
        #expect(records.count == count + 1)
        #expect(records.map(\.number) == (1...count).map { "S01-\($0)" } + ["S01-5"])
        for (index, record) in records.enumerated() {
            let alone = try HeartlandJSON.ticketRecords(from: Data(texts[index].utf8), currency: .usd)[0]
            if record.id == "5" {
                #expect(record.ticket == nil && record.problem?.field == "id")
            } else {
                #expect(record.ticket == alone.ticket && record.problem?.description == alone.problem?.description, "record \(index)")
            }
        }
        #expect(records[700].ticket == nil && records[700].problem != nil)
        #expect(records.filter { $0.ticket == nil }.count == 3)
    }

    @Test func everyShapeOfPayloadReadsTheSameTickets() throws {
        let one = """
        {"id": 1, "public_id": "S01-1", "status": "complete", "completed_at": "2026-11-27T15:00:00Z",
         "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "10.00"}], "payments": [{"payment_type": "Cash", "amount": "10.00"}]}
        """
        let two = one.replacingOccurrences(of: "\"id\": 1,", with: "\"id\": 2,")
        let shapes = [
            "{\"pages\": 1, \"results\": [\(one), \(two)]}",
            "[{\"results\": [\(one)]}, {\"results\": [\(two)]}]",
            "[\(one), \(two)]",
        ]
        for shape in shapes {
            #expect(try HeartlandJSON.tickets(from: Data(shape.utf8), currency: .usd).map(\.id.rawValue) == ["1", "2"], "\(shape.prefix(20))")
            #expect(try TicketDetails.parse(tickets: Data(shape.utf8)).keys.map(\.rawValue).sorted() == ["1", "2"])
        }
        #expect(try HeartlandJSON.tickets(from: Data(one.utf8), currency: .usd).map(\.id.rawValue) == ["1"])
        #expect(try HeartlandJSON.tickets(from: Data("[]".utf8), currency: .usd).isEmpty)
        // An object whose `results` are not tickets is one record, read (and judged) as such.
        #expect(throws: (any Error).self) { try HeartlandJSON.tickets(from: Data("{\"results\": [1]}".utf8), currency: .usd) }
    }

    @Test func aRecordThatIsNotJSONKeepsItsProblemAndNoIdentity() throws {
        let records = try HeartlandJSON.ticketRecords(from: Data("[{\"id\": 5, \"amount\": 12.3x}]".utf8), currency: .usd)
        #expect(records.count == 1)
        #expect(records[0].id == nil && records[0].ticket == nil && records[0].problem != nil)
    }

    @Test func aSketchNamesTheHouseAccountCustomerAsTheSeparateReadingDoes() throws {
        let json = Data("""
        [{"id": 21, "status": "complete", "completed_at": "2026-11-27T18:00:00Z", "customer_id": 501,
          "payments": [{"payment_type": "On Account", "amount": "10.00", "gateway_transaction_id": "TRN_1"}]},
         {"id": 22, "completed_at": "2026-11-27T18:05:00Z", "customer_id": "502", "lines": [{"type": "AccountPaymentLine"}]},
         {"id": 23, "completed_at": "not a time", "customer_id": 503, "payments": [{"payment_type": "Cash"}]},
         {"id": 24, "completed_at": 5, "customer_id": 504, "payments": [{"payment_type": "ONACCOUNT"}]},
         {"id": "x", "customer_id": {"no": 1}, "payments": "none"}]
        """.utf8)
        let sketches = try HeartlandJSON.ticketSketches(from: json)
        #expect(sketches.map(\.id) == ["21", "22", "23", "24", "x"])
        #expect(sketches.map(\.houseAccountCustomerID) == ["501", "502", nil, "504", nil])
        #expect(sketches[0].transactionIDs == ["TRN_1"] && sketches[0].completedAt != nil)
        // A record whose time cannot be read has none; its other readings stand.
        #expect(sketches[3].completedAt == nil && sketches[2].completedAt == nil)
        // The sketch's customer is the one the separate reading finds (heartland-ingest asks Retail for these customers).
        #expect(Set(sketches.compactMap(\.houseAccountCustomerID)).sorted() == HeartlandJSON.houseAccountCustomerIDs(in: sketches.map(\.raw)))
        #expect(HeartlandJSON.houseAccountCustomerIDs(in: sketches.map(\.raw)) == ["501", "502", "504"])
    }

    @Test func aRecordCarriesTheDetailsTheSeparateParseReads() throws {
        let json = Data("""
        [{"id": 31, "status": "complete", "completed_at": "2026-11-27T18:00:00Z", "station_id": "4", "sales_rep": "ann",
          "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "10.00"}],
          "payments": [{"id": 9, "payment_type": "Credit Card", "amount": "10.00", "card_type": "VISA", "last4": "4242",
                        "entry_mode": "CHIP", "gateway_transaction_id": "TRN_31"}]},
         {"id": 32, "status": "complete", "completed_at": "2026-11-27T18:00:00Z", "station_id": {"odd": true},
          "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "10.00"}], "payments": [{"payment_type": "Cash", "amount": "10.00"}]},
         {"id": 33, "status": "complete", "completed_at": "no time", "lines": [], "payments": []}]
        """.utf8)
        let records = try HeartlandJSON.ticketRecords(from: json, currency: .usd)
        #expect(records.count == 3)
        for record in records {
            let separate = try TicketDetails.parse(tickets: record.raw)
            #expect(record.details == record.ticket.flatMap { separate[$0.id] }, "ticket \(record.id ?? "?")")
        }
        #expect(records[0].details?.payments.first?.last4 == "4242" && records[0].details?.stationId == 4)
        #expect(records[1].ticket != nil && records[1].details != nil && records[1].details?.stationId == nil,
                "a details field of the wrong type is nil; the ticket posts")
        #expect(records[2].ticket == nil && records[2].details == nil)
    }

    /// The sketch's one reading through one container (issue 21) against the three separate readings it replaced, kept here
    /// as they were: every field of the record present, absent, null, or of a type it cannot be read as, at random.
    @Test func aSketchReadThroughOneContainerIsWhatTheThreeReadingsRead() throws {
        struct Identity: Decodable {
            var id: WireIdentity.Text?
            var publicId: String?
        }
        struct Times: Decodable {
            struct Payment: Decodable { var gatewayTransactionId: String? }
            var completedAt: String?
            var payments: [Payment]?
        }
        struct HouseAccount: Decodable {
            struct Payment: Decodable { var paymentType: String? }
            struct Line: Decodable { var type: String? }
            var customerId: WireTicket.LenientID?
            var payments: [Payment]?
            var lines: [Line]?
            var customerID: String? {
                guard let id = customerId?.text else { return nil }
                let charged = (payments ?? []).contains { ["ONACCOUNT", "HOUSEACCOUNT", "CUSTOMERACCOUNT"].contains(MappingRules.normalisedSpelling($0.paymentType ?? "")) }
                let paysDown = (lines ?? []).contains { MappingRules.normalisedSpelling($0.type ?? "") == "ACCOUNTPAYMENTLINE" }
                return charged || paysDown ? id : nil
            }
        }
        var generator = SeededRandom(seed: 22)  // the same records on every run: a failure reproduces
        func field(_ key: String, _ values: [String]) -> String? {
            let junk = ["null", "{\"x\": 1}", "[1]", "true"]
            let value = (Int.random(in: 0..<8, using: &generator) == 0 ? junk : values).randomElement(using: &generator)!
            return Int.random(in: 0..<8, using: &generator) == 0 ? nil : "\"\(key)\": \(value)"
        }
        func object(_ fields: [String?]) -> String { "{" + fields.compactMap { $0 }.joined(separator: ", ") + "}" }
        func array(_ element: () -> String) -> String { "[" + (0..<Int.random(in: 0...3, using: &generator)).map { _ in element() }.joined(separator: ", ") + "]" }
        var records: [String] = []
        for _ in 0..<3_000 {
            let payment = {
                Int.random(in: 0..<12, using: &generator) == 0 ? "7" : object([
                    field("payment_type", ["\"Cash\"", "\"On Account\"", "\"house_account\"", "\"Credit Card\"", "5"]),
                    field("gateway_transaction_id", ["\"TRN_1\"", "\"\"", "\"TRN_2\"", "12"]), field("amount", ["\"1.00\""]),
                ])
            }
            let line = { Int.random(in: 0..<12, using: &generator) == 0 ? "\"x\"" : object([field("type", ["\"ItemLine\"", "\"AccountPaymentLine\"", "3"])]) }
            records.append(object([
                field("id", ["7", "\"T-7\"", "1.5"]), field("public_id", ["\"S01-7\"", "9"]),
                field("completed_at", ["\"2026-11-27T18:00:00Z\"", "\"not a time\"", "5"]),
                field("customer_id", ["501", "\"502\"", "\"\""]),
                field("payments", [array(payment), array(payment), "\"none\""]), field("lines", [array(line), "\"none\""]),
            ]))
        }
        let sketches = try HeartlandJSON.ticketSketches(from: Data("[\(records.joined(separator: ","))]".utf8))
        #expect(sketches.count == records.count)
        let decoder = HeartlandJSON.decoder
        var withCustomer = 0, withTransactions = 0, withID = 0
        for (record, sketch) in zip(records, sketches) {
            let raw = Data(record.utf8)
            let identity = try? decoder.decode(Identity.self, from: raw)
            let times = try? decoder.decode(Times.self, from: raw)
            let customer = (try? decoder.decode(HouseAccount.self, from: raw))?.customerID
            #expect(sketch.id == identity?.id?.text, "\(record)")
            #expect(sketch.transactionIDs == (times?.payments ?? []).compactMap(\.gatewayTransactionId).filter { !$0.isEmpty }, "\(record)")
            #expect((sketch.completedAt != nil) == (times?.completedAt.flatMap { try? HeartlandTimestamp.parse($0, field: "", record: "") } != nil), "\(record)")
            #expect(sketch.houseAccountCustomerID == customer, "\(record)")
            withCustomer += customer == nil ? 0 : 1
            withTransactions += sketch.transactionIDs.isEmpty ? 0 : 1
            withID += sketch.id == nil ? 0 : 1
        }
        // The records drawn reach every outcome.
        #expect(withCustomer > 50 && withTransactions > 50 && withID > 50)
        #expect(withCustomer < records.count - 50 && withTransactions < records.count - 50 && withID < records.count - 50)
    }

    /// A Retail page sketched as it arrives (heartland-ingest): read for its shape only, its records sketched as
    /// `ticketSketches` sketches them, and its `pages` read leniently.
    @Test func aPageIsReadForItsShapeAndItsRecordsSketched() throws {
        let records = [#"{"id": 41, "completed_at": "2026-11-27T18:00:00Z", "payments": [{"gateway_transaction_id": "TRN_41"}]}"#,
                       #"{"id": 42, "customer_id": 7, "lines": [{"type": "AccountPaymentLine"}], "payments": []}"#,
                       #"{"id": 43, "note": "not JSON", "qty": tru}"#]
        let results = "[" + records.joined(separator: ", ") + "]"
        func page(_ json: String) throws -> (sketches: [TicketSketch], pageCount: Int?) {
            try HeartlandJSON.ticketSketchPage(from: Data(json.utf8))
        }
        let read = try page(#"{"total": 3, "pages": 2, "per_page": 3, "page": 1, "results": \#(results)}"#)
        #expect(read.pageCount == 2)
        #expect(read.sketches == (try HeartlandJSON.ticketSketches(from: Data(results.utf8))))
        #expect(read.sketches.map(\.id) == ["41", "42", nil])   // the record that is not JSON is there, unread
        #expect(read.sketches.map(\.houseAccountCustomerID) == [nil, "7", nil])
        // `pages` after `results`, as a string, missing, null or not a count; the first of a repeated name counts.
        #expect(try page(#" {"results": \#(results), "pages": "5"} "#).pageCount == 5)
        // After a byte order mark, as JSONDecoder reads it.
        let marked = try page("\u{FEFF}" + #"{"pages": 2, "results": \#(results)}"#)
        #expect(marked.sketches == read.sketches && marked.pageCount == 2)
        #expect(try page(#"{"results": \#(results)}"#).pageCount == nil)
        #expect(try page(#"{"pages": null, "results": []}"#).pageCount == nil)
        #expect(try page(#"{"pages": {"n": 1}, "results": []}"#).pageCount == nil)
        #expect(try page(#"{"pages": 3, "pages": 4, "results": []}"#).pageCount == 3)
        // No records: results missing, null or empty.
        #expect(try page(#"{"total": 0, "pages": 0}"#).sketches.isEmpty)
        #expect(try page(#"{"results": null}"#).sketches.isEmpty)
        #expect(try page(#"{"results": [ ]}"#).sketches.isEmpty)
        // Not a page: cut short anywhere, something after it, not an object, results not an array.
        let whole = #"{"pages": 1, "results": \#(results)}"#
        for end in stride(from: 1, to: whole.utf8.count - 1, by: 7) {
            #expect(throws: (any Error).self, "cut at \(end)") { try page(String(whole.prefix(end))) }
        }
        #expect(throws: (any Error).self) { try page(whole + " {}") }
        #expect(throws: (any Error).self) { try page(results) }
        #expect(throws: (any Error).self) { try page(#"{"results": {"id": 1}}"#) }
        #expect(throws: (any Error).self) { try page("") }
    }
}
