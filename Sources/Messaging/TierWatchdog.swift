import AMQP
import BridgeClock
import Foundation

/// RabbitMQ's quorum queues can keep a message in a delay tier long past the tier's TTL: expiry is evaluated at the
/// head of the queue when the queue handles a command, and a tier nobody publishes to or consumes from may not look
/// again (rabbitmq-server#10718; seen here in `ChaosTests`: a journal waited in `sage-loader.delay.40s` for over
/// 200 s). Nothing is lost, but nothing arrives either. So each stage runner watches its tiers: a tier that has held
/// messages without its count going down for longer than its delay (plus a grace) has a head that is due, and gets a
/// poke: an empty message that expires at once (`expiration: 0`, header `x-tier-poke`). The enqueue makes the queue
/// expire what is due; the poke follows through the tier's dead-letter route to the stage, which acknowledges it
/// without handling it. Messages are never taken out of a tier by hand (a quorum queue does not expire a message
/// that was returned to it), and a tier whose head is not due is never poked (a poke behind it would wait too).
extension StageRunner {
    static let watchdogChannel: UInt16 = 4
    static let watchdogInterval: Duration = .seconds(5)

    /// How long past its delay a tier may hold messages without its count going down before it is poked.
    static func grace(_ tier: RetryTier) -> Duration { max(.seconds(5), tier.delay / 4) }

    func watchTiers(on session: AMQPSession) async {
        let clock = ContinuousClock()
        // Per tier: its last count and since when it has held messages without that count going down.
        var watched: [String: (count: UInt32, since: ContinuousClock.Instant)] = [:]
        while !Task.isCancelled, session.isOpen {
            try? await Task.sleep(for: Self.watchdogInterval)
            for tier in stage.retryPolicy.tiers where !Task.isCancelled && session.isOpen {
                do {
                    let count = try await session.perform { connection in
                        try connection.declareQueue(channel: Self.watchdogChannel, name: tier.queue, passive: true).messages
                    }
                    let now = clock.now
                    var state = watched[tier.queue] ?? (count, now)
                    if count == 0 || count < state.count { state.since = now }
                    state.count = count
                    if count > 0, now - state.since > tier.delay + Self.grace(tier) {
                        try await poke(tier, on: session)
                        logger.warning("a delay tier kept its messages past their time; poked it", metadata: [
                            "tier": "\(tier.queue)", "messages": "\(count)", "stuck_for_ms": "\((now - state.since).milliseconds)",
                        ])
                        state.since = now
                    }
                    watched[tier.queue] = state
                } catch {
                    logger.debug("tier watchdog: \(tier.queue) not checked", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    func poke(_ tier: RetryTier, on session: AMQPSession) async throws {
        try await session.publish([OutgoingMessage(exchange: stage.retryExchange, routingKey: tier.queue, properties: MessageProperties(
            messageID: MessageID.random(), type: Header.tierPoke, persistent: false, headers: [Header.tierPoke: .bool(true)], expiration: "0"),
            body: [])])
    }

    /// A poke back from a tier: acknowledged, never handled.
    static func isTierPoke(_ delivery: Delivery) -> Bool { delivery.properties.headers[Header.tierPoke] != nil }
}
