import AMQP
import Foundation
import Messaging
import XCTest

final class BrokerRestartTests: XCTestCase {
    /// The node is stopped and restarted while 1,000 messages flow: all arrive, none twice at the
    /// idempotent end, and the workers reconnect without being restarted.
    func testThousandMessagesSurviveABrokerRestart() async throws {
        // A node of its own: stopping the shared one would disturb the other tests.
        // Destroyed at the end, or when the test process exits if the test fails first.
        let broker = try await TestBroker.start(name: "restart-\(ProcessInfo.processInfo.processIdentifier)")
        let p = try await TestPipeline.make(broker: broker, stages: ["a", "b"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let sink = try p.relay("b", ["--sink-db", db])
        let relay = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b"), "--delay-ms", "5"])
        let store = try IdempotencyStore(path: db)

        let publisher = ReliablePublisher(connector: BrokerConnector(url: try AMQPURL(broker.amqpURL), name: "test-publisher",
                                                                     logger: broker.logger), logger: broker.logger)
        let publishing = Task {
            for chunk in stride(from: 0, to: 1000, by: 50) {
                try await publisher.publish((chunk..<chunk + 50).map { p.message("{\"n\":\($0)}", key: p.stage("a"), idempotencyKey: "\(p.prefix):\($0)") })
            }
        }
        try await eventually("messages are flowing") { try await store.count() >= 100 }
        try await broker.stopNode()
        try await broker.startNode()
        try await publishing.value
        try await eventually(timeout: .seconds(120), "all 1,000 arrive after the restart") { try await store.count() == 1000 }
        XCTAssertTrue(sink.isRunning && relay.isRunning, "workers reconnected by themselves")
        let keys = try await store.keys()
        XCTAssertEqual(keys, (0..<1000).map { "\(p.prefix):\($0)" }.sorted())
        await publisher.close()
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
}
