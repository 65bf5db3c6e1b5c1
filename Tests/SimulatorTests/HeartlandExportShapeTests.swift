import BridgeClock
import Foundation
@testable import HeartlandSimulator
import SimulatorKit
import Testing

/// What a real Heartland export holds and the simulator serves: raw records byte for byte, several
/// batches a day with their close times, fee statements, declined / pre-authorised / reversed
/// transactions, card first six and entry mode, ticket notes.
@Suite struct HeartlandExportShapeTests {
    static let day = "2026-11-27"
    static let rawTicket = #"{"id": 990001, "location_id": 1, "business_day": "2026-11-27", "completed_at": "2026-11-27T10:00:00", "payments": [{"amount": "12.3x"}], "total":   12.5}"#
    static let rawOrphan = #"{"note":"no id, no location"}"#
    static let rawTransaction = #"{"id":"TRN_RAW1","location_id":1,"batch_id":"BAT_20261127_01","type":"SALE","amount":12.5,"currency":"CAD","time_created":"2026-11-27T10:00:00"}"#
    static let rawBatch = #"{"id":"BAT_RAW","location_id":1,"business_day":"2026-11-27","status":"CLOSED","amount":"12.3x"}"#

    /// A small generated day with raw records: one new ticket, one ticket-less orphan, a second record
    /// under an existing ticket's id, a raw transaction and a raw batch.
    static func rawFixture() throws -> (StoreDayFixture, duplicateOf: Ticket, duplicate: String) {
        var fixture = try StoreDayGenerator.generate(.init(stores: 1, day: day, seed: 5, ticketsPerStore: 12))
        let existing = fixture.tickets.first { $0.businessDay == day }!
        let duplicate = #"{"id":\#(existing.id),"location_id":1,"business_day":"2026-11-27","total":1.00,  "sales_rep":"someone else"}"#
        fixture.rawTickets = [RawRecord(Data(rawTicket.utf8)), RawRecord(Data(rawOrphan.utf8)), RawRecord(Data(duplicate.utf8))]
        fixture.rawTransactions = [RawRecord(Data(rawTransaction.utf8))]
        fixture.rawBatches = [RawRecord(Data(rawBatch.utf8))]
        return (fixture, existing, duplicate)
    }

