import AMQP
import Foundation
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
