import Foundation
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
        let flow = try await TestPipeline.relayToSink(on: broker)
        // Fifty at a time, each fifty once the relay has carried the one before: the alarm finds most still to publish.
        let publishing = Task {
            for chunk in stride(from: 0, to: 1000, by: 50) {
                try await flow.publish(chunk..<chunk + 50)
                try await eventually("the relay carried message \(chunk + 49)") { try await flow.store.count() >= chunk + 50 }
            }
        }
        try await eventually("messages are flowing") { try await flow.store.count() >= 100 }
        try await broker.ctl("set_vm_memory_high_watermark", "0")
        try await eventually("the node blocks a publishing connection") {
            try await broker.ctl("-q", "list_connections", "state").split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "blocked" }
        }
        let held = try await flow.store.count()
        XCTAssertLessThan(held, 1000, "the alarm came while messages were still to be published")

        try await broker.ctl("set_vm_memory_high_watermark", "0.4")
        try await publishing.value
        try await eventually(timeout: .seconds(120), "all 1,000 arrive once the alarm clears") { try await flow.store.count() == 1000 }
        XCTAssertTrue(flow.sink.isRunning && flow.relay.isRunning, "no worker stopped")
        let keys = try await flow.store.keys()
        XCTAssertEqual(keys, flow.keys(0..<1000))
        let parked = try await broker.exactCounts().filter { $0.key.hasPrefix(flow.pipeline.prefix) && $0.key.hasSuffix(".dlq") }
        XCTAssertEqual(parked.values.reduce(0, +), 0, "nothing parked: \(parked)")
        await flow.publisher.close()
        await broker.destroy()
    }
}
