import AMQP
import Foundation
import Messaging
import TestPrograms
import XCTest

/// The stage runner against a real broker, with real worker processes (bridge-relay).
final class StageRunnerTests: XCTestCase {
    func testMessageCrossesTwoStagesWithCorrelationAndIdempotencyKeyIntact() async throws {
        let p = try await TestPipeline.make(stages: ["a", "b"])
        let a = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b")])
        let b = try p.relay("b", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out"])
        let session = try await p.broker.session()
        try await session.publish([p.message("{\"batch\":1}", key: p.stage("a"), idempotencyKey: "heartland:batch:1", correlationID: "corr-42")])
        await session.close()
        try await eventually("message reaches the end of the pipeline") { try await p.depth("\(p.prefix).out") == 1 }
        let out = try await p.take("\(p.prefix).out")
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].properties.correlationID, "corr-42")
        XCTAssertEqual(header(out[0], Header.idempotencyKey)?.stringValue, "heartland:batch:1")
        XCTAssertEqual(String(decoding: out[0].body, as: UTF8.self), "{\"batch\":1}")
        XCTAssertTrue(out[0].properties.persistent)
        _ = (a, b)
    }

    func testTransientFailureClimbsTheDelayTiersThenSucceeds() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out", "--fail-until-attempt", "3"])
        try await p.publish(count: 1, to: "a")
        try await eventually("message succeeds on its third attempt") { try await p.depth("\(p.prefix).out") == 1 }
        let out = try await p.take("\(p.prefix).out")
        XCTAssertEqual(header(out[0], "x-handled-attempt")?.intValue, 3, "attempt header increased through two tiers")
        let parked = try await p.depth(p.stage("a") + ".dlq")
        XCTAssertEqual(parked, 0)
        let alerts = try await p.depth("\(p.prefix).alerts.all")
        XCTAssertEqual(alerts, 0, "no alert for a retry that succeeded")
        _ = worker
    }

    /// Results the broker refuses (basic.nack: here a full queue with `reject-publish`; on a cluster, a quorum queue
    /// between leaders) go out again on a new connection until they are taken; the inputs are held meanwhile, not
    /// retried and not parked. (compose-test's cluster day parked 51 transformer inputs when every result was refused
    /// while the leader node was down.)
    func testResultsTheBrokerRefusesAreRepublishedNotRetriedOrParked() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let full = "\(p.prefix).full"
        let control = try await p.broker.session("full-control")
        try await control.perform { connection in
            try connection.declareQueue(channel: AMQPSession.controlChannel, name: full, arguments: [
                "x-max-length": .int(1), "x-overflow": .string("reject-publish")])
            try connection.bindQueue(channel: AMQPSession.controlChannel, queue: full, exchange: p.exchange, routingKey: full)
        }
        try await control.publish([p.message("{\"filler\":1}", key: full, idempotencyKey: "\(p.prefix):filler")])
        // One input at a time: a batch is offered again whole, and a queue with room for one would take its first
        // message every time (a cluster's refusals are all-or-nothing: no leader, no message).
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", full, "--prefetch", "1", "--batch", "1"])
        try await p.publish(count: 3, to: "a")
        try await eventually("the results refused, and refused again on a new connection") {
            let log = worker.log
            return log.contains("broker refused the results") && log.contains("broker refused a publish; republishing on a new session")
        }
        var results: [Delivery] = []
        try await eventually(timeout: .seconds(120), "the three results taken from the full queue, one at a time") {
            results += try await p.take(full, max: 1)
            return Set(results.compactMap { header($0, Header.idempotencyKey)?.stringValue }).isSuperset(of: (0..<3).map { "\(p.prefix):\($0)" })
        }
        XCTAssertEqual(results.compactMap { header($0, "x-handled-attempt")?.intValue }.filter { $0 > 1 }, [],
                       "no result came from a retry: the inputs were held, not failed")
        let parked = try await p.depth(p.stage("a") + ".dlq")
        XCTAssertEqual(parked, 0, "nothing parked")
        try await eventually("the inputs acknowledged") { try await p.depth(p.stage("a")) == 0 }
        try await control.perform { try $0.deleteQueue(channel: AMQPSession.controlChannel, name: full) }
        await control.close()
        _ = worker
    }

    /// The tier watchdog pokes a tier that holds a message (rabbitmq-server#10718: a quorum tier may not expire on its own);
    /// the pokes expire at once and come back to the stage, which acknowledges them without handling them; the waiting
    /// message stays in its tier until its time.
    func testTierWatchdogPokesAreNeverHandledAndLeaveWaitingMessagesInTheirTier() async throws {
        let p = try await TestPipeline.make(stages: ["a"], retryDelays: [.seconds(600)])
        let tier = RetryTier(stage: p.stage("a"), delay: .seconds(600)).queue
        var waiting = p.message("{\"n\":1}", key: p.stage("a"), idempotencyKey: "\(p.prefix):waiting")
        waiting.exchange = ""
        waiting.routingKey = tier
        let session = try await p.broker.session()
        try await session.publish([waiting])
        await session.close()
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out"])
        // An observation window of three watchdog rounds (5 s each): what must not happen is checked at its end.
        let windowEnds = Date().addingTimeInterval(16)
        try await eventually(timeout: .seconds(60), "three watchdog rounds") { Date() > windowEnds }
        let inTier = try await p.depth(tier), forwarded = try await p.depth("\(p.prefix).out"), parked = try await p.depth(p.stage("a") + ".dlq")
        let inStage = try await p.depth(p.stage("a"))
        XCTAssertEqual(inTier, 1, "the waiting message is still in its tier")
        XCTAssertEqual(forwarded, 0, "no poke was handled as a message")
        XCTAssertEqual(parked, 0)
        XCTAssertEqual(inStage, 0, "every poke that came back was acknowledged")
        _ = worker
    }

    func testPermanentFailureIsParkedAtOnceWithItsReasonAndAlerted() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out", "--permanent-if-body-contains", "POISON"])
        try await p.publish(count: 1, to: "a") { _ in "{\"card\":\"4111 1111 1111 1111\",\"x\":\"POISON\"}" }
        try await eventually("message parked") { try await p.depth(p.stage("a") + ".dlq") == 1 }
        let parked = try await p.take(p.stage("a") + ".dlq")[0]
        XCTAssertEqual(header(parked, Header.errorClass)?.stringValue, "permanent")
        XCTAssertEqual(header(parked, Header.attempt)?.intValue, 1, "no retry before parking")
        XCTAssertEqual(header(parked, Header.failedStage)?.stringValue, p.stage("a"))
        XCTAssertEqual(header(parked, Header.lastError)?.stringValue, "body contains 'POISON'")
        XCTAssertNotNil(header(parked, Header.firstFailedAt)?.stringValue)
        XCTAssertEqual(header(parked, Header.idempotencyKey)?.stringValue, "\(p.prefix):0")
        try await eventually("alert published") { try await p.depth("\(p.prefix).alerts.all") == 1 }
        let alert = try JSONDecoder().decode(AlertNotice.self, from: Data(try await p.take("\(p.prefix).alerts.all")[0].body))
        XCTAssertEqual(alert.kind, "dead_lettered")
        XCTAssertEqual(alert.errorClass, "permanent")
        XCTAssertEqual(alert.idempotencyKey, "\(p.prefix):0")
        // The failure's log line carries the message's metadata, which the runner sets on the handler's logger.
        try await eventually("the failure is logged with the message's metadata") {
            guard let line = worker.log.split(separator: "\n").first(where: { $0.contains("handler failed") }) else { return false }
            return ["attempt=1", "idempotency_key=\(p.prefix):0", "message_id=", "correlation_id=", "error_class=permanent"].allSatisfy { line.contains($0) }
        }
    }

    func testExhaustedRetriesAreParkedAndAlerted() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out", "--fail-until-attempt", "99",
                                       "--breaker-threshold", "100"])
        try await p.publish(count: 1, to: "a")
        try await eventually("message parked after the last tier") { try await p.depth(p.stage("a") + ".dlq") == 1 }
        let parked = try await p.take(p.stage("a") + ".dlq")[0]
        XCTAssertEqual(header(parked, Header.errorClass)?.stringValue, "transient")
        // At least the first attempt plus one per tier (2 tiers), and failing for as long as the tiers last (0.9 s):
        // a short tier chosen because the failure was young can add an attempt.
        let attempts = try XCTUnwrap(header(parked, Header.attempt)?.intValue)
        XCTAssertTrue((3...5).contains(attempts), "\(attempts) attempts")
        try await eventually("alert published") { try await p.depth("\(p.prefix).alerts.all") == 1 }
        let alert = try JSONDecoder().decode(AlertNotice.self, from: Data(try await p.take("\(p.prefix).alerts.all")[0].body))
        XCTAssertTrue(alert.reason.hasPrefix("gave up after \(attempts) attempts"), alert.reason)
        let forwarded = try await p.depth("\(p.prefix).out")
        XCTAssertEqual(forwarded, 0)
        _ = worker
    }

    func testWorkerKilledMidMessageRedeliversWithExactlyOneDownstreamEffect() async throws {
        let p = try await TestPipeline.make(stages: ["a", "b"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let sink = try p.relay("b", ["--sink-db", db])
        var a = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b"), "--delay-ms", "150",
                                  "--concurrency", "1", "--batch", "1", "--prefetch", "5"])
        try await p.publish(count: 20, to: "a")
        let store = try IdempotencyStore(path: db)
        try await eventually("some messages reach the sink") { try await store.count() >= 3 }
        a.signal(SIGKILL)
        _ = try await a.waitForExit()
        let count2 = try await store.count()
        XCTAssertLessThan(count2, 20, "killed while messages were still in flight")
        a = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b")])
        try await eventually("all 20 reach the sink") { try await store.count() == 20 }
        let keys = try await store.keys()
        XCTAssertEqual(keys, (0..<20).map { "\(p.prefix):\($0)" }.sorted())
        try await eventually("queues drained") {
            let a = try await p.depth(p.stage("a")), b = try await p.depth(p.stage("b"))
            return a == 0 && b == 0
        }
        let count = try await store.count()
        XCTAssertEqual(count, 20, "each message had exactly one effect at the idempotent end")
        _ = sink
    }

    /// A connection lost in the middle of a batch: the deliveries in hand are finished, the rest are not begun (nothing of
    /// the batch can be acked on it; the broker gives them all again on the next connection). In the chaos test a loader
    /// went on for a minute through the rest of a batch of 200 on its closed connection, each against a Sage that was
    /// down, before it connected again. Here each delivery is recorded at the idempotent end as it is handled, so the
    /// ones handled twice (`duplicate skipped` once the relay is back) are those begun before the loss was seen.
    func testDeliveriesNotBegunWhenTheConnectionIsLostAreLeftToBeRedelivered() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let a = try p.relay("a", ["--sink-db", db, "--delay-ms", "300", "--concurrency", "1", "--batch", "40", "--prefetch", "40",
                                  "--log-level", "info"])
        try await p.publish(count: 40, to: "a")
        let store = try IdempotencyStore(path: db)
        try await eventually("the relay has begun its batch") { try await store.count() >= 1 }
        let management = try p.broker.management()
        var relayConnections: [String] = []
        try await eventually("the relay's connection is listed") {
            relayConnections = try await management.connections().filter { $0.clientName == p.stage("a") }.map(\.name)
            return !relayConnections.isEmpty
        }
        for name in relayConnections { try await management.closeConnection(name, reason: "test: connection lost mid-batch") }
        try await eventually("the relay saw its connection end") { a.log.contains("broker connection ended") }
        let handledBeforeTheLoss = try await store.count()
        try await eventually(timeout: .seconds(120), "all 40 recorded and acknowledged") {
            guard try await store.count() == 40 else { return false }
            return try await p.broker.holdNothing([p.stage("a")])
        }
        XCTAssertTrue(a.log.contains("the deliveries not yet begun are left to be redelivered"), a.log)
        let handledTwice = a.log.components(separatedBy: "duplicate skipped").count - 1
        // At most the one in hand when the loss was seen is handled after it (concurrency 1).
        XCTAssertLessThanOrEqual(handledTwice, handledBeforeTheLoss + 1,
                                 "handled twice: \(handledTwice); recorded when the loss was seen: \(handledBeforeTheLoss)")
        XCTAssertLessThan(handledBeforeTheLoss, 40, "the connection was closed while the batch was being handled")
        _ = a
    }

    func testGracefulShutdownFinishesAndAcksInFlightMessages() async throws {
        let p = try await TestPipeline.make(stages: ["a", "b"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let sink = try p.relay("b", ["--sink-db", db])
        let a = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b"), "--delay-ms", "100",
                                  "--concurrency", "1", "--batch", "1", "--prefetch", "50"])
        try await p.publish(count: 30, to: "a")
        let store = try IdempotencyStore(path: db)
        try await eventually("processing has started") { try await store.count() >= 1 }
        a.signal(SIGTERM)
        let status = try await a.waitForExit()
        XCTAssertEqual(status, 0, "graceful shutdown exits 0:\n\(a.log)")
        // Every prefetched message was finished and acked before exit: nothing left in the stage, none lost.
        let leftInStage = try await p.depth(p.stage("a"))
        XCTAssertEqual(leftInStage, 0)
        try await eventually("all 30 reach the sink") { try await store.count() == 30 }
        _ = sink
    }

    func testMessageThatCrashesItsWorkerEndsInDeadLetterQueueAfterDeliveryLimit() async throws {
        let p = try await TestPipeline.make(stages: ["a"], deliveryLimit: 2)
        try await p.publish(count: 1, to: "a") { _ in "{\"crash\":\"CRASH\"}" }
        var restarts = 0
        let deadline = ContinuousClock.now + .seconds(60)
        // A supervisor restarts the worker each time it dies, as Compose's restart policy would.
        while try await p.depth(p.stage("a") + ".dlq") == 0 {
            XCTAssertLessThan(ContinuousClock.now, deadline, "message never reached the dead-letter queue")
            let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out", "--crash-if-body-contains", "CRASH"])
            try await eventually("worker crashes or the message is parked") {
                if !worker.isRunning { return true }
                return try await p.depth(p.stage("a") + ".dlq") == 1
            }
            if !worker.isRunning { restarts += 1 }
            XCTAssertLessThan(restarts, 10, "the message loops instead of being dead-lettered")
        }
        XCTAssertGreaterThanOrEqual(restarts, 2)
        let parked = try await p.take(p.stage("a") + ".dlq")[0]
        let channel = DeadLetterChannel.ParkedMessage(delivery: parked)
        XCTAssertEqual(channel.deathReason, "delivery_limit")
        let leftAfterCrash = try await p.depth(p.stage("a"))
        XCTAssertEqual(leftAfterCrash, 0)
    }

    func testReplayReturnsParkedMessagesToTheirStage() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        var worker = try p.relay("a", ["--sink-db", db, "--permanent-if-body-contains", "BAD"])
        try await p.publish(count: 3, to: "a") { _ in "{\"state\":\"BAD\"}" }
        try await eventually("three parked") { try await p.depth(p.stage("a") + ".dlq") == 3 }
        worker.signal(SIGTERM)
        _ = try await worker.waitForExit()
        // Listing shows them grouped by reason and leaves them parked.
        let list = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "list", p.stage("a"), "--amqp-url", p.broker.amqpURL])
        let listStatus = try await list.waitForExit()
        XCTAssertEqual(listStatus, 0, list.log)
        XCTAssertTrue(list.log.contains("3 × permanent: body contains 'BAD'"), list.log)
        let stillParked = try await p.depth(p.stage("a") + ".dlq")
        XCTAssertEqual(stillParked, 3)
        // --where narrows the list: all three match the class and the reason, none an unrelated reason.
        for (conditions, expected) in [(["class=permanent", "reason~bad"], 3), (["reason~GL account"], 0)] {
            let filtered = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "list", p.stage("a"), "--amqp-url", p.broker.amqpURL,
                                                                                        "--json"] + conditions.flatMap { ["--where", $0] })
            let status = try await filtered.waitForExit()
            XCTAssertEqual(status, 0, filtered.log)
            let rows = try JSONSerialization.jsonObject(with: Data(filtered.log.utf8)) as? [Any]
            XCTAssertEqual(rows?.count, expected, "\(conditions): \(filtered.log)")
        }
        let unknown = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "list", p.stage("a"), "--where", "colour=red",
                                                                                   "--amqp-url", p.broker.amqpURL])
        let unknownStatus = try await unknown.waitForExit()
        XCTAssertNotEqual(unknownStatus, 0)
        XCTAssertTrue(unknown.log.contains("unknown field 'colour'"), unknown.log)
        // The cause is fixed (here: the worker no longer rejects the body); replay through the CLI.
        worker = try p.relay("a", ["--sink-db", db])
        let replay = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "replay", p.stage("a"), "--amqp-url", p.broker.amqpURL,
                                                                                  "--actor", "test"])
        let replayStatus = try await replay.waitForExit()
        XCTAssertEqual(replayStatus, 0, replay.log)
        XCTAssertTrue(replay.log.contains("replayed 3 message(s)"), replay.log)
        let store = try IdempotencyStore(path: db)
        try await eventually("replayed messages processed") { try await store.count() == 3 }
        let parkedAfterReplay = try await p.depth(p.stage("a") + ".dlq")
        XCTAssertEqual(parkedAfterReplay, 0)
        _ = worker
    }
}
