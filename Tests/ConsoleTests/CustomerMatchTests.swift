import AMQP
import Alerter
import Foundation
import Messaging
@testable import OperationsConsole
import PipelineContracts
import TestPrograms
import XCTest

/// The customer match page: one item for a pair both loaders held, the records side by side with
/// the evidence, and the decision sent to both loaders with the held commands released.
final class CustomerMatchTests: XCTestCase {
    static let bob = ReviewedCustomer(side: "heartland", number: "C00002", name: "Bob Stone", email: "B.Stone@Example.com", phone: nil)
    static let jane = ReviewedCustomer(side: "sage", number: "1200", name: "Jane Stone", email: "b.stone@example.com", phone: nil)

    /// What the two loaders publish when each finds the other side's customer.
    static func notices() -> [CustomerReviewNotice] {
        var janeAsCandidate = jane, bobAsCandidate = bob
        janeAsCandidate.evidence = "same e-mail"
        bobAsCandidate.evidence = "same e-mail"
        return [
            CustomerReviewNotice(stage: "sage-loader", customer: bob, candidates: [janeAsCandidate],
                                 reason: "customer review required: heartland customer C00002 (Bob Stone …) may already exist in Sage as 1200",
                                 held: HeldCommand(routingKey: "sage.customer.upsert", body: #"{"record":"bob"}"#, idempotencyKey: "heartland:customer:2:v1",
                                                   messageId: "m-bob", correlationId: "c-bob"), at: "2026-12-01T10:00:00Z"),
            CustomerReviewNotice(stage: "heartland-loader", customer: jane, candidates: [bobAsCandidate],
                                 reason: "customer review required: sage customer 1200 (Jane Stone …) may already exist in Heartland as C00002",
                                 held: HeldCommand(routingKey: "heartland.customer.upsert", body: #"{"record":"jane"}"#, idempotencyKey: "sage:customer:1200:v1",
                                                   messageId: "m-jane", correlationId: "c-jane"), at: "2026-12-01T10:00:01Z"),
        ]
    }

    struct Item: Decodable {
        var reviewId, status: String
        var records: [ReviewedCustomer]
        var held: [HeldCommand]
        var reasons: [String]
        var verdict: String?
        var decidedBy: String?
    }

    func testOneItemForBothDirectionsSideBySideAndDecisionsNeedTheBroker() async throws {
        let fixture = try ConsoleFixture.make(customerReviews: true)
        let store = try XCTUnwrap(fixture.console.configuration.customerReviews)
        let (first, second) = (try await store.record(Self.notices()[0]), try await store.record(Self.notices()[1]))
        XCTAssertTrue(first, "the first loader's hold opens the item")
        XCTAssertFalse(second, "the other loader's hold of the same records joins it")
        _ = try await store.record(Self.notices()[1])  // a redelivery changes nothing

        let token = ["authorization": "Bearer view-token"]
        let items = try decodeJSON([Item].self, await fixture.get("/api/matches", token))
        XCTAssertEqual(items.map(\.reviewId), ["heartland:C00002|sage:1200"])
        XCTAssertEqual(items.first?.held.map(\.idempotencyKey), ["heartland:customer:2:v1", "sage:customer:1200:v1"])
        XCTAssertEqual(Set(items.first?.records.map(\.reference) ?? []), ["heartland:C00002", "sage:1200"])
        XCTAssertEqual(items.first?.reasons.count, 2)

        let operatorSession = try await fixture.login("olivia", "op-secret")
        let page = await fixture.get("/matches/heartland:C00002%7Csage:1200", ["cookie": operatorSession.cookie])
        XCTAssertEqual(page.status, 200, page.text)
        for expected in ["record-heartland-C00002", "record-sage-1200", "Bob Stone", "Jane Stone", "same e-mail", "id=\"same\"", "id=\"different\""] {
            XCTAssertTrue(page.text.contains(expected), "\(expected) on the page")
        }
        let viewer = await fixture.post("/matches/heartland:C00002%7Csage:1200/same", token)
        XCTAssertEqual(viewer.status, 403)
        let withoutBroker = await fixture.post("/matches/heartland:C00002%7Csage:1200/different", ["authorization": "Bearer op-token"])
        XCTAssertEqual(withoutBroker.status, 503, withoutBroker.text)
        let still = try await store.item("heartland:C00002|sage:1200")
        XCTAssertEqual(still.status, "open", "nothing is decided while the decision cannot be sent")
        let missing = await fixture.get("/api/matches/nobody", token)
        XCTAssertEqual(missing.status, 404)
    }

