import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
@testable import HeartlandConnector
import Messaging
import Testing

/// The two-way sync's reads (`RetailMasterDataClient`) and Heartland's error bodies never hand a card
/// number on: a clerk who typed one into a customer's name, an address, an item description (and so
/// an order line) or a value Heartland echoes in an error finds it masked in every decoded record and
/// every `HeartlandError`.
@Suite struct MasterDataCardDataTests {
    static let pans = ["4111111111111111", "5500000000000004", "378282246310005", "6011000990139424"]

    @Test func customersItemsAndOrdersAreScrubbedBeforeDecoding() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = try await Self.storeDay(harness)
        // Written as a clerk would, straight to the simulator (Heartland keeps what it is given).
        let customer = try await post(harness, "customers", [
            "first_name": "Ann 4111 1111 1111 1111", "last_name": "cc5500000000000004", "email": "ann@example.com",
        ])
        _ = try await post(harness, "customers/\(customer)/addresses", [
            "address_1": "3782-822463-10005 Main St", "city": "Springfield", "phone": "6011000990139424",
        ])
        let item = try await post(harness, "items", ["description": "gift card 6011.0009.9013.9424", "long_description": "for 4111111111111111 123",
                                                     "price": 5])
        let location = try await harness.simulator.database.read { try Int64.fetchOne($0, sql: "SELECT MIN(id) FROM location") }
        _ = try await post(harness, "sales/orders", ["location_id": try #require(location), "customer_id": customer,
                                                     "lines": [["item_id": item, "qty": 1]]])

        let customers = try await client.allCustomers() + [try await client.customer(id: customer)]
        let items = try await client.items(updatedSince: nil) + [try await client.item(id: item)]
        let orders = try await client.orders(updatedSince: nil)
        let mine = try #require(customers.last)
        #expect(mine.firstName == "Ann 4111 11** **** 1111")
        #expect(mine.lastName == "cc550000******0004")
        #expect(mine.addresses.first?.address1 == "3782-82****-*0005 Main St")
        #expect(mine.addresses.first?.phone == "601100******9424")
        #expect(items.last?.description == "gift card 6011.00**.****.9424")
        #expect(items.last?.longDescription == "for 411111******1111 123")
        let line = try #require(orders.flatMap(\.lines).first { $0.itemId == item })
        #expect(line.description == "gift card 6011.00**.****.9424")
        let everything = "\(customers) \(items) \(orders)"
        for pan in Self.pans { #expect(!Self.digitsOnly(everything).contains(pan), "\(pan) decoded unmasked") }
    }

    @Test func heartlandErrorBodiesAreMaskedWhenTheErrorIsBuilt() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = try await Self.storeDay(harness)
        let item = try await post(harness, "items", ["description": "mug", "price": 5])
        let location = try await harness.simulator.database.read { try Int64.fetchOne($0, sql: "SELECT MIN(id) FROM location") }
        let order = try await post(harness, "sales/orders", ["location_id": try #require(location), "lines": [["item_id": item, "qty": 1]]])
        // A 422 that echoes the value it refused: the card number is only in the body.
        var refused: HeartlandError?
        do { _ = try await client.updateOrder(id: order, status: "4111111111111111") } catch let error as HeartlandError { refused = error }
        guard case .invalidResponse(let detail)? = refused else {
            Issue.record("expected a 422 as .invalidResponse, got \(String(describing: refused))")
            return
        }
        #expect(detail.contains("411111******1111"), "\(detail)")
        #expect(!Self.digitsOnly("\(refused!)").contains("4111111111111111"))
        // A body that is not JSON is masked before it is cut to 200 characters.
        let summary = HeartlandError.from(status: 502, body: Data(("<html>" + String(repeating: "x", count: 180) + " 4111111111111111 </html>").utf8),
                                          retryAfterHeader: nil, what: "test")
        #expect(!Self.digitsOnly("\(summary)").contains("41111111111"), "\(summary)")
    }

    /// A store day in the simulator (locations, items) and the sync's client for it.
    static func storeDay(_ harness: Harness) async throws -> RetailMasterDataClient {
        try await harness.loadDay(stores: 1, tickets: 5)
        return RetailMasterDataClient(retailBaseURL: harness.running.baseURL.appendingPathComponent("api"), token: Harness.retailToken,
                                      logger: quietLogger)
    }

    static func digitsOnly(_ text: String) -> String { text.filter { $0.isASCII && $0.isNumber } }

    /// A POST to the simulator's Retail API with the Retail token; returns the created record's id.
    private func post(_ harness: Harness, _ path: String, _ fields: [String: Any]) async throws -> Int64 {
        var request = URLRequest(url: harness.running.baseURL.appendingPathComponent("api/\(path)"))
        request.httpMethod = "POST"
        request.setValue("Bearer \(Harness.retailToken)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: fields)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 201 || status == 200 else {
            Issue.record("POST \(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
            throw URLError(.badServerResponse)
        }
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (object?["id"] as? NSNumber)?.int64Value ?? 0
    }
}
