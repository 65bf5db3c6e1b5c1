import Foundation
import Logging
import Messaging
import Metrics
import Synchronization

/// The messages a worker is handling now, exported as the publish time (AMQP `timestamp`) of the oldest:
/// `bridge_oldest_inflight_message_timestamp_seconds{stage}`, 0 when it is handling none.
///
/// Why the stage reports it: RabbitMQ 3.10 gives `head_message_timestamp` for classic queues only (the
/// work queues are quorum queues, rabbitmq-server#6813), and reading a work queue's head to look at it
/// would count as a delivery towards its `x-delivery-limit`. `bridgectl status` reads this gauge from the
/// workers (or Prometheus); Prometheus can alert on `time() - gauge`.
///
/// It sees a message from the moment its handler starts until the handler returns: messages a replica
/// has prefetched but not started, or holds while its circuit is open, are not counted.
public final class InFlightMessages: StageHandler {
    public static let metricName = "bridge_oldest_inflight_message_timestamp_seconds"

    private let wrapped: any StageHandler
    private let gauge: Gauge
    private let inFlight = Mutex<(next: UInt64, published: [UInt64: Double])>((0, [:]))

    public init(stage: String, wrapping handler: any StageHandler) {
        wrapped = handler
        gauge = Gauge(label: Self.metricName, dimensions: [("stage", stage)])
        gauge.record(0)
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        guard let published = message.delivery.properties.timestamp?.timeIntervalSince1970 else {
            return try await wrapped.handle(message, logger: logger)
        }
        let token = update { state in
            state.next += 1
            state.published[state.next] = published
            return state.next
        }
        defer { update { $0.published[token] = nil } }
        return try await wrapped.handle(message, logger: logger)
    }

    /// The publish time of the oldest message being handled, if any.
    public var oldest: Date? {
        inFlight.withLock { $0.published.values.min() }.map { Date(timeIntervalSince1970: $0) }
    }

    private func update<T>(_ change: (inout (next: UInt64, published: [UInt64: Double])) -> T) -> T {
        // Recorded under the lock, so that two handlers finishing at once cannot leave a stale value.
        inFlight.withLock { state in
            let result = change(&state)
            gauge.record(state.published.values.min() ?? 0)
            return result
        }
    }
}
