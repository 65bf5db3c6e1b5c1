import AMQP
import Foundation
import Messaging
import PipelineContracts
import TestPrograms
import XCTest

/// The two-way sync end to end: both simulators over HTTP, the real broker, every part a process
/// (sage-ingest, heartland-ingest's master-data poller, transformer, sage-loader, heartland-loader).
final class SyncFlowTests: XCTestCase {
    func unwrapped<T>(_ value: T?, file: StaticString = #filePath, line: UInt = #line) throws -> T {
        try XCTUnwrap(value, file: file, line: line)
    }

    /// Sage's side of the shared catalogue: the same two items as Heartland, priced in price list BASE.
    static func seedCatalogue(_ flow: SyncFlow) async throws {
        for (number, description, price) in [("10001", "Cotton T-shirt", "19.99"), ("10002", "Canvas tote", "15.00")] {
            _ = try await flow.sage("POST", "IC/ICItems", #"{"ItemNumber":"\#(number)","Description":"\#(description)"}"#)
            _ = try await flow.sage("POST", "IC/ICItemPricing", #"{"ItemNumber":"\#(number)","PriceListCode":"BASE","CurrencyCode":"USD","BasePrice":\#(price)}"#)
        }
        _ = try await flow.sage("POST", "IC/ICLocationDetails", #"{"ItemNumber":"10001","Location":"1","QuantityOnHand":40}"#)
    }

    func heartlandItem(_ flow: SyncFlow, _ number: String) async throws -> [String: Any] {
        try unwrapped(try await flow.heartlandRows("items", filter: #"{"public_id":"\#(number)"}"#).first)
    }

    /// (1) A price, description and active change made in Sage reaches the Heartland item once per
    /// version; the first sighting of an item Heartland already has identically writes nothing; a
    /// sage-ingest that lost its state republishes the same versions and the loader's ledger absorbs
    /// them; Heartland's item is never written twice and Sage is never written back.
    func testSageItemChangeReachesHeartlandOncePerVersionWithoutEcho() async throws {
        let flow = try await SyncFlow.start(seedSage: Self.seedCatalogue)
        // First sighting: Heartland already holds these values → recorded, nothing written.
        try await eventually("the first sightings are applied") {
            try await flow.ledgerKeys(flow.heartlandLedger).filter { $0.hasPrefix("sage:item:") }.count == 2
        }
        let untouched = try await heartlandItem(flow, "10001")
        XCTAssertEqual(untouched["updated_at"] as? String, "2024-01-01T00:00:00Z", "an identical item is not written")

        let before = try unwrapped(try await flow.sageRows("IC/ICItems", filter: "ItemNumber eq '10001'").first)
        _ = try await flow.sage("PATCH", "IC/ICItemPricing(CurrencyCode='USD',ItemNumber='10001',PriceListCode='BASE')", #"{"BasePrice":21.50}"#)
        _ = try await flow.sage("PATCH", "IC/ICItems('10002')", #"{"Description":"Canvas tote bag","Status":"Inactive"}"#)
        try await eventually("the new price is in Heartland") { (try await self.heartlandItem(flow, "10001")["price"] as? NSNumber)?.decimalValue == Decimal(string: "21.5") }
        try await eventually("the description and status are in Heartland") {
            let tote = try await self.heartlandItem(flow, "10002")
            return tote["description"] as? String == "Canvas tote bag" && tote["active"] as? Bool == false
        }
        let written = try await heartlandItem(flow, "10001")
        XCTAssertEqual((written["price"] as? NSNumber)?.decimalValue, Decimal(string: "21.5"))
        XCTAssertEqual(written["description"] as? String, "Cotton T-shirt", "fields Sage did not change stay")
        let keys = try await flow.ledgerKeys(flow.heartlandLedger).filter { $0.hasPrefix("sage:item:10001:") }
        XCTAssertEqual(keys.count, 2, "one ledger entry per version of item 10001: \(keys)")

        // sage-ingest loses its state: every item is published again under the same keys, and nothing is written twice.
        try await flow.stop("sage-ingest")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: flow.sageIngestState + suffix) }
        _ = try await flow.take("alerter")
        try flow.startSageIngest()
        var duplicates: Set<String> = []
        try await eventually("the republished versions are recognised as duplicates") {
            for delivery in try await flow.take("alerter") where delivery.routingKey == "audit.duplicate_skipped.heartland-loader" {
                let notice = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any]
                if let key = notice?["idempotencyKey"] as? String { duplicates.insert(key) }
            }
            return duplicates.filter { $0.hasPrefix("sage:item:") }.count >= 2
        }
        let again = try await heartlandItem(flow, "10001")
        XCTAssertEqual(again["updated_at"] as? String, written["updated_at"] as? String, "a repeated version writes nothing")
        let after = try unwrapped(try await flow.sageRows("IC/ICItems", filter: "ItemNumber eq '10001'").first)
        XCTAssertEqual(after["DateLastMaintained"] as? String, before["DateLastMaintained"] as? String, "the bridge never writes Sage's item back")
        let parked = try await flow.broker.depth("heartland-loader.dlq") + flow.broker.depth("transformer.dlq")
        XCTAssertEqual(parked, 0)
    }

    /// (2) Stock on hand per Sage location reaches the mapped Heartland location as one adjustment of the difference.
    func testStockOnHandPerLocationReachesHeartland() async throws {
        let flow = try await SyncFlow.start(seedSage: Self.seedCatalogue)
        func onHand() async throws -> Int? {
            try await flow.heartlandRows("inventory/values", filter: #"{"item_id":1,"location_id":1}"#).first?["qty_on_hand"] as? Int
        }
        try await eventually("the first sighting is applied") { try await flow.ledgerKeys(flow.heartlandLedger).contains { $0.hasPrefix("sage:stock:10001:1:") } }
        let still = try await onHand()
        XCTAssertEqual(still, 40, "equal stock is not adjusted")
        _ = try await flow.sage("PATCH", "IC/ICLocationDetails(ItemNumber='10001',Location='1')", #"{"QuantityOnHand":75}"#)
        try await eventually("Heartland has 75 on hand") { try await onHand() == 75 }
        _ = try await flow.sage("PATCH", "IC/ICLocationDetails(ItemNumber='10001',Location='1')", #"{"QuantityAdjustment":-5}"#)
        try await eventually("Heartland has 70 on hand") { try await onHand() == 70 }
        // A Sage location no Heartland store is mapped to is parked with the reason, not guessed.
        _ = try await flow.sage("POST", "IC/ICLocations", #"{"Location":"9","Name":"Overflow"}"#)
        _ = try await flow.sage("POST", "IC/ICLocationDetails", #"{"ItemNumber":"10001","Location":"9","QuantityOnHand":3}"#)
        try await eventually("the unmapped location is parked") { try await flow.broker.depth("heartland-loader.dlq") == 1 }
        let parked = try await flow.take("heartland-loader.dlq")
        let reason = parked.first?.properties.headers[Header.lastError]?.stringValue ?? ""
        XCTAssertTrue(reason.contains("Sage location 9 has no Heartland location"), reason)
        let unchanged = try await onHand()
        XCTAssertEqual(unchanged, 70)
    }

    /// (3) Customers both ways: a Heartland customer confidently matching a Sage one written `Kim, Ava`
    /// (e-mail in other case, phone in another format) updates it instead of creating a duplicate; an
    /// uncertain match (same e-mail, another first name) is held as one review item, whichever loader
    /// found it, nothing is created, and a person's decision ("different people") releases it; a new
    /// Sage customer is created in Heartland, and its echo back writes nothing in Sage; the ownership
    /// policy decides which side's change travels (Sage: active; Heartland: contact fields), and a
    /// non-owner's change is reported as a `sync_conflict`.
    func testCustomersSyncBothWaysWithDeduplicationReviewAndOwnership() async throws {
        let flow = try await SyncFlow.start { flow in
            try await Self.seedCatalogue(flow)
            for body in [
                #"{"CustomerNumber":"1100","CustomerName":"Kim, Ava","Email":"ava.kim@example.com","PhoneNumber":"(555) 010-1234"}"#,
                #"{"CustomerNumber":"1200","CustomerName":"Stone, Jane","Email":"B.Stone@example.com"}"#,
                #"{"CustomerNumber":"1300","CustomerName":"Cara Diaz","Email":"cara@example.com","PhoneNumber":"555-010-9999"}"#,
            ] { _ = try await flow.sage("POST", "AR/ARCustomers", body) }
        }
        // Review: Bob Stone (Heartland) and Jane Stone (Sage) share an e-mail. Each loader finds the other: one review item.
        var reviews: [Delivery] = []
        try await eventually("the uncertain match is held for review by both loaders") {
            reviews += try await flow.take("alerter").filter { $0.routingKey.hasPrefix("audit.customer_review.") }
            return Set(reviews.map(\.routingKey)).count == 2
        }
        let notices = try reviews.map { try JSONDecoder().decode(CustomerReviewNotice.self, from: Data($0.body)) }
        XCTAssertEqual(Set(notices.map(\.reviewId)), ["heartland:C00002|sage:1200"], "one review item, whichever direction found it")
        XCTAssertTrue(notices.allSatisfy { $0.reason.contains("customer review required") && !$0.reason.contains("Heartland or Heartland") },
                      "\(notices.map(\.reason))")
        let parkedAtFirst = try await flow.broker.depth("sage-loader.dlq") + flow.broker.depth("heartland-loader.dlq")
        XCTAssertEqual(parkedAtFirst, 0, "a review hold is not a dead letter")

        // Confident match: C00001 is Sage's 1100; its Heartland-owned e-mail is written there, no new Sage customer.
        try await eventually("Sage 1100 has Heartland's e-mail") {
            try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber eq '1100'").first?["Email"] as? String == " Ava.Kim@Example.com "
        }
        // New in Sage → created in Heartland with Sage's number; Dan Ng (new in Heartland) → created in Sage.
        try await eventually("Cara is in Heartland and Dan in Sage") {
            let cara = try await flow.heartlandRows("customers", filter: #"{"public_id":"1300"}"#)
            let dan = try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber eq 'C00003'")
            return cara.first?["email"] as? String == "cara@example.com" && dan.first?["CustomerName"] as? String == "Dan Ng"
        }
        let sageNumbers = Set(try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber ne ''").compactMap { $0["CustomerNumber"] as? String })
        XCTAssertEqual(sageNumbers, ["1100", "1200", "1300", "C00003"], "no duplicate of Ava, no Bob before review")
        let janeInHeartland = try await flow.heartlandRows("customers", filter: #"{"public_id":"1200"}"#)
        XCTAssertTrue(janeInHeartland.isEmpty, "no Jane in Heartland before review")

        // The person decides "different people", as the console's customer match page does: the decision to
        // both loaders, then every held command with the decision in a header.
        let decision = CustomerMatchDecision(reviewId: "heartland:C00002|sage:1200", verdict: .different,
                                             pairs: [.init(heartland: "C00002", sage: "1200")], by: "olivia", why: "a couple")
        try await release(decision, held: notices.map(\.held), on: flow)
        try await eventually("Bob is created in Sage and Jane in Heartland") {
            let bob = try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber eq 'C00002'")
            let jane = try await flow.heartlandRows("customers", filter: #"{"public_id":"1200"}"#)
            return bob.first?["CustomerName"] as? String == "Bob Stone" && jane.first?["first_name"] as? String == "Jane"
        }
        let cara = try unwrapped(try await flow.heartlandRows("customers", filter: #"{"public_id":"1300"}"#).first)
        XCTAssertEqual(((cara["addresses"] as? [[String: Any]])?.first?["phone"]) as? String, "555-010-9999", "the phone lives on an address")

        // Echo: Heartland's copy of Cara comes back to sage-loader, which finds Sage already holding it and writes nothing.
        let caraID = try XCTUnwrap(cara["id"] as? Int)
        let caraInSage = try unwrapped(try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber eq '1300'").first)
        try await eventually("the echo of Cara reached sage-loader") {
            try await flow.ledgerKeys(flow.sageLedger).contains { $0.hasPrefix("heartland:customer:\(caraID):") }
        }
        let caraAfter = try unwrapped(try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber eq '1300'").first)
        XCTAssertEqual(caraAfter["DateLastMaintained"] as? String, caraInSage["DateLastMaintained"] as? String, "the echo wrote nothing in Sage")

        // Ownership: Sage deactivates Ava (Sage owns active) and edits her e-mail (Heartland owns it): only the status travels.
        _ = try await flow.sage("PATCH", "AR/ARCustomers('1100')", #"{"Status":"Inactive","Email":"ava@sage-side.example"}"#)
        try await eventually("Ava is inactive in Heartland") {
            try await flow.heartlandRows("customers", filter: #"{"public_id":"C00001"}"#).first?["active"] as? Bool == false
        }
        let ava = try unwrapped(try await flow.heartlandRows("customers", filter: #"{"public_id":"C00001"}"#).first)
        XCTAssertEqual(ava["email"] as? String, " Ava.Kim@Example.com ", "Sage's edit of a Heartland-owned field does not travel")
        var conflicts: [String] = []
        try await eventually("Sage's edit of Ava's e-mail is reported as a conflict") {
            for delivery in try await flow.take("alerter") where delivery.routingKey == "audit.sync_conflict.heartland-loader" {
                conflicts.append((try JSONDecoder().decode(AuditNotice.self, from: Data(delivery.body))).detail)
            }
            return !conflicts.isEmpty
        }
        XCTAssertTrue(conflicts.contains { $0.contains("ava@sage-side.example") && $0.contains("Ava.Kim@Example.com") && $0.contains("Heartland owns") },
                      "\(conflicts)")
        // Heartland changes Ava's e-mail: it overwrites Sage's (Heartland owns it); the status Sage set stays.
        _ = try await flow.heartland("PUT", "customers/1", #"{"email":"ava.kim@new.example"}"#)
        try await eventually("Heartland's e-mail wins in Sage") {
            try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber eq '1100'").first?["Email"] as? String == "ava.kim@new.example"
        }
        let sageAva = try unwrapped(try await flow.sageRows("AR/ARCustomers", filter: "CustomerNumber eq '1100'").first)
        XCTAssertEqual(sageAva["Status"] as? String, "Inactive")
        let heartlandAva = try await flow.heartlandRows("customers", filter: #"{"public_id":"C00001"}"#).first?["active"] as? Bool
        XCTAssertEqual(heartlandAva, false)
    }

    /// (4) A POS customer order becomes one Sage sales order `HL-<order #>` (its new customer created
    /// first); Sage's shipment and invoice move the Heartland order to shipped, then invoiced.
    func testPOSOrderBecomesSageSalesOrderAndFulfilmentFlowsBack() async throws {
        let flow = try await SyncFlow.start(seedSage: Self.seedCatalogue)
        let created = try await flow.heartland("POST", "sales/orders",
            #"{"public_id":"SO-77","location_id":1,"customer_id":3,"lines":[{"item_id":1,"qty":2},{"item_id":2,"qty":1,"adjusted_unit_price":12.5}]}"#)
            as! [String: Any]
        XCTAssertEqual(created["status"] as? String, "open")
        var order: [String: Any] = [:]
        try await eventually("the Sage sales order exists") {
            guard let found = try await flow.sageRows("OE/OEOrders", filter: "OrderNumber eq 'HL-SO-77'").first else { return false }
            order = found
            return true
        }
        XCTAssertEqual(order["CustomerNumber"] as? String, "C00003")
        XCTAssertEqual((order["OrderTotal"] as? NSNumber)?.decimalValue, Decimal(string: "52.48"), "2 × 19.99 + 12.50")
        let lines = try XCTUnwrap(order["OrderDetails"] as? [[String: Any]])
        XCTAssertEqual(lines.map { $0["Item"] as? String }, ["10001", "10002"])
        let uniquifier = try XCTUnwrap(order["OrderUniquifier"] as? Int)

        _ = try await flow.sage("PATCH", "OE/OEOrders(\(uniquifier))", #"{"LastShipmentNumber":"SH000041"}"#)
        func status() async throws -> String? { try await flow.heartlandRows("sales/orders", filter: #"{"public_id":"SO-77"}"#).first?["status"] as? String }
        try await eventually("the Heartland order is shipped") { try await status() == "shipped" }
        _ = try await flow.sage("PATCH", "OE/OEOrders(\(uniquifier))", #"{"LastInvoiceNumber":"IN000041"}"#)
        try await eventually("the Heartland order is invoiced") { try await status() == "invoiced" }
        let orders = try await flow.sageRows("OE/OEOrders", filter: "startswith(OrderNumber,'HL-')")
        XCTAssertEqual(orders.count, 1, "the order was created once (the status changes it caused did not come back as orders)")
        let parked = try await flow.broker.depth("sage-loader.dlq") + flow.broker.depth("heartland-loader.dlq") + flow.broker.depth("transformer.dlq")
        XCTAssertEqual(parked, 0)
    }

    /// (4b) An order's life after it reached Sage: a line edit at the POS changes the Sage order's lines (keeping its
    /// line numbers); a partial shipment in Sage shows on the Heartland order (still open) with what each line shipped;
    /// an order cancelled in Heartland with nothing shipped is deleted in Sage. None of the bridge's own writes comes
    /// back: the first order reaches sage-loader exactly twice (created, edited).
    func testOrderEditsPartialShipmentAndCancellationFlowBothWaysWithoutEcho() async throws {
        let flow = try await SyncFlow.start(seedSage: Self.seedCatalogue)
        let created = try await flow.heartland("POST", "sales/orders",
            #"{"public_id":"SO-78","location_id":1,"customer_id":3,"lines":[{"item_id":1,"qty":3},{"item_id":2,"qty":1}]}"#) as! [String: Any]
        let id = try unwrapped(created["id"] as? Int)
        let lineIDs = try unwrapped(created["lines"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
        func sageOrder(_ number: String) async throws -> [String: Any]? {
            try await flow.sageRows("OE/OEOrders", filter: "OrderNumber eq '\(number)'").first
        }
        func sageLines(_ order: [String: Any]?) -> [String] {
            (order?["OrderDetails"] as? [[String: Any]] ?? []).map { "\($0["LineNumber"] ?? "?") \($0["Item"] ?? "?") × \($0["QuantityOrdered"] ?? "?")" }
        }
        try await eventually("the Sage sales order exists") { try await sageOrder("HL-SO-78") != nil }

        // The customer wants 4 shirts and no tote.
        let clock = ContinuousClock(), start = clock.now
        _ = try await flow.heartland("PUT", "sales/orders/\(id)", #"{"lines":[{"id":\#(lineIDs[0]),"item_id":1,"qty":4}]}"#)
        try await eventually("the edit is in Sage") { sageLines(try await sageOrder("HL-SO-78")) == ["1 10001 × 4"] }
        print("order line edit Heartland → Sage: \(clock.now - start) (pollers every 0.3 s)")

        // Sage ships 1 of the 4.
        _ = try await flow.sage("POST", "OE/OEShipments", #"{"OrderNumber":"HL-SO-78","ShipmentDetails":[{"LineNumber":1,"QuantityShipped":1}]}"#)
        func heartlandOrder(_ number: String) async throws -> [String: Any]? {
            try await flow.heartlandRows("sales/orders", filter: #"{"public_id":"\#(number)"}"#).first
        }
        try await eventually("the partial shipment shows in Heartland") {
            let custom = try await heartlandOrder("SO-78")?["custom"] as? [String: Any]
            return (custom?["sage_fulfilment"] as? String)?.hasPrefix("partially shipped: 10001 1 of 4") == true
        }
        let partial = try await heartlandOrder("SO-78")
        XCTAssertEqual(partial?["status"] as? String, "open", "Heartland has no partial status: the order stays open")

        // Another order, cancelled at the POS once it reached Sage: deleted there.
        let second = try await flow.heartland("POST", "sales/orders",
            #"{"public_id":"SO-79","location_id":1,"customer_id":3,"lines":[{"item_id":2,"qty":2}]}"#) as! [String: Any]
        try await eventually("the second Sage order exists") { try await sageOrder("HL-SO-79") != nil }
        _ = try await flow.heartland("PUT", "sales/orders/\(try unwrapped(second["id"] as? Int))", #"{"status":"cancelled"}"#)
        try await eventually("the cancelled order is gone from Sage") { try await sageOrder("HL-SO-79") == nil }

        // By now heartland-ingest has swept past the fulfilment note the bridge wrote on SO-78: it was not published.
        let keys = try await flow.ledgerKeys(flow.sageLedger).filter { $0 == "heartland:order:\(id)" || $0.hasPrefix("heartland:order:\(id):") }
        XCTAssertEqual(keys.count, 2, "SO-78 reached sage-loader as created and edited, nothing more: \(keys)")
        let finalOrder = try await sageOrder("HL-SO-78")
        XCTAssertEqual(sageLines(finalOrder), ["1 10001 × 4"])
        let parked = try await flow.broker.depth("sage-loader.dlq") + flow.broker.depth("heartland-loader.dlq") + flow.broker.depth("transformer.dlq")
        XCTAssertEqual(parked, 0)
    }

    /// (5) Items both ways under the shipped ownership (Sage owns description, price, active): an item
    /// created in Heartland is created in Sage with its price, and comes back without being written
    /// again; a price set at the POS (Heartland does not own it) is a `sync_conflict` with both values
    /// and does not reach Sage; a price change in Sage reaches Heartland.
    func testItemsBothWaysWithCreationConflictAndNoEcho() async throws {
        let flow = try await SyncFlow.start(seedSage: Self.seedCatalogue)
        try await eventually("the first sightings are applied") {
            try await flow.ledgerKeys(flow.heartlandLedger).filter { $0.hasPrefix("sage:item:") }.count == 2
        }
        _ = try await flow.heartland("POST", "items", #"{"public_id":"20001","description":"Wool socks","price":9.5}"#)
        try await eventually("the Heartland item is in Sage with its price") {
            let price = try await flow.sageRows("IC/ICItemPricing", filter: "ItemNumber eq '20001' and PriceListCode eq 'BASE'").first
            return (price?["BasePrice"] as? NSNumber)?.decimalValue == Decimal(string: "9.5")
        }
        let socks = try await heartlandItem(flow, "20001")
        try await eventually("Sage's copy came back to heartland-loader") {
            try await flow.ledgerKeys(flow.heartlandLedger).contains { $0.hasPrefix("sage:item:20001:") }
        }
        let socksAfter = try await heartlandItem(flow, "20001")
        XCTAssertEqual(socksAfter["updated_at"] as? String, socks["updated_at"] as? String, "the item the bridge created in Sage is not written back")

        // A price set at the POS for an item whose price Sage owns: reported, not synced.
        _ = try await flow.take("alerter")
        _ = try await flow.heartland("PUT", "items/1", #"{"price":17.25}"#)
        var conflicts: [String] = []
        try await eventually("the POS price is reported as a conflict") {
            for delivery in try await flow.take("alerter") where delivery.routingKey == "audit.sync_conflict.sage-loader" {
                conflicts.append(try JSONDecoder().decode(AuditNotice.self, from: Data(delivery.body)).detail)
            }
            return !conflicts.isEmpty
        }
        XCTAssertTrue(conflicts.contains { $0.contains("17.25") && $0.contains("19.99") && $0.contains("Sage owns price") }, "\(conflicts)")
        let sagePrice = try await flow.sageRows("IC/ICItemPricing", filter: "ItemNumber eq '10001' and PriceListCode eq 'BASE'").first
        XCTAssertEqual((sagePrice?["BasePrice"] as? NSNumber)?.doubleValue, 19.99, "the owner's price stands")

        // A price change in Sage, the owner, reaches Heartland: how long it takes is printed, for the report.
        let clock = ContinuousClock(), start = clock.now
        _ = try await flow.sage("PATCH", "IC/ICItemPricing(CurrencyCode='USD',ItemNumber='10001',PriceListCode='BASE')", #"{"BasePrice":22.00}"#)
        try await eventually("Sage's price is in Heartland") { (try await self.heartlandItem(flow, "10001")["price"] as? NSNumber)?.decimalValue == 22 }
        print("item price round trip Sage → Heartland: \(clock.now - start) (pollers every 0.3 s)")
        let parked = try await flow.broker.depth("sage-loader.dlq") + flow.broker.depth("heartland-loader.dlq") + flow.broker.depth("transformer.dlq")
        XCTAssertEqual(parked, 0)
    }

    /// (6) A merchant whose prices are set at the POS (`ownership.item.price: heartland`): a Heartland
    /// price change reaches Sage's price list and is not echoed back; Sage still owns the description.
    func testHeartlandOwnedPriceReachesSageWithoutEcho() async throws {
        let policy = try String(contentsOf: repositoryRoot.appendingPathComponent("Config/sync.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "    price: sage", with: "    price: heartland")
        XCTAssertTrue(policy.contains("price: heartland"))
        let flow = try await SyncFlow.start(syncPolicy: policy, seedSage: Self.seedCatalogue)
        try await eventually("the first sightings are applied") {
            try await flow.ledgerKeys(flow.heartlandLedger).filter { $0.hasPrefix("sage:item:") }.count == 2
        }
        let clock = ContinuousClock(), start = clock.now
        _ = try await flow.heartland("PUT", "items/2", #"{"price":13.75}"#)
        try await eventually("Heartland's price is in Sage") {
            let price = try await flow.sageRows("IC/ICItemPricing", filter: "ItemNumber eq '10002' and PriceListCode eq 'BASE'").first
            return (price?["BasePrice"] as? NSNumber)?.decimalValue == Decimal(string: "13.75")
        }
        print("item price round trip Heartland → Sage: \(clock.now - start) (pollers every 0.3 s)")
        let tote = try await heartlandItem(flow, "10002")
        try await eventually("Sage's new price came back to heartland-loader") {
            try await flow.ledgerKeys(flow.heartlandLedger).filter { $0.hasPrefix("sage:item:10002:") }.count >= 2
        }
        let toteAfter = try await heartlandItem(flow, "10002")
        XCTAssertEqual(toteAfter["updated_at"] as? String, tote["updated_at"] as? String, "the price the bridge wrote in Sage is not written back")
        // Sage still owns the description.
        _ = try await flow.sage("PATCH", "IC/ICItems('10002')", #"{"Description":"Canvas tote bag"}"#)
        try await eventually("Sage's description is in Heartland") { try await self.heartlandItem(flow, "10002")["description"] as? String == "Canvas tote bag" }
        let parked = try await flow.broker.depth("sage-loader.dlq") + flow.broker.depth("heartland-loader.dlq") + flow.broker.depth("transformer.dlq")
        XCTAssertEqual(parked, 0)
    }

    /// What the console does with a decision (`OperationsConsole.release`): the decision to both loaders, then the held commands carrying it.
    func release(_ decision: CustomerMatchDecision, held: [HeldCommand], on flow: SyncFlow) async throws {
        let key = "customer-decision:\(decision.reviewId):\(decision.verdict.rawValue)"
        var messages = try ["sage.customer.decision", "heartland.customer.decision"].map { route in
            try OutboundMessage(exchange: "bridge.commands", routingKey: route, json: decision, idempotencyKey: key)
                .amqpMessage(correlationID: key, messageID: MessageID.derived(key, route), traceparent: nil)
        }
        let header = String(decoding: try JSONEncoder().encode(decision), as: UTF8.self)
        for command in held {
            messages.append(OutboundMessage(exchange: "bridge.commands", routingKey: command.routingKey, body: Array(command.body.utf8),
                                            idempotencyKey: command.idempotencyKey, headers: [CustomerMatchDecision.header: .string(header)])
                .amqpMessage(correlationID: command.messageId, messageID: MessageID.derived("released", command.messageId), traceparent: nil))
        }
        let session = try await flow.broker.session("release")
        try await session.publish(messages)
        await session.close()
    }
}
