import AMQP
import Foundation
import Logging
import Messaging
import Synchronization
import TestPrograms
import XCTest

final class BrokerRestartTests: XCTestCase {
    /// The node is stopped and restarted while 1,000 messages flow: all arrive, none twice at the
    /// idempotent end, and the workers reconnect without being restarted.
    func testThousandMessagesSurviveABrokerRestart() async throws {
        // A node of its own: stopping the shared one would disturb the other tests.
        // Destroyed at the end, or when the test process exits if the test fails first.
        let broker = try await TestBroker.start(name: "restart-\(ProcessInfo.processInfo.processIdentifier)")
        let flow = try await TestPipeline.relayToSink(on: broker)
        let publishing = Task {
            for chunk in stride(from: 0, to: 1000, by: 50) { try await flow.publish(chunk..<chunk + 50) }
        }
        try await eventually("messages are flowing") { try await flow.store.count() >= 100 }
        try await broker.stopNode()
        try await broker.startNode()
        try await publishing.value
        try await eventually(timeout: .seconds(120), "all 1,000 arrive after the restart") { try await flow.store.count() == 1000 }
        XCTAssertTrue(flow.sink.isRunning && flow.relay.isRunning, "workers reconnected by themselves")
        let keys = try await flow.store.keys()
        XCTAssertEqual(keys, flow.keys(0..<1000))
        await flow.publisher.close()
        await broker.destroy()
    }

    /// A publisher with nothing to publish (an ingest on a quiet day) reconnects by itself after a broker restart when
    /// it keeps its connection (`keepConnected`), so its readiness is true again; one that does not stays disconnected
    /// until its next publish (the fault scripts/compose-test found: heartland-ingest unhealthy for minutes).
    func testAnIdlePublisherKeepingItsConnectionReconnectsAfterABrokerRestart() async throws {
        let broker = try await TestBroker.start(name: "idle-\(ProcessInfo.processInfo.processIdentifier)")
        func publisher(_ name: String) throws -> ReliablePublisher {
            ReliablePublisher(connector: BrokerConnector(url: try AMQPURL(broker.amqpURL), name: name, initialBackoff: .milliseconds(100),
                                                         maxBackoff: .seconds(1), logger: broker.logger), logger: broker.logger)
        }
        let keeping = try publisher("keeps-connected"), idle = try publisher("idle")
        let keeper = Task { await keeping.keepConnected(checkEvery: .milliseconds(200)) }
        try await idle.publish([])
        try await eventually("both connected") { keeping.isConnected && idle.isConnected }

        try await broker.stopNode()
        try await eventually("both see the broker gone") { !keeping.isConnected && !idle.isConnected }
        try await broker.startNode()
        try await eventually(timeout: .seconds(120), "the keeping publisher connected again by itself") { keeping.isConnected }
        XCTAssertFalse(idle.isConnected, "a publisher without keepConnected reconnects only when it next publishes")
        try await idle.publish([])
        XCTAssertTrue(idle.isConnected)

        keeper.cancel()
        await keeping.close()
        await idle.close()
        await broker.destroy()
    }

    /// A message the broker refuses (basic.nack: here a full queue with `reject-publish`, on a cluster a quorum queue
    /// between leaders) is published again on a new session after a backoff, until it is taken: the publish returns
    /// once the queue has room, and the message is there once. (On the cluster, ClusterTests' store day found a channel
    /// refused for minutes while new channels were served; the ingest's forwarder used to retry on the same channel.)
    func testAReliablePublisherRepublishesARefusedMessageUntilTheBrokerTakesIt() async throws {
        let broker = try await TestBroker.shared
        let queue = "nack-\(UInt32.random(in: 0...UInt32.max))"
        let control = try await broker.session("nack-control")
        try await control.perform { connection in
            try connection.declareQueue(channel: AMQPSession.controlChannel, name: queue, arguments: [
                "x-max-length": .int(1), "x-overflow": .string("reject-publish")])
        }
        func message(_ body: String) -> OutgoingMessage {
            OutgoingMessage(exchange: "", routingKey: queue, properties: MessageProperties(messageID: MessageID.random()), body: Array(body.utf8))
        }
        try await control.publish([message("first")])
        let lines = LogLines()
        var logger = Logger(label: "nack-test") { _ in CapturingLogHandler(sink: lines) }
        logger.logLevel = .info
        let publisher = ReliablePublisher(connector: BrokerConnector(url: try AMQPURL(broker.amqpURL), name: "nack-test", logger: logger), logger: logger)
        let publishing = Task { try await publisher.publish([message("second")]) }
        try await eventually("the publish refused twice, each time on a new session") {
            lines.all.filter { $0.contains("broker refused a publish; republishing on a new session") }.count >= 2
        }
        let first = try await control.perform { connection in
            let delivery = try connection.get(channel: AMQPSession.controlChannel, queue: queue, generation: control.generation)
            if let delivery { try connection.ack(channel: AMQPSession.controlChannel, deliveryTag: delivery.deliveryTag) }
            return delivery.map { String(decoding: $0.body, as: UTF8.self) }
        }
        XCTAssertEqual(first, "first")
        try await publishing.value
        let left = try await control.perform { connection in
            try connection.get(channel: AMQPSession.controlChannel, queue: queue, generation: control.generation).map { String(decoding: $0.body, as: UTF8.self) }
        }
        XCTAssertEqual(left, "second", "the refused message is in the queue once the broker took it")
        try await control.perform { try $0.deleteQueue(channel: AMQPSession.controlChannel, name: queue) }
        await control.close()
        await publisher.close()
    }
}

/// Log lines a test reads back (`CapturingLogHandler`).
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

struct CapturingLogHandler: LogHandler {
    let sink: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        sink.append("\(message)")
    }
}
