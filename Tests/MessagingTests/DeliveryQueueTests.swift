@testable import AMQP
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
}
