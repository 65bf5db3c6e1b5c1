import AMQP
import Alerter
import Foundation
import FraudScoring
import GRDB
import Messaging
@testable import OperationsConsole
import TestPrograms
import XCTest

/// A stage of its own on the test broker (work queue and parking lot, quorum, like the bridge's),
/// so that these tests do not touch the standard stages other tests use.
struct ConsoleTestStage {
    let broker: TestBroker
    let name: String
    var dlq: String { "\(name).dlq" }
    /// Bound to `bridge.commands` for `sage.journal.#`: what a review release sends to the loaders.
    var commands: String { "\(name).commands" }

    static func make() async throws -> ConsoleTestStage {
        let broker = try await TestBroker.shared
        try await broker.importStandardTopology()
        let stage = ConsoleTestStage(broker: broker, name: "console\(UInt32.random(in: 0...UInt32.max)).sage-loader")
        let queues = [stage.name, stage.dlq, stage.commands]
        let commands = stage.commands
        try await broker.perform { connection in
            for queue in queues {
                try connection.declareQueue(channel: 5, name: queue, durable: true, arguments: ["x-queue-type": .string("quorum")])
            }
            try connection.bindQueue(channel: 5, queue: commands, exchange: "bridge.commands", routingKey: "sage.journal.#")
        }
        return stage
    }

    func remove() async {
        guard let management = try? broker.management() else { return }
        for queue in [name, dlq, commands] { try? await management.deleteQueue(queue) }
    }

    /// Parks a message as the stage runner does after a permanent error.
    @discardableResult
    func park(reason: String, key: String) async throws -> String {
        let id = MessageID.random()
        let message = OutgoingMessage(exchange: "", routingKey: dlq, properties: MessageProperties(
            contentType: "application/json", messageID: id, correlationID: "corr-\(key)", type: "sage.journal.settlement", persistent: true,
            headers: [Header.idempotencyKey: .string(key), Header.errorClass: .string("permanent"), Header.lastError: .string(reason),
                      Header.failedStage: .string(name), Header.attempt: .int(1)]),
            body: Array("{\"card\":\"4111111111111111\",\"key\":\"\(key)\"}".utf8))
        let session = try await broker.session()
        try await session.publish([message])
        await session.close()
        return id
    }
}

/// The broker-backed pages' JSON: the pipeline overview and the dead letters, replay and purge.
final class BrokerConsoleTests: XCTestCase {
    struct Overview: Decodable {
        struct Stage: Decodable { var stage: String; var ready, unacked, consumers, retrying, deadLettered: Int }
        var stages: [Stage]
    }
    struct StageDeadLetters: Decodable {
        struct Group: Decodable { var errorClass, lastError: String; var count: Int; var messageIds: [String] }
        struct Message: Decodable { var messageId: String; var idempotencyKey: String? }
        var stage: String
        var count: Int
        var groups: [Group]
        var messages: [Message]
    }

