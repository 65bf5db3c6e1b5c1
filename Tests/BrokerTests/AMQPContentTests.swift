import AMQP
import Foundation
import Messaging
import TestPrograms
import XCTest

/// A message's content is read frame by frame into its body (the library's buffers released after each frame, so a large
/// message is held once, not three times): messages of every size against the frame size arrive whole, and what arrives
/// on the connection's other channels meanwhile (a basic.get's message, deliveries, a returned message) is neither lost
/// nor mixed into it.
final class AMQPContentTests: XCTestCase {
    /// Bytes that differ by position and message, so that a short, shifted or mixed-up body shows.
    static func body(_ size: Int, seed: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ $0 >> 9) } }

    func testMessagesOfEverySizeArriveWholeWhileAGetAndAReturnInterleaveOnTheSameConnection() async throws {
        let p = try await TestPipeline.make(stages: ["big", "side"])
        // A frame carries 131,064 bytes of content at the negotiated frame size of 131,072.
        let sizes = [0, 1, 131_063, 131_064, 131_065, 262_128, 262_129, 3_000_000, 20_000_000]
        func message(_ index: Int, size: Int, stage: String) -> OutgoingMessage {
            var message = p.message("", key: p.stage(stage), idempotencyKey: "\(p.prefix):\(stage):\(index)")
            message.properties.messageID = "\(stage)-\(index)"
            message.body = Self.body(size, seed: index + (stage == "side" ? 100 : 0))
            return message
        }
        let publisher = try await p.broker.session("publisher")
        try await publisher.publish(sizes.enumerated().map { message($0.offset, size: $0.element, stage: "big") })
        try await publisher.publish((0..<3).map { message($0, size: 2_000_000 + $0, stage: "side") })

        let consumer = try await p.broker.session("consumer")
        let deliveries = try await consumer.consume(queue: p.stage("big"), prefetch: 20, consumerTag: "content-\(p.prefix)")
        // basic.get on the same connection while the deliveries' frames arrive: the two contents interleave on the socket.
        let side = p.stage("side")
        let got = try await consumer.perform { connection in
            try (0..<3).compactMap { _ in try connection.get(channel: AMQPSession.controlChannel, queue: side, generation: 0) }
        }
        XCTAssertEqual(got.map(\.properties.messageID), ["side-0", "side-1", "side-2"])
        for (index, delivery) in got.enumerated() {
            XCTAssertTrue(delivery.body == Self.body(2_000_000 + index, seed: index + 100), "side-\(index) whole")
        }
        // A returned message (unroutable, mandatory) of 1 MB, read while deliveries may still arrive: the publish fails with it.
        var unroutable = message(99, size: 1_000_000, stage: "big")
        unroutable.routingKey = "\(p.prefix).nowhere"
        do {
            try await consumer.publish([unroutable])
            XCTFail("an unroutable mandatory message was confirmed")
        } catch let error as AMQPError {
            guard case .unroutable(_, _, let id) = error else { return XCTFail("expected unroutable, got \(error)") }
            XCTAssertEqual(id, "big-99")
        }

        var received: [Delivery] = []
        while received.count < sizes.count, let delivery = await deliveries.next() { received.append(delivery) }
        XCTAssertEqual(received.map(\.properties.messageID), sizes.indices.map { "big-\($0)" })
        for (index, delivery) in received.enumerated() {
            XCTAssertEqual(delivery.body.count, sizes[index])
            XCTAssertTrue(delivery.body == Self.body(sizes[index], seed: index), "big-\(index) (\(sizes[index]) bytes) whole")
            XCTAssertEqual(delivery.routingKey, p.stage("big"))
        }
        // The connection goes on: one more message arrives.
        try await publisher.publish([message(100, size: 10, stage: "big")])
        let last = await deliveries.next()
        XCTAssertEqual(last?.properties.messageID, "big-100")
        await consumer.close()
        await publisher.close()
    }
}

/// A delivery of `aloneAtBytes` or more is taken alone: the consumer pauses while it is in hand, so the queue's next
/// messages wait in the broker, not in the worker's memory (issue 21: a second 98 MB batch event was delivered beside the
/// first, since RabbitMQ's prefetch counts messages). Once it is settled the consumer takes the rest; stopping while
/// paused ends the deliveries and loses nothing.
final class LargeDeliveryAloneTests: XCTestCase {
    /// A message to `queue` with the given id and body.
    static func message(_ p: TestPipeline, _ queue: String, _ name: String, _ body: [UInt8]) -> OutgoingMessage {
        var message = p.message("", key: queue, idempotencyKey: "\(p.prefix):\(name)")
        message.properties.messageID = name
        message.body = body
        return message
    }

