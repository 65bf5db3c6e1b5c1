import AMQP
import BrokerAdmin
import Foundation
import Messaging
import XCTest

/// Least privilege that enforces the pipeline, checked by the broker itself: with the standard topology imported,
/// each worker logs in with its own user and tries publishes it must not make (straight into another stage's queue
/// through the default exchange, a journal that skips the fraud scorer, another stage's audit or alert, another
/// stage's retry tier or parking lot). RabbitMQ refuses each one (ACCESS_REFUSED closes the channel, so the
/// confirmed publish throws); the publishes the stage really makes go through.
final class LeastPrivilegeTests: XCTestCase {
    struct Attempt {
        let user: String
        let exchange: String
        let key: String
        let allowed: Bool
    }

    static let attempts: [Attempt] = [
        // The default exchange reaches every queue by name: no worker may write it.
        .init(user: "transformer", exchange: "", key: "sage-loader", allowed: false),
        .init(user: "fraud-scorer", exchange: "", key: "sage-loader", allowed: false),
        .init(user: "heartland-loader", exchange: "", key: "sage-loader.delay.5s", allowed: false),
        // The transformer cannot skip the fraud scorer: journals only to bridge.scoring.
        .init(user: "transformer", exchange: "bridge.commands", key: "sage.journal.settlement", allowed: false),
        .init(user: "transformer", exchange: "bridge.commands", key: "sage.customer.decision", allowed: false),
        .init(user: "transformer", exchange: "bridge.scoring", key: "sage.journal.settlement", allowed: true),
        .init(user: "transformer", exchange: "bridge.commands", key: "heartland.item.update", allowed: true),
        .init(user: "fraud-scorer", exchange: "bridge.commands", key: "sage.journal.settlement", allowed: true),
        .init(user: "fraud-scorer", exchange: "bridge.commands", key: "heartland.item.update", allowed: false),
        // No worker publishes another's audit events (a review approval is the console's) or alerts.
        .init(user: "sage-loader", exchange: "bridge.audit", key: "audit.review_approved.console", allowed: false),
        .init(user: "fraud-scorer", exchange: "bridge.audit", key: "audit.posted.sage-loader", allowed: false),
        .init(user: "sage-loader", exchange: "bridge.audit", key: "audit.posted.sage-loader", allowed: true),
        .init(user: "sage-loader", exchange: "bridge.audit", key: "audit.reconciliation.matched", allowed: true),
        .init(user: "transformer", exchange: "bridge.audit", key: "audit.reconciliation.matched", allowed: false),
        .init(user: "heartland-loader", exchange: "bridge.alerts", key: "alert.dead_lettered.sage-loader", allowed: false),
        .init(user: "heartland-loader", exchange: "bridge.alerts", key: "alert.dead_lettered.heartland-loader", allowed: true),
        // Retries and parking: only a stage's own tiers and its own parking-lot key.
        .init(user: "transformer", exchange: "bridge.retry", key: "sage-loader.delay.5s", allowed: false),
        .init(user: "transformer", exchange: "bridge.retry", key: "transformer.delay.5s", allowed: true),
        .init(user: "transformer", exchange: "bridge.dead", key: "sage-loader", allowed: false),
        // Ingests publish their own side's events only.
        .init(user: "sage-ingest", exchange: "bridge.events", key: "heartland.batch.closed", allowed: false),
        .init(user: "heartland-ingest", exchange: "bridge.events", key: "heartland.batch.closed", allowed: true),
        .init(user: "heartland-ingest", exchange: "bridge.scoring", key: "sage.journal.settlement", allowed: false),
    ]

    func testEachWorkersForbiddenPublishesAreRefusedByTheBroker() async throws {
        let broker = try await TestBroker.shared
        let management = try broker.management()
        // In a virtual host of its own: the accepted publishes leave messages in its queues, which no other test reads.
        var builder = BridgeTopology.standard
        builder.vhost = "least-privilege-\(UUID().uuidString.prefix(8))"
        let topology = builder.build()
        try await management.importDefinitions(topology)
        var passwords: [String: String] = [:]
        for user in Set(Self.attempts.map(\.user)) {
            let password = UUID().uuidString
            try await management.setPassword(user: user, password: password, tags: [])
            passwords[user] = password
        }
        var url = try AMQPURL(broker.amqpURL)
        url.vhost = builder.vhost
        var wrong: [String] = []
        for attempt in Self.attempts {
            url.user = attempt.user
            url.password = passwords[attempt.user]!
            let session = try await AMQPSession.connect(url: url, name: "least-privilege", logger: broker.logger)
            // An allowed publish must reach a queue (publishes are mandatory): a queue of the test's own, bound for the key.
            let refused: Bool
            do {
                try await session.publish([OutgoingMessage(exchange: attempt.exchange, routingKey: attempt.key,
                                                           properties: MessageProperties(messageID: UUID().uuidString), body: Array("{}".utf8))])
                refused = false
            } catch {
                refused = "\(error)".contains("ACCESS_REFUSED") || "\(error)".contains("403")
                if !refused { XCTFail("\(attempt.user) → \(attempt.exchange.isEmpty ? "(default)" : attempt.exchange) \(attempt.key): \(error)") }
            }
            await session.close()
            if refused == attempt.allowed {
                wrong.append("\(attempt.user) → \(attempt.exchange.isEmpty ? "(default exchange)" : attempt.exchange) \(attempt.key): "
                    + (attempt.allowed ? "refused, but the stage publishes it" : "accepted, but it is forbidden"))
            }
        }
        try await management.deleteVirtualHost(builder.vhost)
        XCTAssertEqual(wrong, [], "\n" + wrong.joined(separator: "\n"))
    }
}