    func testPipelineAndDeadLetterJSONReplayAndPurge() async throws {
        let stage = try await ConsoleTestStage.make()
        defer { Task { await stage.remove() } }
        let fixture = try ConsoleFixture.make(stages: [stage.name], amqpURL: stage.broker.amqpURL, managementURL: stage.broker.managementURL)
        let viewer = ["authorization": "Bearer view-token"], operatorToken = ["authorization": "Bearer op-token"]
        let first = try await stage.park(reason: "GL account 4010 does not exist", key: "k1")
        try await stage.park(reason: "GL account 4010 does not exist", key: "k2")
        let other = try await stage.park(reason: "unmapped tender GIFT", key: "k3")

        try await eventually("the overview shows the parked messages") {
            let overview = try decodeJSON(Overview.self, await fixture.get("/api/pipeline", viewer))
            return overview.stages.map(\.stage) == [stage.name] && overview.stages.first?.deadLettered == 3
        }

        let lots = try decodeJSON([StageDeadLetters].self, await fixture.get("/api/dlq", viewer))
        XCTAssertEqual(lots.first?.count, 3)
        XCTAssertEqual(lots.first?.groups.map(\.count), [2, 1], "grouped by reason, largest first")
        XCTAssertEqual(lots.first?.groups.first?.lastError, "GL account 4010 does not exist")
        let detail = await fixture.get("/api/dlq/\(stage.name)/\(first)", viewer)
        XCTAssertEqual(detail.status, 200, detail.text)
        XCTAssertFalse(detail.text.contains("4111111111111111"), "card numbers are masked")
        let parkedAfterLooking = try await stage.broker.depth(stage.dlq)
        XCTAssertEqual(parkedAfterLooking, 3, "looking does not take anything")

        let replayOne = await fixture.post("/dlq/\(stage.name)/replay", operatorToken, form: ["message_id": other])
        XCTAssertEqual(replayOne.status, 200, replayOne.text)
        XCTAssertTrue(replayOne.text.contains("replayed 1 message"), replayOne.text)
        let replayed = try await stage.broker.take(stage.name)
        XCTAssertEqual(replayed.map { $0.properties.messageID }, [other])
        XCTAssertEqual(replayed.first?.properties.headers["x-replayed-by"]?.stringValue, "token:ci-operator")

        let group = await fixture.post("/dlq/\(stage.name)/replay", operatorToken,
                                       form: ["error_class": "permanent", "last_error": "GL account 4010 does not exist"])
        XCTAssertTrue(group.text.contains("replayed 2 message"), group.text)
        let inStage = try await stage.broker.depth(stage.name), leftParked = try await stage.broker.depth(stage.dlq)
        XCTAssertEqual(inStage, 2)
        XCTAssertEqual(leftParked, 0)

        try await stage.park(reason: "something else", key: "k4")
        let refused = await fixture.post("/dlq/\(stage.name)/purge", operatorToken)
        XCTAssertEqual(refused.status, 403, "purging needs the admin role: \(refused.text)")
        let purge = await fixture.post("/dlq/\(stage.name)/purge", ["authorization": "Bearer admin-token"])
        XCTAssertTrue(purge.text.contains("purged 1 message"), purge.text)
        let afterPurge = try await stage.broker.depth(stage.dlq)
        XCTAssertEqual(afterPurge, 0)

        let unknown = await fixture.post("/dlq/not-a-stage/purge", ["authorization": "Bearer admin-token"])
        XCTAssertEqual(unknown.status, 404)
        let audit = try await fixture.actionAudit()
        XCTAssertEqual(Set(audit.map(\.event)), ["dlq_replayed", "dlq_purged"])
        XCTAssertEqual(Set(audit.map(\.actor)), ["token:ci-operator", "token:ci-admin"])
    }

    /// A queue of its own on `bridge.audit` for `routingKey`, with the standard topology in place.
    static func auditQueue(on broker: TestBroker, routingKey: String) async throws -> String {
        try await broker.importStandardTopology()
        let notices = "console\(UInt32.random(in: 0...UInt32.max)).audit"
        try await broker.perform { connection in
            try connection.declareQueue(channel: 5, name: notices, durable: true, arguments: ["x-queue-type": .string("quorum")])
            try connection.bindQueue(channel: 5, queue: notices, exchange: "bridge.audit", routingKey: routingKey)
        }
        return notices
    }