    func testSamePersonGoesToBothLoadersWithTheHeldCommandsOnce() async throws {
        let broker = try await TestBroker.shared
        try await broker.importStandardTopology()
        let queue = "console\(UInt32.random(in: 0...UInt32.max)).customer-commands"
        try await broker.perform { connection in
            try connection.declareQueue(channel: 5, name: queue, durable: true, arguments: ["x-queue-type": .string("quorum")])
            for key in ["sage.customer.#", "heartland.customer.#"] {
                try connection.bindQueue(channel: 5, queue: queue, exchange: "bridge.commands", routingKey: key)
            }
        }
        defer { Task { try? await broker.management().deleteQueue(queue) } }
        let fixture = try ConsoleFixture.make(amqpURL: broker.amqpURL, customerReviews: true)
        let store = try XCTUnwrap(fixture.console.configuration.customerReviews)
        for notice in Self.notices() { try await store.record(notice) }

        let decided = await fixture.post("/matches/heartland:C00002%7Csage:1200/same", ["authorization": "Bearer op-token"], form: ["why": "one person"])
        XCTAssertEqual(decided.status, 200, decided.text)
        var got: [Delivery] = []
        try await eventually("the decision and the held commands reach the loaders' bindings") {
            got += try await broker.perform { connection in
                var taken: [Delivery] = []
                while let delivery = try connection.get(channel: 5, queue: queue, generation: 0) {
                    try connection.ack(channel: 5, deliveryTag: delivery.deliveryTag)
                    taken.append(delivery)
                }
                return taken
            }
            return got.count >= 4
        }
        XCTAssertEqual(got.map(\.routingKey).sorted(),
                       ["heartland.customer.decision", "heartland.customer.upsert", "sage.customer.decision", "sage.customer.upsert"])
        let decision = try JSONDecoder().decode(CustomerMatchDecision.self, from: Data(try XCTUnwrap(got.first { $0.routingKey == "sage.customer.decision" }).body))
        XCTAssertEqual(decision.verdict, .same)
        XCTAssertEqual(decision.pairs, [.init(heartland: "C00002", sage: "1200")])
        XCTAssertEqual(decision.by, "token:ci-operator")
        let released = try XCTUnwrap(got.first { $0.routingKey == "sage.customer.upsert" })
        XCTAssertEqual(String(decoding: released.body, as: UTF8.self), #"{"record":"bob"}"#, "the held command as it was")
        XCTAssertEqual(released.properties.headers[Header.idempotencyKey]?.stringValue, "heartland:customer:2:v1")
        XCTAssertNotNil(released.properties.headers[CustomerMatchDecision.header]?.stringValue, "the decision travels with it")

        let item = try await store.item("heartland:C00002|sage:1200")
        XCTAssertEqual(item.status, "decided")
        XCTAssertEqual(item.decidedBy, "token:ci-operator")
        let trail = try await fixture.operations.auditTrail()
        XCTAssertTrue(trail.contains { $0.event == "customer_match_same" && $0.actor == "token:ci-operator" && $0.detail.contains("Heartland C00002 and Sage 1200") },
                      "\(trail.map(\.event))")
        let again = await fixture.post("/matches/heartland:C00002%7Csage:1200/different", ["authorization": "Bearer op-token"])
        XCTAssertEqual(again.status, 409, again.text)
    }
}
