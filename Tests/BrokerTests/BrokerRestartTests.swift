import AMQP
import Foundation
import Messaging
import XCTest

final class BrokerRestartTests: XCTestCase {
    /// The node is stopped and restarted while 1,000 messages flow: all arrive, none twice at the
    /// idempotent end, and the workers reconnect without being restarted.
    func testThousandMessagesSurviveABrokerRestart() async throws {
        // A node of its own: stopping the shared one would disturb the other tests.
        let broker = try await TestBroker.start(name: "restart-\(ProcessInfo.processInfo.processIdentifier)")
        defer { broker.destroy() }
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
        try await eventually("messages are flowing") { try store.count() >= 100 }
        try await broker.stopNode()
        try await broker.startNode()
        try await publishing.value
        try await eventually(timeout: .seconds(120), "all 1,000 arrive after the restart") { try store.count() == 1000 }
        XCTAssertTrue(sink.isRunning && relay.isRunning, "workers reconnected by themselves")
        XCTAssertEqual(try store.keys(), (0..<1000).map { "\(p.prefix):\($0)" }.sorted())
        await publisher.close()
    }
}
