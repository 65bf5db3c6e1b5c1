import Foundation
import HeartlandSimulator
import SimulatorKit
import Testing

/// Heartland Retail: tickets, customers (phone on the address), items, inventory, paging, errors.
@Suite struct HeartlandRetailTests {
    static func filter(_ json: String) -> String { json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }

    @Test func ticketsPageFilterAndCarryTenders() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 2, tickets: 50)
        let page = try await sim.call("GET", "/api/sales/tickets?per_page=7&page=2", headers: sim.retail)
        let total = try #require(page.json["total"]?.int64Value)
        #expect(page.json["pages"]?.int64Value == (total + 6) / 7)
        #expect(page.json["results"]?.arrayValue?.count == 7)
        let late = Self.filter(#"{"completed_at":{"$gte":"2026-11-28T00:00:00Z"},"business_day":"2026-11-27"}"#)
        let afterMidnight = try await sim.call("GET", "/api/sales/tickets?per_page=100&_filter=\(late)", headers: sim.retail)
        #expect((afterMidnight.json["total"]?.int64Value ?? 0) > 0)
        for ticket in afterMidnight.json["results"]?.arrayValue ?? [] {
            #expect(ticket["local_completed_at"]?.stringValue?.hasPrefix("2026-11-27T") == true)
        }
        let returns = Self.filter(#"{"return_of_ticket_id":{"$ne":null}}"#)
        let refunds = try await sim.call("GET", "/api/sales/tickets?_filter=\(returns)", headers: sim.retail)
        let refund = try #require(refunds.json["results"]?.arrayValue?.first)
        #expect(refund["lines"]?.arrayValue?.first?["qty"]?.int64Value ?? 0 < 0)
        #expect(Money.cents(fromDollars: refund["total"]) ?? 0 < 0)
        let id = try #require(refund["id"]?.int64Value)
        let lines = try await sim.call("GET", "/api/sales/tickets/\(id)/lines", headers: sim.retail)
        #expect(lines.json["results"] == refund["lines"])
        let payments = try await sim.call("GET", "/api/sales/tickets/\(id)/payments", headers: sim.retail)
        #expect(payments.json["results"] == refund["payments"])
        let badFilter = try await sim.call("GET", "/api/sales/tickets?_filter=\(Self.filter(#"{"nope":1}"#))", headers: sim.retail)
        #expect(badFilter.status == 422)
        #expect(badFilter.json["errors"]?["_filter"] != nil)
        #expect(try await sim.call("GET", "/api/sales/tickets/1", headers: sim.retail).status == 404)
        let locations = try await sim.call("GET", "/api/locations", headers: sim.retail)
        #expect(locations.json["results"]?.arrayValue?.first?["stations"]?.arrayValue?.count == 1)
    }

    @Test func customersAreCreatedUpdatedAndCarryPhoneOnAddress() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        let created = try await sim.call("POST", "/api/customers", [
            "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
            "addresses": [["address_1": "1 Loop", "city": "Austin", "state": "TX", "zip": "73301", "phone": "555-0101"]],
        ], headers: sim.retail)
        #expect(created.status == 201)
        let location = try #require(created.header("Location"))
        #expect(created.json["addresses"]?.arrayValue?.first?["phone"] == "555-0101")
        #expect(created.json["phone"] == nil)
        let updated = try await sim.call("PUT", location, ["email": "ada@lovelace.dev"], headers: sim.retail)
        #expect(updated.json["email"] == "ada@lovelace.dev")
        let address = try await sim.call("POST", location + "/addresses", ["city": "London", "phone": "555-0102"], headers: sim.retail)
        #expect(address.status == 201)
        #expect(try await sim.call("GET", location + "/addresses", headers: sim.retail).json["total"] == 2)
        let invalid = try await sim.call("POST", "/api/customers", ["email": "nobody"], headers: sim.retail)
        #expect(invalid.status == 422)
        #expect(invalid.json["message"]?.stringValue?.hasPrefix("Validation failed") == true)
        let byEmail = try await sim.call("GET", "/api/customers?_filter=\(Self.filter(#"{"email":"ada@lovelace.dev"}"#))", headers: sim.retail)
        #expect(byEmail.json["total"] == 1)
    }

    @Test func itemsAndStockAdjustments() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 1, tickets: 10)
        let item = try await sim.call("POST", "/api/items", ["description": "Gift wrap", "price": money("3.50"), "cost": money("0.40"), "taxable": false], headers: sim.retail)
        #expect(item.status == 201)
        #expect(item.json["price"] == money("3.5"))
        let id = try #require(item.json["id"]?.int64Value)
        let repriced = try await sim.call("PUT", "/api/items/\(id)", ["price": money("3.75")], headers: sim.retail)
        #expect(repriced.json["price"] == money("3.75"))
        #expect(try await sim.call("PUT", "/api/items/\(id)", ["price": money("3.755")], headers: sim.retail).status == 422)
        let adjusted = try await sim.call("POST", "/api/inventory/adjustment_sets", [
            "location_id": 1, "reason": "receiving", "lines": [["item_id": .int(id), "qty": 12], ["item_id": 1, "qty": -2]],
        ], headers: sim.retail)
        #expect(adjusted.status == 201)
        let values = try await sim.call("GET", "/api/inventory/values?location_id=1&item_id=\(id)", headers: sim.retail)
        #expect(values.json["results"]?.arrayValue?.first?["qty_on_hand"] == 12)
        #expect(values.json["results"]?.arrayValue?.first?["unit_cost"] == money("0.4"))
        let all = try await sim.call("GET", "/api/inventory/values?per_page=5", headers: sim.retail)
        #expect(all.json["total"] == 25)
        #expect(try await sim.call("POST", "/api/inventory/adjustment_sets", ["location_id": 9, "lines": [["item_id": 1, "qty": 1]]], headers: sim.retail).status == 422)
        #expect(try await sim.call("POST", "/api/items", ["price": 1], headers: sim.retail).status == 422)
    }

    @Test func liveTicketsCreateCardTransactionsInTheOpenBatch() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 1, tickets: 10)
        let auth = try await sim.gpAuth()
        let before = try await sim.call("GET", "/ucp/batches/BAT_20261127_01", headers: auth).json
        let sale = try await sim.call("POST", "/api/sales/tickets", [
            "location_id": 1, "completed_at": "2026-11-27T20:00:00Z",
            "item_lines": [["item_id": 1, "qty": 2]], "tax_lines": [["description": "Sales Tax", "value": money("3.55")]],
            "payments": [
                ["payment_type": "Cash", "amount": money("10.00")],
                ["payment_type": "Credit Card", "amount": money("37.53"), "tip_amount": money("4.00"), "card_type": "AMEX", "last4": "1005"],
            ],
        ], headers: sim.retail)
        #expect(sale.status == 201)
        #expect(sale.json["total"] == money("43.53"))
        let card = try #require(sale.json["payments"]?.arrayValue?.last)
        let transactionId = try #require(card["gateway_transaction_id"]?.stringValue)
        let transaction = try await sim.call("GET", "/ucp/transactions/\(transactionId)", headers: auth)
        #expect(transaction.json["amount"] == "3753")
        #expect(transaction.json["gratuity_amount"] == "400")
        #expect(transaction.json["batch_id"] == "BAT_20261127_01")
        let after = try await sim.call("GET", "/ucp/batches/BAT_20261127_01", headers: auth).json
        #expect(Money.cents(fromMinorUnits: after["amount"])! - Money.cents(fromMinorUnits: before["amount"])! == 3753)

        let refund = try await sim.call("POST", "/api/sales/tickets", [
            "location_id": 1, "completed_at": "2026-11-27T21:00:00Z", "return_of_ticket_id": sale.json["id"]!,
            "item_lines": [["item_id": 1, "qty": -1]], "tax_lines": [["value": money("-1.78")]],
            "payments": [["payment_type": "Credit Card", "amount": money("-21.77"), "gateway_transaction_id": .string(transactionId)]],
        ], headers: sim.retail)
        #expect(refund.status == 201)
        let refundId = try #require(refund.json["payments"]?.arrayValue?.first?["gateway_transaction_id"]?.stringValue)
        let refundTransaction = try await sim.call("GET", "/ucp/transactions/\(refundId)", headers: auth)
        #expect(refundTransaction.json["type"] == "REFUND")
        #expect(refundTransaction.json["parent_resource_id"] == .string(transactionId))

        let short = try await sim.call("POST", "/api/sales/tickets", [
            "location_id": 1, "item_lines": [["item_id": 1, "qty": 1]], "payments": [["payment_type": "Cash", "amount": 1]],
        ], headers: sim.retail)
        #expect(short.status == 422)
        #expect(short.json["errors"]?["payments"] != nil)
    }
}
