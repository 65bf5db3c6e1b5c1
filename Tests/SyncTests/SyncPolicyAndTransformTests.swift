import AMQP
import Foundation
import Messaging
@testable import Sync
import SyncContracts
import XCTest

final class SyncPolicyTests: XCTestCase {
    static let configPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/sync.yaml").path

    func testCommittedPolicyIsTheStandardOne() throws {
        let policy = try SyncPolicy.load(path: Self.configPath)
        XCTAssertEqual(policy.ownership, SyncPolicy.standard.ownership)
        XCTAssertEqual(policy.owned(.item, by: .sage), ["description", "price", "active"])
        XCTAssertEqual(policy.owned(.customer, by: .heartland), ["first_name", "last_name", "email", "phone"])
        XCTAssertEqual(policy.owned(.customer, by: .sage), ["active"])
        XCTAssertEqual(policy.heartlandLocation(sage: "1"), 1)
        XCTAssertEqual(policy.sageLocation(heartland: 1), "1")
        XCTAssertEqual(policy.priceList, "BASE")
        XCTAssertEqual(policy.sageCustomerDefaults["AccountSet"], "RETAIL")
    }

    func testOwnershipIsConfigurable() throws {
        let yaml = """
            ownership:
              item: {description: sage, price: heartland, active: sage}
              customer: {first_name: heartland, last_name: heartland, email: sage, phone: heartland, active: sage}
            """
        let policy = try SyncPolicy.parse(yaml)
        XCTAssertEqual(policy.owned(.item, by: .sage), ["description", "active"])
        XCTAssertEqual(policy.owned(.customer, by: .sage), ["email", "active"])
    }

    func testMistakesInThePolicyAreNamed() {
        let cases = [
            ("ownership:\n  item: {description: sage, price: sage, active: sage, cost: sage}\n  customer: {first_name: heartland, last_name: heartland, email: heartland, phone: heartland, active: sage}", "ownership.item.cost"),
            ("ownership:\n  item: {description: sage, price: everyone, active: sage}\n  customer: {first_name: heartland, last_name: heartland, email: heartland, phone: heartland, active: sage}", "must be sage or heartland"),
            ("ownership:\n  item: {description: sage, active: sage}\n  customer: {first_name: heartland, last_name: heartland, email: heartland, phone: heartland, active: sage}", "no owner for price"),
        ]
        for (yaml, expected) in cases {
            XCTAssertThrowsError(try SyncPolicy.parse(yaml)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should mention \(expected)")
            }
        }
    }
}

final class MasterDataTransformTests: XCTestCase {
    func inbound<Record>(_ routingKey: String, _ record: Record, fields: [String] = [], key: String) throws -> InboundMessage
        where Record: Sendable & Codable & Equatable
    {
        let body = try JSONEncoder().encode(SyncMessage(schema: SyncRoute.schema(routingKey), record: record, fields: fields, idempotencyKey: key))
        return InboundMessage(Delivery(routingKey: routingKey, properties: MessageProperties(
            messageID: "m1", type: routingKey, headers: [Header.idempotencyKey: .string(key)]), body: Array(body)))
    }

    func command(_ outcome: StageOutcome) throws -> OutboundMessage {
        guard case .publish(let messages) = outcome, messages.count == 1 else { throw StageError.permanent("expected one command, got \(outcome)") }
        return messages[0]
    }

    func testSageItemBecomesAHeartlandItemUpdateUnderTheSameKey() throws {
        let item = ItemRecord(itemNumber: "10001", description: "Cotton T-shirt", priceCents: 2150, active: true, version: "2026-01-02T03:04:05.678Z")
        let key = SyncKey.sageItem("10001", item.version)
        let out = try command(MasterDataTransform.outcome(for: try inbound(SyncRoute.sageItemChanged, item, fields: ["price"], key: key),
                                                          commandsExchange: "bridge.commands", logger: .init(label: "t")))
        XCTAssertEqual(out.exchange, "bridge.commands")
        XCTAssertEqual(out.routingKey, "heartland.item.update")
        XCTAssertEqual(out.idempotencyKey, "sage:item:10001:2026-01-02T03:04:05.678Z")
        let document = try JSONDecoder().decode(SyncMessage<ItemRecord>.self, from: Data(out.body))
        XCTAssertEqual(document.record, item)
        XCTAssertEqual(document.fields, ["price"])
        XCTAssertEqual(document.schema, "bridge.sync.heartland_item_update.v1")
    }

