import AMQP
import BridgeClock
import Logging
import Synchronization

/// Where a process that only publishes sends its messages: a `ReliablePublisher` in production, anything that records
/// them in a unit test.
public protocol MessagePublisher: Sendable {
    func publish(_ messages: [OutgoingMessage]) async throws
}

/// Publishes with confirms for processes that only publish (ingest connectors, tools). On a lost
/// connection it reconnects and republishes whatever was not confirmed, with the same message ids,
/// until `deadline`. A nack (the broker could not take the message: a quorum queue without a leader
/// for the moment) is retried the same way, on a new session after a short backoff: on a three-node
/// cluster, a channel that published while its queues' leader node was SIGKILLed was refused every
/// publish for as long as it lived (minutes, in ClusterTests' store day), while new channels were
/// served at once. An unroutable message is an error at once (the topology is missing).
public final class ReliablePublisher: MessagePublisher {
    private let connector: BrokerConnector
    private let session = Mutex<AMQPSession?>(nil)
    private let logger: Logger
    public let deadline: Duration

    public init(connector: BrokerConnector, deadline: Duration = .seconds(300), logger: Logger) {
        self.connector = connector
        self.deadline = deadline
        self.logger = logger
    }

    public var isConnected: Bool { session.withLock { $0?.isOpen ?? false } }

    public func publish(_ messages: [OutgoingMessage]) async throws {
        let giveUp = ContinuousClock.now + deadline
        var messages = messages
        for index in messages.indices where messages[index].properties.messageID == nil {
            messages[index].properties.messageID = MessageID.random()
        }
        var backoff = Self.nackBackoff
        while true {
            let current = try await currentSession()
            do {
                try await current.publish(messages)
                return
            } catch let error as AMQPError where error.isConnectionFailure || error.isNack {
                guard ContinuousClock.now < giveUp else { throw error }
                session.withLock { if $0 === current { $0 = nil } }
                await current.close()
                if error.isNack {
                    logger.warning("broker refused a publish; republishing on a new session", metadata: [
                        "error": "\(error)", "messages": "\(messages.count)", "backoff_ms": "\(backoff.milliseconds)"])
                    try await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                } else {
                    logger.warning("publish interrupted; republishing after reconnect", metadata: ["error": "\(error)", "messages": "\(messages.count)"])
                }
            }
        }
    }

    /// The first wait before republishing refused messages (doubling up to 5 s).
    static let nackBackoff: Duration = .milliseconds(200)

    /// Connects now, and again whenever the connection is lost while nothing is being published. Without it the
    /// publisher reconnects only on its next publish, and readiness (`isConnected`) says "not connected" until then:
    /// after a broker restart, heartland-ingest stayed unhealthy for as long as Heartland sent nothing new (seen with
    /// scripts/compose-test). Runs until its task is cancelled.
    public func keepConnected(checkEvery interval: Duration = .seconds(2)) async {
        while !Task.isCancelled {
            if !isConnected { try? await publish([]) }
            try? await Task.sleep(for: interval)
        }
    }

    public func close() async {
        let current = session.withLock { current -> AMQPSession? in
            defer { current = nil }
            return current
        }
        await current?.close()
    }

    private func currentSession() async throws -> AMQPSession {
        if let open = session.withLock({ $0?.isOpen == true ? $0 : nil }) { return open }
        let fresh = try await connector.connect()
        session.withLock { $0 = fresh }
        return fresh
    }
}