    /// An operator acknowledges a fraud exception through the review page's form: once, with who and
    /// why in the review store and the audit trail, and one notice on `bridge.audit` as bridgectl sends.
    func testFraudExceptionAcknowledgedOnceWithItsAuditNotice() async throws {
        let broker = try await TestBroker.shared
        let notices = try await Self.auditQueue(on: broker, routingKey: "audit.exception_acknowledged.console")
        defer { Task { try? await broker.management().deleteQueue(notices) } }
        let fixture = try ConsoleFixture.make(amqpURL: broker.amqpURL, managementURL: broker.managementURL)
        let exception = try await fixture.raiseException(transaction: "TRN_ACK1")
        let session = try await fixture.login("olivia", "op-secret")
        let page = await fixture.get("/reviews", ["cookie": session.cookie])
        XCTAssertTrue(page.text.contains("id=\"ack-\(exception.label)\""), page.text)

        let path = "/reviews/exceptions/\(exception.label)/acknowledge"
        let first = await fixture.post(path, ["cookie": session.cookie], form: ["csrf": session.csrf, "why": "refund already issued by the store"])
        XCTAssertEqual(first.status, 303, first.text)
        XCTAssertTrue(first.headers["Location"]?.hasPrefix("/reviews?notice=acknowledged") == true, "\(first.headers)")
        let acknowledged = try await fixture.reviews.exception(id: exception.id)
        XCTAssertEqual(acknowledged.status, .acknowledged)
        XCTAssertEqual(acknowledged.acknowledgedBy, "olivia")
        XCTAssertEqual(acknowledged.acknowledgedWhy, "refund already issued by the store")

        let trail = try await fixture.actionAudit()
        XCTAssertEqual(trail.map(\.event), ["exception_acknowledged"])
        XCTAssertEqual(trail.first?.actor, "olivia")
        XCTAssertTrue(trail.first?.detail.contains("refund already issued by the store") == true, "\(trail)")
        try await eventually("the notice reaches bridge.audit") { try await broker.depth(notices) == 1 }
        let sent = try await broker.take(notices)
        XCTAssertEqual(sent.map(\.routingKey), ["audit.exception_acknowledged.console"])
        let notice = try JSONDecoder().decode(AuditNotice.self, from: Data(try XCTUnwrap(sent.first).body))
        XCTAssertEqual(notice.event, "exception_acknowledged")
        XCTAssertEqual(notice.actor, "olivia")
        XCTAssertEqual(notice.idempotencyKey, exception.key)

        let second = await fixture.post(path, ["cookie": session.cookie], form: ["csrf": session.csrf, "why": "again"])
        XCTAssertEqual(second.status, 409, second.text)
        let scripted = await fixture.post(path, ["authorization": "Bearer op-token"], form: ["why": "again"])
        XCTAssertEqual(scripted.status, 409, scripted.text)
        XCTAssertTrue(scripted.text.contains("already acknowledged by olivia"), scripted.text)
        let stored = try await fixture.reviews.exception(id: exception.id)
        XCTAssertEqual(stored.acknowledgedWhy, "refund already issued by the store")
        let auditTrail = try await fixture.actionAudit()
        XCTAssertEqual(auditTrail.count, 1, "a refused acknowledgement has no outcome in the trail (only its request)")
        let after = try await broker.depth(notices)
        XCTAssertEqual(after, 0, "no second notice")
        let list = await fixture.get("/reviews", ["cookie": session.cookie])
        XCTAssertFalse(list.text.contains("id=\"ack-\(exception.label)\""), "no longer offered")
    }
    /// The console's record of an action's outcome is not lost when the operations store refuses it: the notice still
    /// goes to `bridge.audit` (where the alerter records it when it can), instead of neither.
    func testAnOutcomeTheTrailRefusesStillGoesToBridgeAudit() async throws {
        let broker = try await TestBroker.shared
        let notices = try await Self.auditQueue(on: broker, routingKey: "audit.alert_acknowledged.console")
        defer { Task { try? await broker.management().deleteQueue(notices) } }
        let fixture = try ConsoleFixture.make(amqpURL: broker.amqpURL, managementURL: broker.managementURL)
        let group = try await fixture.recordAlert()
        // The request is recorded (the action may go ahead); its outcome is refused.
        let database = try DatabaseQueue(path: fixture.folder.appendingPathComponent("operations.sqlite").path)
        try await database.write { db in
            try db.execute(sql: """
                CREATE TRIGGER outcome_refused BEFORE INSERT ON audit_event WHEN NEW.event = 'alert_acknowledged'
                BEGIN SELECT RAISE(FAIL, 'disk full'); END
                """)
        }
        let response = await fixture.post("/alerts/acknowledge", ["authorization": "Bearer op-token"], form: ["fingerprint": group.fingerprint])
        XCTAssertEqual(response.status, 200, response.text)
        let trail = try await fixture.actionAudit()
        XCTAssertEqual(trail.map(\.event), [], "the store refused the outcome")
        try await eventually("the notice reaches bridge.audit") { try await broker.depth(notices) == 1 }
        let sent = try await broker.take(notices)
        let notice = try JSONDecoder().decode(AuditNotice.self, from: Data(try XCTUnwrap(sent.first).body))
        XCTAssertEqual(notice.event, "alert_acknowledged")
        XCTAssertTrue(notice.actor?.contains("ci-operator") == true, "\(String(describing: notice.actor))")
    }
}
