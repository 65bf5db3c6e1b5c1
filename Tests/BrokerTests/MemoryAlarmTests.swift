import AMQP
import Foundation
import Messaging
import TestPrograms
import XCTest

/// RabbitMQ's memory alarm, which Compose sets at 60 % of the broker's container limit (Compose/rabbitmq/entrypoint.sh):
/// when it goes off, the node blocks every connection that publishes until memory is freed.
final class MemoryAlarmTests: XCTestCase {
    /// The alarm goes off while 1,000 messages are being published and relayed (the node's threshold set to 0, which
    /// raises it at once): the publishers and the relay are held, nothing is refused or parked, no worker stops; once the
    /// alarm clears, every message arrives at the idempotent end once.
    func testAMemoryAlarmHoldsThePublishersAndLosesNothing() async throws {
        // A node of its own: an alarm on the shared one would hold every other test's publishers.
        let broker = try await TestBroker.start(name: "alarm-\(ProcessInfo.processInfo.processIdentifier)")
        let p = try await TestPipeline.make(broker: broker, stages: ["a", "b"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let sink = try p.relay("b", ["--sink-db", db])
        let relay = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b"), "--delay-ms", "5"])
        let store = try IdempotencyStore(path: db)

        let publisher = ReliablePublisher(connector: BrokerConnector(url: try AMQPURL(broker.amqpURL), name: "test-publisher",
                                                                     logger: broker.logger), logger: broker.logger)
        // Fifty at a time, each fifty once the relay has carried the one before: the alarm finds most still to publish.
        let publishing = Task {
            for chunk in stride(from: 0, to: 1000, by: 50) {
                try await publisher.publish((chunk..<chunk + 50).map { p.message("{\"n\":\($0)}", key: p.stage("a"), idempotencyKey: "\(p.prefix):\($0)") })
                try await eventually("the relay carried message \(chunk + 49)") { try await store.count() >= chunk + 50 }
            }
        }
        try await eventually("messages are flowing") { try await store.count() >= 100 }
        try await broker.ctl("set_vm_memory_high_watermark", "0")
        try await eventually("the node blocks a publishing connection") {
            try await broker.ctl("-q", "list_connections", "state").split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "blocked" }
        }
        let held = try await store.count()
        XCTAssertLessThan(held, 1000, "the alarm came while messages were still to be published")

        try await broker.ctl("set_vm_memory_high_watermark", "0.4")
        try await publishing.value
        try await eventually(timeout: .seconds(120), "all 1,000 arrive once the alarm clears") { try await store.count() == 1000 }
        XCTAssertTrue(sink.isRunning && relay.isRunning, "no worker stopped")
        let keys = try await store.keys()
        XCTAssertEqual(keys, (0..<1000).map { "\(p.prefix):\($0)" }.sorted())
        let parked = try await broker.exactCounts().filter { $0.key.hasPrefix(p.prefix) && $0.key.hasSuffix(".dlq") }
        XCTAssertEqual(parked.values.reduce(0, +), 0, "nothing parked: \(parked)")
        await publisher.close()
        await broker.destroy()
    }
}