    @Test func rawRecordsAreServedByteForByteInsideTheEnvelope() async throws {
        let (fixture, existing, duplicate) = try Self.rawFixture()
        let encoded = try fixture.encoded()
        #expect(try StoreDayFixture.decode(encoded) == fixture, "raw records survive a round trip byte for byte")
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.load(encoded)

        let all = try await sim.call("GET", "/api/sales/tickets?per_page=5000", headers: sim.retail)
        for raw in [Self.rawTicket, Self.rawOrphan, duplicate] { #expect(all.body.range(of: Data(raw.utf8)) != nil, "\(raw)") }
        let normal = fixture.tickets.count
        #expect(all.json["total"]?.int64Value == Int64(normal - 1 + 3), "the duplicated ticket is listed once, from its raw record")
        let single = try await sim.call("GET", "/api/sales/tickets/990001", headers: sim.retail)
        #expect(single.body == Data(Self.rawTicket.utf8))
        #expect(try await sim.call("GET", "/api/sales/tickets/\(existing.id)", headers: sim.retail).body == Data(duplicate.utf8))
        let payments = try await sim.call("GET", "/api/sales/tickets/990001/payments", headers: sim.retail)
        #expect(payments.body.range(of: Data(#"{"amount": "12.3x"}"#.utf8)) != nil)

        let located = try await sim.call(
            "GET", "/api/sales/tickets?per_page=5000&_filter=" + Self.query(#"{"location_id":1,"business_day":"2026-11-27"}"#),
            headers: sim.retail)
        #expect(located.body.range(of: Data(Self.rawTicket.utf8)) != nil, "filtered on fields it has")
        #expect(located.body.range(of: Data(Self.rawOrphan.utf8)) == nil, "a record without the filtered fields is only in unfiltered lists")

        let auth = try await sim.gpAuth()
        let inBatch = try await sim.call("GET", "/ucp/transactions?batch_id=BAT_20261127_01&page_size=1000", headers: auth)
        #expect(inBatch.body.range(of: Data(Self.rawTransaction.utf8)) != nil)
        #expect(try await sim.call("GET", "/ucp/transactions/TRN_RAW1", headers: auth).body == Data(Self.rawTransaction.utf8))
        let batches = try await sim.call("GET", "/ucp/batches?location_id=1&page_size=100", headers: auth)
        #expect(batches.body.range(of: Data(Self.rawBatch.utf8)) != nil)
        #expect(batches.json["batches"]?.arrayValue?.count == fixture.batches.count + 1)
        #expect(try await sim.call("GET", "/ucp/batches/BAT_RAW", headers: auth).body == Data(Self.rawBatch.utf8))

        try await sim.load(encoded)
        #expect(try await sim.call("GET", "/api/sales/tickets?per_page=5000", headers: sim.retail).json["total"] == all.json["total"],
            "a fixture loaded twice gives the same records")
    }

    @Test func rawRecordsAreCorrectedAtTheSourceAndTurnedBackIntoNormalOnes() async throws {
        let (fixture, existing, _) = try Self.rawFixture()
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.load(try fixture.encoded())

        let replacement = #"{"id": 990001, "location_id": 1, "business_day": "2026-11-27", "total": 12.50}"#
        let put = try await sim.call("PUT", "/admin/raw/tickets/990001", body: Data(replacement.utf8))
        #expect(put.status == 200)
        #expect(try await sim.call("GET", "/api/sales/tickets/990001", headers: sim.retail).body == Data(replacement.utf8))
        #expect(try await sim.call("PUT", "/admin/raw/tickets/990001", body: Data("[1]".utf8)).status == 422)
        #expect(try await sim.call("PUT", "/admin/raw/receipts/1", body: Data("{}".utf8)).status == 404)

        // The duplicated ticket turned back into its normal record: one record under its id, rendered.
        let record = try Self.fixtureJSON(existing)
        #expect(try await sim.call("PUT", "/admin/records/tickets/\(existing.id)", body: record).status == 200)
        let served = try await sim.call("GET", "/api/sales/tickets/\(existing.id)", headers: sim.retail).json
        #expect(served["public_id"]?.stringValue == existing.publicId)
        #expect(served["total_paid"] != nil)
        let listed = try await sim.call("GET", "/api/sales/tickets?per_page=5000", headers: sim.retail).json["results"]?.arrayValue ?? []
        #expect(listed.filter { $0["id"]?.int64Value == existing.id }.count == 1)
        #expect(try await sim.call("PUT", "/admin/records/tickets/1", body: record).status == 422, "the path names the record")

        let auth = try await sim.gpAuth()
        #expect(try await sim.call("DELETE", "/admin/raw/transactions/TRN_RAW1").json["deleted"]?.int64Value == 1)
        #expect(try await sim.call("GET", "/ucp/transactions/TRN_RAW1", headers: auth).status == 404)
    }

    @Test func aDayHasSeveralBatchesEachClosingOnItsOwn() async throws {
        var fixture = Self.cardFixture()
        fixture.batches = [
            Self.batch("BAT_A", status: "CLOSED", closed: Self.at("2026-11-27T16:00:00Z")), Self.batch("BAT_B"), Self.batch("BAT_C"),
        ]
        fixture.transactions = [
            Self.sale("TRN_A1", batch: "BAT_A", cents: 1_000), Self.sale("TRN_B1", batch: "BAT_B", cents: 2_000),
            Self.sale("TRN_B2", batch: "BAT_B", cents: 500, brand: "AMEX"), Self.sale("TRN_C1", batch: "BAT_C", cents: 700),
        ]
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.load(try fixture.encoded())
        let auth = try await sim.gpAuth()

        let listed = try await sim.call("GET", "/ucp/batches?location_id=1&business_day=\(Self.day)", headers: auth).json
        let batches = listed["batches"]?.arrayValue ?? []
        #expect(batches.compactMap { $0["id"]?.stringValue } == ["BAT_A", "BAT_B", "BAT_C"])
        #expect(batches[0]["time_closed"]?.stringValue == "2026-11-27T16:00:00Z")
        #expect(batches[1]["time_closed"] == .null)
        #expect(batches[1]["amount"]?.stringValue == "2500")

        let closedB = try await sim.call("POST", "/ucp/batches/BAT_B", headers: auth).json
        #expect(closedB["status"]?.stringValue == "CLOSED")
        #expect(closedB["time_closed"]?.stringValue != nil)
        #expect(try await sim.call("GET", "/ucp/batches/BAT_C", headers: auth).json["status"]?.stringValue == "OPEN")
        let closedC = try await sim.call("POST", "/admin/batches/close", ["batch_id": "BAT_C"]).json
        #expect(closedC["closed"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["BAT_C"])
        let inB = try await sim.call("GET", "/ucp/transactions?batch_id=BAT_B&page_size=100", headers: auth).json
        #expect(inB["transactions"]?.arrayValue?.map { $0["batch_id"]?.stringValue } == ["BAT_B", "BAT_B"])
        #expect(inB["transactions"]?.arrayValue?.allSatisfy { $0["status"]?.stringValue == "BATCHED" } == true)
    }

    @Test func feesAreTheBatchsOwnStatement() async throws {
        var fixture = Self.cardFixture()
        fixture.batches = [
            Self.batch("BAT_INVENTED"), Self.batch("BAT_PER_BRAND", fees: .perBrand(["VISA": 61, "AMEX": 40])),
            Self.batch("BAT_NONE", fees: BatchFees.none), Self.batch("BAT_UNSPLIT", fees: .unsplit(123)),
        ]
        for batch in fixture.batches {
            fixture.transactions += [
                Self.sale("\(batch.id)_V", batch: batch.id, cents: 2_000), Self.sale("\(batch.id)_A", batch: batch.id, cents: 1_000, brand: "AMEX"),
            ]
        }
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.load(try fixture.encoded())
        let auth = try await sim.gpAuth()
        func batch(_ id: String) async throws -> (JSONValue, [String: JSONValue]) {
            let json = try await sim.call("GET", "/ucp/batches/\(id)", headers: auth).json
            let brands = (json["brand_breakdown"]?.arrayValue ?? []).map { ($0["brand"]?.stringValue ?? "", $0) }
            return (json, Dictionary(uniqueKeysWithValues: brands))
        }
        let (invented, inventedBrands) = try await batch("BAT_INVENTED")
        #expect(invented["fee_amount"]?.stringValue == "102", "2.60 % of 20.00 + 0.10, 3.00 % of 10.00 + 0.10")
        #expect(inventedBrands["VISA"]?["fee_amount"]?.stringValue == "62")
        let (perBrand, perBrandBrands) = try await batch("BAT_PER_BRAND")
        #expect(perBrand["fee_amount"]?.stringValue == "101")
        #expect(perBrandBrands["VISA"]?["fee_amount"]?.stringValue == "61")
        #expect(perBrandBrands["AMEX"]?["fee_amount"]?.stringValue == "40")
        let (none, noneBrands) = try await batch("BAT_NONE")
        #expect(none["fee_amount"] == nil)
        #expect(noneBrands.values.allSatisfy { $0["fee_amount"] == nil })
        let (unsplit, unsplitBrands) = try await batch("BAT_UNSPLIT")
        #expect(unsplit["fee_amount"]?.stringValue == "123")
        #expect(unsplitBrands.values.allSatisfy { $0["fee_amount"] == nil })
        #expect(unsplit["amount"]?.stringValue == "3000")
    }

    @Test func declinedPreauthorisedAndReversedCountInNoTotal() async throws {
        var fixture = Self.cardFixture()
        fixture.batches = [Self.batch("BAT_MIX"), Self.batch("BAT_NOTHING_SETTLED")]
        fixture.transactions = [
            Self.sale("TRN_OK", batch: "BAT_MIX", cents: 1_000), Self.sale("TRN_DECLINED", batch: "BAT_MIX", cents: 500, status: "DECLINED"),
            Self.sale("TRN_PREAUTH", batch: "BAT_MIX", cents: 700, status: "PREAUTHORIZED"),
            Self.sale("TRN_REVERSED", batch: "BAT_MIX", cents: 300, status: "REVERSED"),
            Self.sale("TRN_ONLY_DECLINED", batch: "BAT_NOTHING_SETTLED", cents: 900, status: "DECLINED"),
        ]
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.load(try fixture.encoded())
        let auth = try await sim.gpAuth()
        let batch = try await sim.call("GET", "/ucp/batches/BAT_MIX", headers: auth).json
        #expect(batch["amount"]?.stringValue == "1000")
        #expect(batch["transaction_count"]?.int64Value == 1)
        #expect(batch["sales"]?["count"]?.int64Value == 1)
        #expect(batch["brand_breakdown"]?.arrayValue?.first?["amount"]?.stringValue == "1000")
        for status in ["DECLINED", "PREAUTHORIZED", "REVERSED"] {
            let listed = try await sim.call("GET", "/ucp/transactions?batch_id=BAT_MIX&status=\(status)", headers: auth).json
            #expect(listed["transactions"]?.arrayValue?.count == 1, "\(status) is listed as GP-API lists it")
        }
        #expect(try await sim.call("POST", "/ucp/transactions/TRN_DECLINED/refund", ["amount": "100"], headers: auth).status == 400)
        #expect(try await sim.call("POST", "/ucp/batches/BAT_NOTHING_SETTLED", headers: auth).status == 400, "nothing to settle")
        let closed = try await sim.call("POST", "/ucp/batches/BAT_MIX", headers: auth).json
        #expect(closed["amount"]?.stringValue == "1000")
        let statuses = try await sim.call("GET", "/ucp/transactions?batch_id=BAT_MIX&page_size=10&order_by=ID&order=ASC", headers: auth)
            .json["transactions"]?.arrayValue?.compactMap { $0["status"]?.stringValue }
        #expect(statuses == ["DECLINED", "BATCHED", "PREAUTHORIZED", "REVERSED"])
    }

    @Test func cardFirstSixEntryModeAndNotesAreServed() async throws {
        var fixture = try StoreDayGenerator.generate(.init(stores: 1, day: Self.day, seed: 3, ticketsPerStore: 30))
        let noted = fixture.tickets.firstIndex { $0.payments.contains { $0.paymentType == TicketPayment.card } }!
        fixture.tickets[noted].notes = "Price match approved by manager"
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.load(try fixture.encoded())
        let transactions = Dictionary(uniqueKeysWithValues: fixture.transactions.map { ($0.id, $0) })
        let ticket = try await sim.call("GET", "/api/sales/tickets/\(fixture.tickets[noted].id)", headers: sim.retail).json
        #expect(ticket["notes"]?.stringValue == "Price match approved by manager")
        let card = try #require(ticket["payments"]?.arrayValue?.first { $0["payment_type"]?.stringValue == TicketPayment.card })
        let transaction = try #require(transactions[card["gateway_transaction_id"]?.stringValue ?? ""])
        #expect(card["first6"]?.stringValue == transaction.first6)
        #expect(card["entry_mode"]?.stringValue == transaction.entryMode)
        let auth = try await sim.gpAuth()
        let served = try await sim.call("GET", "/ucp/transactions/\(transaction.id)", headers: auth).json
        #expect(served["payment_method"]?["entry_mode"]?.stringValue == transaction.entryMode)
        #expect(served["payment_method"]?["card"]?["masked_number_first6last4"]?.stringValue?.hasPrefix(transaction.first6) == true)
        let plain = try await sim.call("GET", "/api/sales/tickets/\(fixture.tickets[noted == 0 ? 1 : 0].id)", headers: sim.retail).json
        #expect(plain["notes"] == .null)
    }

    // MARK: fixtures

    static func at(_ text: String) -> Date { Timestamps.parse(text)! }

    static func cardFixture() -> StoreDayFixture {
        var fixture = StoreDayFixture()
        fixture.locations = [Location(
            id: 1, publicId: "S01", name: "Store 1", timeZone: "America/New_York", taxRateBasisPoints: 888,
            merchantId: "MER_880001", deviceId: "DEV0001")]
        return fixture
    }

    static func batch(_ id: String, status: String = "OPEN", closed: Date? = nil, fees: BatchFees? = nil) -> SettlementBatch {
        SettlementBatch(
            id: id, locationId: 1, businessDay: day, status: status, timeCreated: at("2026-11-27T12:00:00Z"), timeClosed: closed,
            fees: fees)
    }

    static func sale(_ id: String, batch: String, cents: Int64, brand: String = "VISA", status: String = "CAPTURED") -> CardTransaction {
        CardTransaction(
            id: id, locationId: 1, batchId: batch, type: "SALE", status: status, amountCents: cents, gratuityCents: 0,
            currency: "USD", brand: brand, first6: "424242", last4: "4242", entryMode: "CHIP", authCode: "A1B2C3",
            reference: "S01-1", parentResourceId: nil, ticketId: nil, timeCreated: at("2026-11-27T15:00:00Z"))
    }

    /// One record in fixture form, as `PUT /admin/records/...` takes it.
    static func fixtureJSON<Record: Encodable>(_ record: Record) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(record)
    }

    static func query(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
}

extension HeartlandUnderTest {
    /// Loads fixture JSON through `POST /admin/fixtures`.
    func load(_ fixture: Data) async throws {
        let result = try await call("POST", "/admin/fixtures", body: fixture)
        precondition(result.status == 200, "fixture load failed: \(String(decoding: result.body, as: UTF8.self))")
    }

    func call(_ method: String, _ path: String, body: Data) async throws -> HTTPResult {
        try await TestHTTP.send(method, TestHTTP.url(running.baseURL, path), body: body)
    }
}
