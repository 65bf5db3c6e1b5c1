import AMQP
import Alerter
import BrokerAdmin
import Foundation
import Messaging
import TestPrograms
import XCTest

/// Parked messages are not kept for ever (docs/SECURITY.md, "Parked-message retention"), and none leaves
/// without a trace: the broker expires it out of `S.dlq` by policy, dead-letters it to the expired exchange,
/// and the alerter records which message left, without its body.
final class ParkedRetentionTests: XCTestCase {
    func testAParkedMessageExpiresAndTheAlerterRecordsItWithoutItsBody() async throws {
        let p = try await TestPipeline.make(stages: ["a"], parkedRetention: .seconds(2))
        let expiredCopies = "\(p.prefix).expired.all"
        let session = try await p.broker.session("retention")
        try await session.perform { connection in
            _ = try connection.declareQueue(channel: 3, name: expiredCopies, durable: true, autoDelete: false,
                                            arguments: ["x-queue-type": .string("quorum")])
            try connection.bindQueue(channel: 3, queue: expiredCopies, exchange: p.expired, routingKey: "#", arguments: [:])
        }
        // Parked the way the stage runner parks: on the dead-letter exchange, under the stage's name.
        let key = "\(p.prefix):parked"
        let parked = OutgoingMessage(exchange: p.dead, routingKey: p.stage("a"), properties: MessageProperties(
            messageID: "parked-\(p.prefix)", correlationID: "corr-\(p.prefix)", type: "heartland.customers.page",
            headers: [Header.idempotencyKey: .string(key), Header.failedStage: .string(p.stage("a")),
                      Header.firstFailedAt: .string("2026-11-27T10:00:00Z"), Header.errorClass: .string("permanent")]),
            body: Array(#"{"first_name":"Ann","last_name":"Smith","email":"ann.smith@example.com"}"#.utf8))
        try await session.publish([parked])
        await session.close()

        try await eventually("the parked message expires out of \(p.stage("a")).dlq") { try await p.depth(expiredCopies) == 1 }
        let dlqDepth = try await p.depth("\(p.stage("a")).dlq")
        XCTAssertEqual(dlqDepth, 0)
        let taken = try await p.take(expiredCopies)
        let delivery = try XCTUnwrap(taken.first)
        let copy = DeadLetterChannel.ParkedMessage(delivery: delivery)
        XCTAssertEqual(copy.expiredFromParkingLot, "\(p.stage("a")).dlq", "expired by the policy, out of the parking lot")
        XCTAssertEqual(delivery.routingKey, p.stage("a"))

        let store = try OperationsStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("ops-\(p.prefix).sqlite").path)
        _ = try await AlerterHandler(store: store, webhook: nil).handle(InboundMessage(delivery), logger: p.broker.logger)
        let trail = try await store.auditTrail()
        XCTAssertEqual(trail.count, 1)
        let entry = try XCTUnwrap(trail.first)
        XCTAssertEqual(entry.event, "parked_expired")
        XCTAssertEqual(entry.stage, p.stage("a"))
        XCTAssertEqual(entry.idempotencyKey, key)
        XCTAssertTrue(entry.detail.contains("parked-\(p.prefix)") && entry.detail.contains("heartland.customers.page"), entry.detail)
        XCTAssertTrue(entry.detail.contains("since it first failed"), entry.detail)
        XCTAssertFalse(entry.detail.contains("Smith") || entry.detail.contains("example.com"), "the body is not recorded: \(entry.detail)")
        let alerts = try await store.alertGroups()
        XCTAssertEqual(alerts.count, 0, "an expiry is recorded, not raised as a new dead letter")
    }

    /// `bridgectl topology apply` takes the retention from $BRIDGE_PARKED_RETENTION_SECONDS, else the file's 30 days.
    func testTheRetentionIsSetWhereTheTopologyIsApplied() async throws {
        let broker = try await TestBroker.shared
        let file = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        let bridgectl = WorkerProcess.binDirectory().appendingPathComponent("bridgectl")
        func retentionOnBroker() async throws -> JSONValue? {
            try await broker.management().definitions().policies.first { $0.name == "bridge-parked-messages" }?.definition["message-ttl"]
        }
        let configured = try await ChildProcess.run(bridgectl, ["topology", "apply", "--topology", file, "--management-url", broker.managementURL],
                                                    environment: [Topology.parkedRetentionVariable: "3600"])
        XCTAssertEqual(configured.status, 0, configured.output + configured.error)
        XCTAssertTrue(configured.output.contains("parked messages (S.dlq) are kept 3600 s"), configured.output)
        let configuredRetention = try await retentionOnBroker()
        XCTAssertEqual(configuredRetention, .int(3_600_000))

        let standard = try await ChildProcess.run(bridgectl, ["topology", "apply", "--topology", file, "--management-url", broker.managementURL],
                                                  unsetting: [Topology.parkedRetentionVariable])
        XCTAssertEqual(standard.status, 0, standard.output + standard.error)
        let standardRetention = try await retentionOnBroker()
        XCTAssertEqual(standardRetention, .int(30 * 24 * 3600 * 1000))
        let policy = try await broker.management().definitions().policies.first { $0.name == "bridge-parked-messages" }
        XCTAssertEqual(policy?.pattern, #"^(transformer|fraud-scorer|sage-loader|heartland-loader|alerter)\.dlq$"#)
        XCTAssertEqual(policy?.definition["dead-letter-exchange"], .string("bridge.expired"))
    }
}