    /// An empty spill folder of this test's own, removed after it.
    func spillFolder(_ p: TestPipeline) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-spill")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    /// Messages m-0, m-1, … with `bodies` queued before a consumer starts on `queue` (prefetch 20): the two sessions, the
    /// consumer's deliveries, and the first `bodies.count` of them.
    static func queuedThenConsumed(_ p: TestPipeline, _ queue: String, _ bodies: [[UInt8]], aloneAtBytes: Int, spillDirectory: String?)
        async throws -> (publisher: AMQPSession, consumer: AMQPSession, deliveries: DeliveryQueue, received: [Delivery]) {
        let publisher = try await p.broker.session("publisher")
        try await publisher.publish(bodies.enumerated().map { message(p, queue, "m-\($0.offset)", $0.element) })
        let consumer = try await p.broker.session("consumer")
        let deliveries = try await consumer.consume(queue: queue, prefetch: 20, consumerTag: "\(queue)-consumer", aloneAtBytes: aloneAtBytes,
                                                    spillDirectory: spillDirectory)
        var received: [Delivery] = []
        while received.count < bodies.count, let delivery = await deliveries.next() { received.append(delivery) }
        return (publisher, consumer, deliveries, received)
    }

    func testTheNextMessagesWaitInTheQueueWhileALargeDeliveryIsInHand() async throws {
        let p = try await TestPipeline.make(stages: ["alone"])
        let queue = p.stage("alone")
        func message(_ name: String, size: Int) -> OutgoingMessage { Self.message(p, queue, name, [UInt8](repeating: 7, count: size)) }
        let publisher = try await p.broker.session("publisher")
        try await publisher.publish([message("large-0", size: 600_000)])
        let consumer = try await p.broker.session("consumer")
        let deliveries = try await consumer.consume(queue: queue, prefetch: 20, consumerTag: "alone-\(p.prefix)", aloneAtBytes: 500_000)
        let large = await deliveries.next()
        XCTAssertEqual(large?.properties.messageID, "large-0")
        try await eventually("the consumer pauses") { consumer.consumerPaused }

        // A quorum queue hands a message to a consumer with room as it takes it: confirmed and still ready means not sent.
        try await publisher.publish(["small-0", "small-1", "small-2"].map { message($0, size: 100) } + [message("large-1", size: 500_000)])
        let waiting = try await p.broker.depth(queue)
        XCTAssertEqual(waiting, 4, "published after the pause, all four wait in the queue")
        XCTAssertTrue(deliveries.drain(max: 10).isEmpty, "nothing more was delivered")

        consumer.ack(try XCTUnwrap(large))
        var received: [Delivery] = []
        while received.count < 4, let delivery = await deliveries.next() { received.append(delivery) }
        XCTAssertEqual(received.map(\.properties.messageID), ["small-0", "small-1", "small-2", "large-1"], "taken once it was settled")
        // large-1 is in hand now: paused again, and the next message waits.
        try await eventually("the consumer pauses for the second large delivery") { consumer.consumerPaused }
        try await publisher.publish([message("small-3", size: 100)])
        let second = try await p.broker.depth(queue)
        XCTAssertEqual(second, 1)
        XCTAssertTrue(deliveries.drain(max: 10).isEmpty)

        // The small ones settled by one multiple ack that leaves the large one in hand: still paused.
        consumer.ack(received[2], multiple: true)
        try await publisher.publish([message("small-4", size: 100)])
        let third = try await p.broker.depth(queue)
        XCTAssertEqual(third, 2, "still paused")
        // Stopping while paused: the deliveries end at once; the large one is given back, small-3 stays queued.
        await consumer.cancelConsumer()
        let after = await deliveries.next()
        XCTAssertNil(after, "the deliveries end")
        XCTAssertFalse(consumer.consumerPaused)
        consumer.nack(received[3], requeue: true)
        try await eventually("large-1 back in the queue beside small-3 and small-4") { try await p.broker.depth(queue) == 3 }
        try await publisher.publish([message("small-5", size: 100)])
        let final = try await p.broker.depth(queue)
        XCTAssertEqual(final, 4, "not consuming again after the stop")
        await consumer.close()
        await publisher.close()
    }

