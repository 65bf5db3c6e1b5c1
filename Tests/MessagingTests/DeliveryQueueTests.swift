@testable import AMQP
import Foundation
import Testing

/// What the stage runner takes into a batch: the deliveries already here, in order, up to a count and, beyond the first,
/// up to a size of bodies, so that a large message (a day's batch event) is handled alone.
@Suite struct DeliveryQueueTests {
    static func queue(_ sizes: [Int]) -> DeliveryQueue {
        let queue = DeliveryQueue()
        for (index, size) in sizes.enumerated() {
            queue.push(Delivery(deliveryTag: UInt64(index + 1), routingKey: "k", properties: MessageProperties(), body: [UInt8](repeating: 1, count: size)))
        }
        return queue
    }

    @Test func drainingTakesInOrderUpToTheCountAndTheBytes() {
        let queue = Self.queue([10, 20, 30, 5, 1])
        #expect(queue.drain(max: 10, maxBytes: 35).map(\.deliveryTag) == [1, 2], "the third would make 60 bytes")
        #expect(queue.drain(max: 10, maxBytes: 35).map(\.deliveryTag) == [3, 4], "in order: the one that did not fit comes first")
        #expect(queue.drain(max: 10).map(\.deliveryTag) == [5])
        #expect(Self.queue([1, 1, 1]).drain(max: 2).map(\.deliveryTag) == [1, 2])
    }

    /// The runner's budget is what is left after the first delivery: after a large one, nothing joins it.
    @Test func afterALargeFirstDeliveryNothingJoinsIt() {
        let queue = Self.queue([0, 0])
        #expect(queue.drain(max: 10, maxBytes: 4 - 50).isEmpty, "not even an empty body")
        #expect(queue.drain(max: 10, maxBytes: 0).map(\.deliveryTag) == [1, 2], "empty bodies fit a budget of nothing")
    }

    /// A body written to a file frame by frame comes back whole; the file is gone from its folder as soon as it is made; a
    /// delivery held in one counts by that size and is never drained into a batch, whatever the budget: `next()` takes it.
    @Test func aBodyHeldInAFileComesBackWholeAndIsTakenAlone() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spill-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try SpillFile(directory: folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "unlinked as soon as made")
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        for start in stride(from: 0, to: bytes.count, by: 131_064) {
            try bytes[start..<min(start + 131_064, bytes.count)].withUnsafeBytes { try file.append($0) }
        }
        #expect(try file.readBack() == bytes, "what was written so far, for a body that goes on in memory")
        var held = Delivery(deliveryTag: 2, routingKey: "k", properties: MessageProperties(), body: [])
        held.spilledBody = file.finish()
        #expect(held.size == bytes.count)
        #expect(try held.loadingSpilledBody().body == bytes)
        #expect(try held.loadingSpilledBody().spilledBody == nil)

        let queue = DeliveryQueue()
        queue.push(Delivery(deliveryTag: 1, routingKey: "k", properties: MessageProperties(), body: []))
        queue.push(held)
        queue.push(Delivery(deliveryTag: 3, routingKey: "k", properties: MessageProperties(), body: [1]))
        #expect(queue.drain(max: 10).map(\.deliveryTag) == [1], "stops at the held one")
        #expect(queue.drain(max: 10).isEmpty)
        let next = await queue.next()
        #expect(next?.deliveryTag == 2)
        #expect(queue.drain(max: 10).map(\.deliveryTag) == [3])
    }
}
