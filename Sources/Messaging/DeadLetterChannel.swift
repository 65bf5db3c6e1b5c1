import AMQP
import BridgeClock
import Foundation

/// Inspecting and replaying a stage's parking lot (`S.dlq`).
///
/// Replay is a transactional move in the only way AMQP allows: get a message (unacked), publish it
/// back to the stage's work queue with confirms, and only then ack it in the parking lot. An
/// interruption between the two leaves the message in the parking lot (and maybe also in the stage,
/// where its idempotency key absorbs the duplicate); nothing is lost.
public struct DeadLetterChannel: Sendable {
    public let stage: String
    public var queue: String { "\(stage).dlq" }

    public init(stage: String) { self.stage = stage }

    public struct ParkedMessage: Sendable {
        public var delivery: Delivery
        public init(delivery: Delivery) { self.delivery = delivery }
        public var messageID: String { delivery.properties.messageID ?? "" }
        public var correlationID: String { delivery.properties.correlationID ?? "" }
        public var idempotencyKey: String? { header(Header.idempotencyKey) }
        public var attempt: Int { Int(delivery.properties.headers[Header.attempt]?.intValue ?? 0) }
        public var errorClass: String { header(Header.errorClass) ?? deathReason ?? "unknown" }
        public var lastError: String { header(Header.lastError) ?? deathReason.map { "dead-lettered by the broker: \($0)" } ?? "" }
        public var firstFailedAt: String? { header(Header.firstFailedAt) }
        public var failedStage: String? { header(Header.failedStage) }
        public var replayCount: Int { Int(delivery.properties.headers[Header.replayCount]?.intValue ?? 0) }
        public var routingKey: String { delivery.properties.type ?? delivery.routingKey }
        public var body: String { String(decoding: delivery.body, as: UTF8.self) }

        /// The broker's own reason for messages it dead-lettered itself (e.g. `delivery_limit`).
        public var deathReason: String? {
            guard case .array(let deaths)? = delivery.properties.headers["x-death"], case .table(let first)? = deaths.first else {
                return delivery.properties.headers["x-first-death-reason"]?.stringValue
            }
            return first["reason"]?.stringValue
        }

        /// The parking lot this message expired from, when its retention ran out (a broker death `expired` out of
        /// an `S.dlq`; a delay tier's expiry is not one, and a later retry of the alerter keeps the entry).
        public var expiredFromParkingLot: String? {
            for case .table(let death) in deaths where death["reason"]?.stringValue == "expired" {
                if let queue = death["queue"]?.stringValue, queue.hasSuffix(".dlq") { return queue }
            }
            return nil
        }

        /// How long since the message first failed (`x-first-failed-at`), else since the broker first dead-lettered it.
        public func age(now: Date = Date()) -> Duration {
            var since = firstFailedAt.flatMap(Timestamps.instant)
            if since == nil, case .table(let oldest)? = deaths.last, case .timestamp(let seconds)? = oldest["time"] {
                since = Date(timeIntervalSince1970: TimeInterval(seconds))
            }
            guard let since else { return .zero }
            return .seconds(max(0, Int64(now.timeIntervalSince(since))))
        }

        /// The broker's `x-death` entries, latest first.
        private var deaths: [FieldValue] {
            guard case .array(let deaths)? = delivery.properties.headers["x-death"] else { return [] }
            return deaths
        }

        private func header(_ name: String) -> String? { delivery.properties.headers[name]?.stringValue }
    }

    /// Reads up to `limit` parked messages and leaves them in place: they are received on a channel of
    /// their own and released by closing it (a nack with requeue would move them to the tail).
    public func list(session: AMQPSession, limit: Int) async throws -> [ParkedMessage] {
        let queue = self.queue
        return try await session.perform { connection in
            let channel: UInt16 = 4
            defer { connection.closeChannel(channel) }
            var parked: [ParkedMessage] = []
            while parked.count < limit, let delivery = try connection.get(channel: channel, queue: queue, generation: 0) {
                parked.append(ParkedMessage(delivery: delivery))
            }
            return parked
        }
    }

    /// Moves parked messages back to the stage, oldest first. `filter` picks which; the rest stay parked.
    /// Returns how many were replayed.
    public func replay(session: AMQPSession, limit: Int = .max, actor: String,
                       filter: @escaping @Sendable (ParkedMessage) -> Bool = { _ in true }) async throws -> Int {
        var replayed = 0
        var seen = 0
        var total: Int?
        let queue = self.queue
        while replayed < limit, seen < (total ?? .max) {
            guard let candidate: Delivery = try await session.perform({ connection in
                try connection.get(channel: AMQPSession.controlChannel, queue: queue, generation: session.generation)
            }) else { break }
            // Messages that do not match go back to the tail, so stop after one pass over what was there.
            if total == nil { total = Int(candidate.messageCount ?? 0) + 1 }
            seen += 1
            let parked = ParkedMessage(delivery: candidate)
            guard filter(parked) else {
                try await session.perform { connection in
                    try connection.nack(channel: AMQPSession.controlChannel, deliveryTag: candidate.deliveryTag, requeue: true)
                }
                continue
            }
            try await session.publish([replayMessage(parked, actor: actor)])
            try await session.perform { connection in
                try connection.ack(channel: AMQPSession.controlChannel, deliveryTag: candidate.deliveryTag)
            }
            replayed += 1
        }
        return replayed
    }

    /// Deletes every parked message; returns how many.
    public func purge(session: AMQPSession) async throws -> Int {
        let queue = self.queue
        return Int(try await session.perform { connection in try connection.purgeQueue(channel: AMQPSession.controlChannel, name: queue) })
    }

    func replayMessage(_ parked: ParkedMessage, actor: String) -> OutgoingMessage {
        var properties = parked.delivery.properties
        // A replayed message starts its retries afresh; its history stays in the headers.
        properties.headers[Header.attempt] = .int(1)
        properties.headers[Header.replayCount] = .int(Int64(parked.replayCount + 1))
        properties.headers[Header.replayedAt] = .string(Timestamps.iso8601Millis(Date()))
        properties.headers["x-replayed-by"] = .string(actor)
        properties.headers["x-death"] = nil
        properties.headers["x-first-death-reason"] = nil
        properties.headers["x-first-death-queue"] = nil
        properties.headers["x-first-death-exchange"] = nil
        return OutgoingMessage(exchange: "", routingKey: parked.failedStage ?? stage, properties: properties, body: parked.delivery.body)
    }
}