    func testEveryEventHasItsCommand() throws {
        let customer = SyncCustomer(side: .heartland, id: "7", number: "C00007", firstName: "Ava", lastName: "Kim", email: nil, phone: nil,
                                    active: true, version: "v")
        let pairs: [(String, String, InboundMessage)] = [
            (SyncRoute.sageStockChanged, SyncRoute.heartlandStockSet,
             try inbound(SyncRoute.sageStockChanged, StockRecord(itemNumber: "1", location: "1", quantityOnHand: "12.000", version: "v"), key: "k1")),
            (SyncRoute.heartlandCustomerChanged, SyncRoute.sageCustomerUpsert, try inbound(SyncRoute.heartlandCustomerChanged, customer, key: "k2")),
            (SyncRoute.sageCustomerChanged, SyncRoute.heartlandCustomerUpsert, try inbound(SyncRoute.sageCustomerChanged, customer, key: "k3")),
            (SyncRoute.sageOrderStatusChanged, SyncRoute.heartlandOrderStatus,
             try inbound(SyncRoute.sageOrderStatusChanged, OrderStatusRecord(orderNumber: "HL-1", heartlandPublicId: "1", status: "shipped", version: "v"), key: "k4")),
            (SyncRoute.heartlandOrderCreated, SyncRoute.sageOrderCreate,
             try inbound(SyncRoute.heartlandOrderCreated, OrderRecord(heartlandId: 1, publicId: "SO1", sageLocation: "1", customer: customer,
                                                                      lines: [.init(itemNumber: "10001", quantity: 2, unitPriceCents: 1999)], createdAt: nil), key: "k5")),
            (SyncRoute.heartlandOrderChanged, SyncRoute.sageOrderUpdate,
             try inbound(SyncRoute.heartlandOrderChanged, OrderRecord(heartlandId: 1, publicId: "SO1", sageLocation: "1", customer: customer,
                                                                      lines: [.init(itemNumber: "10001", quantity: 1, unitPriceCents: 1999)], createdAt: nil,
                                                                      status: "cancelled", version: "v2"), key: "k6")),
        ]
        for (event, expected, message) in pairs {
            XCTAssertTrue(MasterDataTransform.handles(event))
            let out = try command(MasterDataTransform.outcome(for: message, commandsExchange: "bridge.commands", logger: .init(label: "t")))
            XCTAssertEqual(out.routingKey, expected, event)
            XCTAssertEqual(out.idempotencyKey, message.idempotencyKey)
        }
        XCTAssertFalse(MasterDataTransform.handles("heartland.batch.closed"))
    }

    func testInvalidMasterDataIsPermanentWithTheRecordNamed() throws {
        let cases: [(InboundMessage, String)] = [
            (try inbound(SyncRoute.sageStockChanged, StockRecord(itemNumber: "10001", location: "1", quantityOnHand: "2.5", version: "v"), key: "a"),
             "stock of item 10001 at Sage location 1: QuantityOnHand 2.5 is not a whole number"),
            (try inbound(SyncRoute.sageItemChanged, ItemRecord(itemNumber: "10001", description: "T", priceCents: -1, active: true, version: "v"), key: "b"),
             "item 10001 has a negative price"),
            (try inbound(SyncRoute.sageOrderStatusChanged, OrderStatusRecord(orderNumber: "HL-1", heartlandPublicId: "1", status: "lost", version: "v"), key: "c"),
             "status 'lost' is not partially_shipped, shipped or invoiced"),
            (try inbound(SyncRoute.heartlandOrderCreated, OrderRecord(heartlandId: 1, publicId: "SO1", sageLocation: nil, customer: nil,
                                                                      lines: [.init(itemNumber: "10001", quantity: 0, unitPriceCents: 5)], createdAt: nil), key: "d"),
             "Heartland order SO1, line 1"),
            (try inbound(SyncRoute.heartlandCustomerChanged, SyncCustomer(side: .heartland, id: "1", number: "C1", firstName: " ", lastName: "",
                                                                          email: nil, phone: nil, active: true, version: "v"), key: "e"),
             "heartland customer C1 has no name"),
        ]
        for (message, expected) in cases {
            XCTAssertThrowsError(try MasterDataTransform.outcome(for: message, commandsExchange: "x", logger: .init(label: "t"))) { error in
                guard case StageError.permanent(let reason) = error else { return XCTFail("\(error) is not permanent") }
                XCTAssertTrue(reason.contains(expected), "\(reason) should contain \(expected)")
            }
        }
    }

    func testWholeQuantities() {
        XCTAssertEqual(MasterDataTransform.wholeQuantity("12"), 12)
        XCTAssertEqual(MasterDataTransform.wholeQuantity("12.000"), 12)
        XCTAssertEqual(MasterDataTransform.wholeQuantity("-3"), -3)
        XCTAssertNil(MasterDataTransform.wholeQuantity("12.5"))
        XCTAssertNil(MasterDataTransform.wholeQuantity("twelve"))
    }

    func testFingerprintsDependOnValuesAndTheirPlaces() {
        XCTAssertEqual(SyncState.fingerprint(["a", nil]), SyncState.fingerprint(["a", nil]))
        XCTAssertNotEqual(SyncState.fingerprint(["a", nil]), SyncState.fingerprint([nil, "a"]))
        XCTAssertNotEqual(SyncState.fingerprint(["ab", "c"]), SyncState.fingerprint(["a", "bc"]))
        XCTAssertNotEqual(SyncState.fingerprint([""]), SyncState.fingerprint([nil]))
    }
}
