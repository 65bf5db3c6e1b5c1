import Foundation
import HeartlandSimulator
import SimulatorKit
import Testing

/// GP-API transactions and batches, and their tie to the POS tickets.
@Suite struct HeartlandCardTests {
    @Test func transactionsPageAndFilter() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(tickets: 80)
        let auth = try await sim.gpAuth()
        let first = try await sim.call("GET", "/ucp/transactions?page_size=5&page=1&order_by=TIME_CREATED&order=ASC", headers: auth)
        let total = try #require(first.json["total_record_count"]?.int64Value)
        #expect(total > 5)
        #expect(first.json["transactions"]?.arrayValue?.count == 5)
        #expect(first.json["paging"]?["page_size"] == 5)
        let second = try await sim.call("GET", "/ucp/transactions?page_size=5&page=2&order_by=TIME_CREATED&order=ASC", headers: auth)
        #expect(second.json["transactions"]?.arrayValue?.first?["id"] != first.json["transactions"]?.arrayValue?.first?["id"])
        let refunds = try await sim.call("GET", "/ucp/transactions?type=REFUND&page_size=100", headers: auth)
        let refundRows = try #require(refunds.json["transactions"]?.arrayValue)
        #expect(!refundRows.isEmpty)
        for row in refundRows {
            #expect(row["type"] == "REFUND")
            #expect(row["parent_resource_id"]?.stringValue?.hasPrefix("TRN_") == true)
        }
        let visa = try await sim.call("GET", "/ucp/transactions?brand=VISA&page_size=1000", headers: auth)
        #expect(visa.json["transactions"]?.arrayValue?.allSatisfy { $0["payment_method"]?["card"]?["brand"] == "VISA" } == true)
        let masked = visa.json["transactions"]?.arrayValue?.first?["payment_method"]?["card"]?["masked_number_first6last4"]?.stringValue ?? ""
        #expect(masked.hasPrefix("424242XXXXXX") && masked.count == 16)
        let dated = try await sim.call("GET", "/ucp/transactions?from_time_created=2030-01-01", headers: auth)
        #expect(dated.json["total_record_count"] == 0)
        let badSize = try await sim.call("GET", "/ucp/transactions?page_size=5000", headers: auth)
        #expect(badSize.status == 400)
        #expect(badSize.json["error_code"] == "INVALID_REQUEST_DATA")
        let missing = try await sim.call("GET", "/ucp/transactions/TRN_nope", headers: auth)
        #expect(missing.status == 404)
    }

    /// Sum of every card tender on the batch's tickets (refunds negative, voids excluded) = batch amount.
    @Test func batchTotalsTieToTicketCardPayments() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 2, tickets: 120)
        let auth = try await sim.gpAuth()
        for location in 1...2 {
            let batchId = String(format: "BAT_20261127_%02d", location)
            let batch = try await sim.call("GET", "/ucp/batches/\(batchId)", headers: auth).json
            var cardCents: Int64 = 0
            var tipCents: Int64 = 0
            var page = 1
            while true {
                let filter = "%7B%22location_id%22:\(location),%22business_day%22:%222026-11-27%22,%22status%22:%22complete%22%7D"
                let result = try await sim.call("GET", "/api/sales/tickets?per_page=50&page=\(page)&_filter=\(filter)", headers: sim.retail).json
                for ticket in result["results"]?.arrayValue ?? [] {
                    for payment in ticket["payments"]?.arrayValue ?? [] where payment["payment_type"] == "Credit Card" {
                        cardCents += Money.cents(fromDollars: payment["amount"])!
                        tipCents += Money.cents(fromDollars: payment["tip_amount"])!
                    }
                }
                guard page < (result["pages"]?.int64Value ?? 0) else { break }
                page += 1
            }
            #expect(cardCents > 0)
            #expect(Money.cents(fromMinorUnits: batch["amount"]) == cardCents)
            #expect(Money.cents(fromMinorUnits: batch["gratuity_amount"]) == tipCents)
            let brands = batch["brand_breakdown"]?.arrayValue ?? []
            #expect(brands.reduce(Int64(0)) { $0 + (Money.cents(fromMinorUnits: $1["amount"]) ?? 0) } == cardCents)
            let fees = brands.reduce(Int64(0)) { $0 + (Money.cents(fromMinorUnits: $1["fee_amount"]) ?? 0) }
            #expect(fees > 0 && Money.cents(fromMinorUnits: batch["fee_amount"]) == fees)
        }
    }

    @Test func closingABatchMarksTransactionsAndRejectsASecondClose() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 1, tickets: 30)
        let auth = try await sim.gpAuth()
        let closed = try await sim.call("POST", "/ucp/batches/BAT_20261127_01", headers: auth.merging(["x-gp-idempotency": "close-1"]) { a, _ in a })
        #expect(closed.status == 200)
        #expect(closed.json["status"] == "CLOSED")
        #expect(closed.json["action"]?["type"] == "BATCH_CLOSE")
        #expect(closed.json["action"]?["result_code"] == "SUCCESS")
        let replay = try await sim.call("POST", "/ucp/batches/BAT_20261127_01", headers: auth.merging(["x-gp-idempotency": "close-1"]) { a, _ in a })
        #expect(replay.status == 409)
        #expect(replay.json["error_code"] == "DUPLICATE_ACTION")
        #expect(replay.json["detailed_error_code"] == "40039")
        let again = try await sim.call("POST", "/ucp/batches/BAT_20261127_01", headers: auth)
        #expect(again.status == 400)
        let settled = try await sim.call("GET", "/ucp/settlement/transactions?batch_id=BAT_20261127_01&page_size=1", headers: auth)
        #expect((settled.json["total_record_count"]?.int64Value ?? 0) > 0)
        #expect(try await sim.call("GET", "/ucp/batches/BAT_nope", headers: auth).status == 404)
    }

    @Test func refundAndReversal() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 1, tickets: 30)
        let auth = try await sim.gpAuth()
        let sales = try await sim.call("GET", "/ucp/transactions?type=SALE&status=CAPTURED&page_size=2&order=ASC", headers: auth)
        let rows = try #require(sales.json["transactions"]?.arrayValue)
        let saleId = try #require(rows.first?["id"]?.stringValue)
        let refund = try await sim.call("POST", "/ucp/transactions/\(saleId)/refund", ["amount": "100"], headers: auth)
        #expect(refund.status == 200)
        #expect(refund.json["type"] == "REFUND")
        #expect(refund.json["amount"] == "100")
        #expect(refund.json["parent_resource_id"] == .string(saleId))
        let tooMuch = try await sim.call("POST", "/ucp/transactions/\(saleId)/refund", ["amount": "99999999"], headers: auth)
        #expect(tooMuch.status == 400)
        let otherId = try #require(rows.last?["id"]?.stringValue)
        let reversed = try await sim.call("POST", "/ucp/transactions/\(otherId)/reversal", headers: auth)
        #expect(reversed.json["status"] == "REVERSED")
        #expect(try await sim.call("POST", "/ucp/transactions/\(otherId)/reversal", headers: auth).status == 400)
    }
}
