import AMQP
import Foundation
import Logging
import XCTest

/// Over plain TCP a batch's frames are encoded by the session into one buffer and written at once (rabbitmq-c's encoders
/// for the method and the properties, our own frame envelopes, large bodies sent from the message itself); over TLS
/// each message still goes through `amqp_basic_publish`. Both must put on the wire what the broker reads back as what was
/// published: every property, every kind of header value, bodies either side of the frame size and of the buffer's
/// 32 KiB and 64 KiB thresholds, in order.
final class AMQPPublishFramesTests: XCTestCase {
    /// Messages with every property and header kind, and bodies of sizes that cross each threshold of the encoder.
    static func batch(queue: String) -> [OutgoingMessage] {
        let sizes = [0, 1, 1_000, 32_767, 32_768, 40_000, 65_535, 65_536, 131_063, 131_064, 131_065, 300_000]
            + Array(repeating: 700, count: 200)  // small ones that fill the buffer past 64 KiB between writes
        return sizes.enumerated().map { index, size in
            let headers: FieldTable = [
                "string": .string("héllo \(index)"), "int": .int(-Int64(index) - 1), "big": .int(.max), "bool": .bool(index.isMultiple(of: 2)),
                "double": .double(2.5), "timestamp": .timestamp(1_780_000_000), "bytes": .bytes([0, 255, 7]), "void": .void,
                "array": .array([.string("a"), .int(1), .table(["inner": .bool(true)])]),
                "table": .table(["nested": .table(["deeper": .string("x")]), "list": .array([])]),
            ]
            let properties = MessageProperties(
                contentType: index.isMultiple(of: 3) ? nil : "application/json", messageID: "m-\(index)",
                correlationID: index.isMultiple(of: 5) ? nil : "c-\(index)", type: "kind.\(index % 4)",
                timestamp: Date(timeIntervalSince1970: TimeInterval(1_780_000_000 + index)), persistent: !index.isMultiple(of: 7),
                headers: index.isMultiple(of: 11) ? [:] : headers, appID: "bridge-test", replyTo: index.isMultiple(of: 2) ? "reply.\(index)" : nil,
                expiration: index.isMultiple(of: 13) ? "600000" : nil)
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ index &* 17 &+ $0 >> 8) }
            return OutgoingMessage(exchange: "", routingKey: queue, properties: properties, body: body)
        }
    }

    func testABatchReadsBackAsPublishedOverPlainTCP() async throws {
        let broker = try await TestBroker.shared
        try await roundTrip(url: try AMQPURL(broker.amqpURL), logger: broker.logger)
    }

    func testABatchReadsBackAsPublishedOverTLS() async throws {
        let broker = try await TestBroker.shared
        guard let raw = broker.amqpsURL else { throw XCTSkip("the test broker has no TLS listener (node started without scripts/rabbitmq-node TLS)") }
        try await roundTrip(url: try AMQPURL(raw), logger: broker.logger)
    }

    private func roundTrip(url: AMQPURL, logger: Logger) async throws {
        let session = try await AMQPSession.connect(url: url, name: "publish-frames", logger: logger)
        let queue = "publish-frames-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await session.perform { try $0.declareQueue(channel: 3, name: queue, durable: false, autoDelete: false) }
        let published = Self.batch(queue: queue)
        try await session.publish(published)
        // The connection goes on after the batch: a second publish is confirmed too.
        try await session.publish([OutgoingMessage(exchange: "", routingKey: queue, properties: .init(messageID: "after"), body: [1, 2, 3])])
        let read = try await session.perform { connection -> [Delivery] in
            var read: [Delivery] = []
            while let delivery = try connection.get(channel: 3, queue: queue, generation: 0) { read.append(delivery) }
            try connection.deleteQueue(channel: 3, name: queue)
            return read
        }
        await session.close()
        XCTAssertEqual(read.map(\.properties.messageID), published.map(\.properties.messageID) + ["after"])
        for (sent, got) in zip(published, read) {
            XCTAssertEqual(got.properties, sent.properties, "\(sent.properties.messageID!)'s properties")
            XCTAssertTrue(got.body == sent.body, "\(sent.properties.messageID!)'s body of \(sent.body.count) bytes (read \(got.body.count))")
            XCTAssertEqual(got.routingKey, queue)
        }
        XCTAssertEqual(read.last?.body, [1, 2, 3])
    }
}
