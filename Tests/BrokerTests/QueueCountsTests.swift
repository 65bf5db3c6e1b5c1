import AMQP
import TestPrograms
import XCTest

/// How the tests tell that a queue holds nothing: a message a consumer has in hand is not ready, so a passive declare
/// does not count it, and the management API counts it only at its next sample; `TestBroker.holdNothing` asks the
/// queue itself (the chaos test once called the pipeline settled with a customer's command in a loader's hands).
final class QueueCountsTests: XCTestCase {
    func testAMessageInAConsumersHandsIsCountedUntilItIsAcked() async throws {
        let broker = try await TestBroker.shared
        let session = try await broker.session("queue-counts")
        let queue = "queue-counts-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await session.perform { try $0.declareQueue(channel: 3, name: queue, durable: false, autoDelete: false) }
        try await session.publish([OutgoingMessage(exchange: "", routingKey: queue, properties: .init(messageID: "in-hand"), body: [1])])
        try await eventually("the message is in the queue") { try await broker.depth(queue) == 1 }

        let delivery = try await session.perform { try XCTUnwrap($0.get(channel: 3, queue: queue, generation: 0)) }
        let ready = try await broker.depth(queue)
        let heldNothing = try await broker.holdNothing([queue])
        XCTAssertEqual(ready, 0, "a passive declare counts only the ready messages")
        XCTAssertFalse(heldNothing, "a message delivered and not acked is still the queue's")

        try await session.perform { try $0.ack(channel: 3, deliveryTag: delivery.deliveryTag) }
        try await eventually("the queue holds nothing once the message is acked") { try await broker.holdNothing([queue]) }
        try await session.perform { try $0.deleteQueue(channel: 3, name: queue) }
        await session.close()
    }
}
