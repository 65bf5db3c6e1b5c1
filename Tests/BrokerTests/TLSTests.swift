import AMQP
import Foundation
import Messaging
import XCTest

final class TLSTests: XCTestCase {
    /// amqps:// verifies the broker against the given CA, then publishes with confirms and reads back.
    func testPublishAndGetOverTLS() async throws {
        let broker = try await TestBroker.shared
        guard let raw = broker.amqpsURL else { throw XCTSkip("the test broker has no TLS listener (node started without scripts/rabbitmq-node TLS)") }
        let url = try AMQPURL(raw)
        XCTAssertTrue(url.useTLS)
        let session = try await AMQPSession.connect(url: url, name: "tls-test", logger: broker.logger)
        let queue = "tls-check-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await session.perform { try $0.declareQueue(channel: 3, name: queue, durable: false, autoDelete: false) }
        try await session.publish([OutgoingMessage(exchange: "", routingKey: queue, properties: .init(messageID: "m1"), body: Array("over tls".utf8))])
        let got = try await session.perform { connection -> Delivery? in
            let delivery = try connection.get(channel: 3, queue: queue, generation: 0)
            if let delivery { try connection.ack(channel: 3, deliveryTag: delivery.deliveryTag) }
            try connection.deleteQueue(channel: 3, name: queue)
            return delivery
        }
        XCTAssertEqual(got.map { String(decoding: $0.body, as: UTF8.self) }, "over tls")
        await session.close()
    }

    /// A broker whose certificate does not chain to the trusted CA is refused.
    func testUntrustedBrokerCertificateIsRefused() async throws {
        let broker = try await TestBroker.shared
        guard let raw = broker.amqpsURL, let range = raw.range(of: "cacertfile=") else { throw XCTSkip("no TLS listener") }
        let untrusted = String(raw[..<range.upperBound]) + "/etc/ssl/certs/ca-certificates.crt"
        do {
            let session = try await AMQPSession.connect(url: try AMQPURL(untrusted), name: "tls-untrusted", logger: broker.logger)
            await session.close()
            XCTFail("connected to a broker whose certificate is not trusted")
        } catch let error as AMQPError {
            guard case .connectFailed = error else { return XCTFail("unexpected error \(error)") }
        }
    }
}