    /// A consumer that starts on a queue already holding large messages is sent as many as the prefetch allows before its
    /// cancel reaches the broker (a quorum queue hands out every ready message it has credit for at once). The first is
    /// kept in memory; each later large one is written to a file as it arrives and read back whole, so one large body at a
    /// time is in memory. The files are unlinked at once: the folder stays empty.
    func testLargeDeliveriesSentBeforeThePauseWaitInFilesAndComeBackWhole() async throws {
        let p = try await TestPipeline.make(stages: ["held"])
        let queue = p.stage("held")
        let folder = try spillFolder(p)
        let sizes = [600_000, 100, 700_000, 500_000, 131_064 * 5 + 1]
        let bodies = sizes.enumerated().map { AMQPContentTests.body($0.element, seed: $0.offset) }
        let (publisher, consumer, deliveries, received) = try await Self.queuedThenConsumed(p, queue, bodies, aloneAtBytes: 500_000,
                                                                                            spillDirectory: folder.path)
        XCTAssertEqual(received.map(\.properties.messageID), ["m-0", "m-1", "m-2", "m-3", "m-4"], "all sent before the pause took effect")
        try await eventually("the consumer pauses (its cancel-ok arrives)") { consumer.consumerPaused }
        XCTAssertEqual(received.map(\.size), sizes)
        XCTAssertNil(received[0].spilledBody, "the first large one is in memory")
        XCTAssertEqual(received[0].body, bodies[0])
        XCTAssertNil(received[1].spilledBody, "a small one is in memory")
        XCTAssertEqual(received[1].body, bodies[1])
        for index in 2..<sizes.count {
            XCTAssertNotNil(received[index].spilledBody, "m-\(index) waits in a file")
            XCTAssertTrue(received[index].body.isEmpty)
            XCTAssertEqual(try received[index].loadingSpilledBody().body, bodies[index], "m-\(index) comes back whole")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(files, [], "no file is left behind")

        // Paused until every large one is settled; then, with none in hand, the next large one is in memory again.
        consumer.ack(received[3], multiple: true)
        try await publisher.publish([Self.message(p, queue, "late", bodies[2])])
        let waiting = try await p.broker.depth(queue)
        XCTAssertEqual(waiting, 1, "still paused: m-4 is in hand")
        consumer.ack(received[4])
        let late = await deliveries.next()
        XCTAssertEqual(late?.properties.messageID, "late")
        XCTAssertNil(late?.spilledBody, "nothing else in hand: in memory")
        XCTAssertEqual(late?.body, bodies[2])
        await consumer.cancelConsumer()
        await consumer.close()
        await publisher.close()
    }

    /// Middling messages (each under the budget, none large: no pause) queued before the consumer starts: bodies are kept in
    /// memory up to the budget, the rest wait in files; a small one is always in memory; once those in memory are settled,
    /// the next one is in memory again.
    func testMiddlingDeliveriesBeyondTheBudgetWaitInFiles() async throws {
        let p = try await TestPipeline.make(stages: ["middling"])
        let queue = p.stage("middling")
        let folder = try spillFolder(p)
        let sizes = [200_000, 200_000, 200_000, 100, 200_000, 65_535, 300_000]
        let bodies = sizes.enumerated().map { AMQPContentTests.body($0.element, seed: $0.offset) }
        let (publisher, consumer, deliveries, received) = try await Self.queuedThenConsumed(p, queue, bodies, aloneAtBytes: 500_000,
                                                                                            spillDirectory: folder.path)
        XCTAssertFalse(consumer.consumerPaused, "none is large")
        XCTAssertEqual(received.map(\.size), sizes)
        // 200,000 + 200,000 in memory; the third would make 600,000 > 500,000; 100 bytes and 65,535 are under 64 KiB.
        XCTAssertEqual(received.map { $0.spilledBody != nil }, [false, false, true, false, true, false, true])
        for (delivery, body) in zip(received, bodies) {
            XCTAssertEqual(try delivery.loadingSpilledBody().body, body, "\(delivery.properties.messageID ?? "") whole")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
        consumer.ack(received[received.count - 1], multiple: true)
        try await publisher.publish([Self.message(p, queue, "late", bodies[0])])
        let late = await deliveries.next()
        XCTAssertEqual(late?.properties.messageID, "late")
        XCTAssertNil(late?.spilledBody, "nothing in hand: in memory")
        await consumer.cancelConsumer()
        await consumer.close()
        await publisher.close()
    }

    /// Paused and resumed while the broker is still sending the prefetch: a large delivery first, then hundreds of small
    /// ones, four times over. Every one arrives once and the connection holds. With the same consumer tag on each resume,
    /// RabbitMQ 3.10's quorum queue took the next deliveries as out of sequence and crashed the channel (INTERNAL_ERROR,
    /// rabbitmq-server#5927), as `scripts/compose-test`'s backlog day found: each resume now consumes with a new tag.
    func testResumingWhileDeliveriesAreInFlightKeepsTheConnectionAndLosesNone() async throws {
        let p = try await TestPipeline.make(stages: ["resume"])
        let queue = p.stage("resume")
        let publisher = try await p.broker.session("publisher")
        var names: [String] = []
        for round in 0..<4 {
            var batch = [Self.message(p, queue, "large-\(round)", [UInt8](repeating: 1, count: 600_000))]
            batch += (0..<300).map { Self.message(p, queue, "small-\(round)-\($0)", [UInt8](repeating: 2, count: 100)) }
            names += batch.map { $0.properties.messageID ?? "" }
            try await publisher.publish(batch)
        }
        let consumer = try await p.broker.session("consumer")
        let deliveries = try await consumer.consume(queue: queue, prefetch: 200, consumerTag: "resume-\(p.prefix)", aloneAtBytes: 500_000)
        var received: [String] = []
        while received.count < names.count, let delivery = await deliveries.next() {
            received.append(delivery.properties.messageID ?? "")
            consumer.ack(delivery)
        }
        XCTAssertEqual(received.count, names.count, "the deliveries ended early: the connection was lost")
        XCTAssertEqual(Set(names).subtracting(received).count, 0, "messages that never arrived")
        XCTAssertEqual(received.count, Set(received).count, "none twice")
        let left = try await p.broker.depth(queue)
        XCTAssertEqual(left, 0)
        await consumer.cancelConsumer()
        await consumer.close()
        await publisher.close()
    }

    /// A file that fails part-way (here the process's file size limit, as a full disk would): the body goes on in memory,
    /// whole, and from then on counts against the budget, so the next delivery beyond it waits in a file.
    func testADeliveryWhoseFileFailsPartWayIsKeptWholeInMemoryAndCounted() async throws {
        let p = try await TestPipeline.make(stages: ["partway"])
        let queue = p.stage("partway")
        let folder = try spillFolder(p)
        let sizes = [600_000, 700_000, 100_000]
        let bodies = sizes.enumerated().map { AMQPContentTests.body($0.element, seed: $0.offset) }
        // Files of this process may not grow beyond 300,000 bytes while the deliveries arrive: a write past it fails with
        // EFBIG (SIGXFSZ ignored). The broker is another process; nothing else in this one writes a file meanwhile.
        var previous = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &previous)
        var limited = rlimit(rlim_cur: 300_000, rlim_max: previous.rlim_max)
        let handler = signal(SIGXFSZ, SIG_IGN)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limited), 0)
        let queued: (publisher: AMQPSession, consumer: AMQPSession, deliveries: DeliveryQueue, received: [Delivery])
        do {
            defer {
                setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &previous)
                signal(SIGXFSZ, handler)
            }
            queued = try await Self.queuedThenConsumed(p, queue, bodies, aloneAtBytes: 1_000_000, spillDirectory: folder.path)
        }
        let (publisher, consumer, received) = (queued.publisher, queued.consumer, queued.received)
        XCTAssertEqual(received.map(\.size), sizes)
        // m-0 in memory; m-1 would take 1,300,000 beyond the budget: to a file, which failed at 300,000, so in memory;
        // m-2 then finds 1,300,000 in memory and waits in a file (100,000 bytes: within the limit).
        XCTAssertEqual(received.map { $0.spilledBody != nil }, [false, false, true])
        for (delivery, body) in zip(received, bodies) {
            XCTAssertEqual(try delivery.loadingSpilledBody().body, body, "\(delivery.properties.messageID ?? "") whole")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
        consumer.ack(received[received.count - 1], multiple: true)
        await consumer.cancelConsumer()
        await consumer.close()
        await publisher.close()
    }

    /// Without a folder it can write to, a large delivery that would wait in a file waits in memory, whole.
    func testALargeDeliveryWhoseFileCannotBeMadeIsKeptInMemory() async throws {
        let p = try await TestPipeline.make(stages: ["nofile"])
        let queue = p.stage("nofile")
        let bodies = [AMQPContentTests.body(600_000, seed: 1), AMQPContentTests.body(600_000, seed: 2)]
        let (publisher, consumer, _, received) = try await Self.queuedThenConsumed(p, queue, bodies, aloneAtBytes: 500_000,
                                                                                   spillDirectory: "/nonexistent/\(p.prefix)")
        XCTAssertEqual(received.map(\.body), bodies)
        XCTAssertEqual(received.compactMap(\.spilledBody).count, 0)
        consumer.ack(received[1], multiple: true)
        await consumer.cancelConsumer()
        await consumer.close()
        await publisher.close()
    }

    /// A relay started on a backlog of messages each at its batch byte budget: every one reaches the sink once, those sent
    /// beside the one in hand waited in files, and no file is left.
    func testARunnerStartingOnABacklogOfLargeMessagesHoldsThemInFilesAndLosesNone() async throws {
        let p = try await TestPipeline.make(stages: ["a", "b"])
        let folder = try spillFolder(p)
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let session = try await p.broker.session("publisher")
        // Each at least 64 KiB (`AMQPConnection.holdableBytes`: smaller bodies are always kept in memory) and at least the
        // budget.
        try await session.publish((0..<8).map { index in
            p.message("{\"n\":\(index),\"padding\":\"" + String(repeating: "x", count: 70_000 + index) + "\"}", key: p.stage("a"),
                      idempotencyKey: "\(p.prefix):\(index)")
        })
        await session.close()
        let sink = try p.relay("b", ["--sink-db", db])
        let port = Int.random(in: 20_000...32_000)  // below Linux's ephemeral ports (32768–60999), which outgoing connections take
        let a = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b"), "--max-batch-bytes", "65536", "--prefetch", "50",
                                  "--spill-dir", folder.path, "--log-level", "info"], httpPort: port)
        let store = try IdempotencyStore(path: db)
        try await eventually("all eight reach the sink") { try await store.count() == 8 }
        let left = try await p.depth(p.stage("a"))
        XCTAssertEqual(left, 0)
        let held = a.log.components(separatedBy: "waits in a file for its turn").count - 1
        XCTAssertGreaterThanOrEqual(held, 1, "some were sent beside the first and waited in files:\n\(a.log)")
        // Every one held in a file is counted as it is read back for its turn.
        let metrics = try await WorkerProcess.get(port, "/metrics").body
        XCTAssertEqual(WorkerProcess.sum(metrics, "bridge_deliveries_held_in_files_total"), Double(held), metrics)
        XCTAssertGreaterThanOrEqual(WorkerProcess.sum(metrics, "bridge_delivery_bytes_held_in_files_total"), Double(held * 70_000))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(files, [])
        _ = sink
    }

    /// The stage runner takes every delivery at or above its batch byte budget alone: messages that all are cross a relay in
    /// three rounds, the consumer paused and resumed each round, each message reaching the sink once.
    func testARunnerTakingEveryMessageAloneLosesNone() async throws {
        let p = try await TestPipeline.make(stages: ["a", "b"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let sink = try p.relay("b", ["--sink-db", db])
        let a = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b"), "--max-batch-bytes", "1000", "--prefetch", "50",
                                  "--log-level", "info"])
        let store = try IdempotencyStore(path: db)
        let session = try await p.broker.session("publisher")
        for round in 0..<3 {
            try await session.publish((0..<10).map { index in
                p.message("{\"n\":\(round * 10 + index),\"padding\":\"" + String(repeating: "x", count: 1_200) + "\"}", key: p.stage("a"),
                          idempotencyKey: "\(p.prefix):\(round * 10 + index)")
            })
            try await eventually("round \(round) reaches the sink") { try await store.count() == (round + 1) * 10 }
        }
        await session.close()
        let left = try await p.depth(p.stage("a"))
        XCTAssertEqual(left, 0)
        let paused = a.log.components(separatedBy: "consumer paused until it is settled").count - 1
        let resumed = a.log.components(separatedBy: "consuming again").count - 1
        XCTAssertGreaterThanOrEqual(paused, 3, "paused at least once a round:\n\(a.log)")
        XCTAssertGreaterThanOrEqual(resumed, 3, "resumed at least once a round")
        _ = sink
    }
}
