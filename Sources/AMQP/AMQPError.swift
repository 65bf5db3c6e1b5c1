/// What went wrong talking to the broker. Every case says enough to act on.
public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    /// The TCP/TLS connection or the AMQP handshake failed.
    case connectFailed(String)
    /// The broker or the network closed the connection; everything unconfirmed is in doubt.
    case connectionLost(String)
    /// The broker closed a channel (e.g. 404 NOT_FOUND on a passive declare, 406 PRECONDITION_FAILED).
    case channelClosed(code: Int, text: String)
    /// The broker refused a published message (basic.nack).
    case publishNacked(messageID: String)
    /// A mandatory message matched no queue (basic.return).
    case unroutable(exchange: String, routingKey: String, messageID: String)
    /// No confirm arrived within the deadline.
    case confirmTimeout(pending: Int)
    /// A library-level failure in rabbitmq-c.
    case library(String)
    /// A delivery could not be written to, or read back from, the file it waits in (`SpilledBody`).
    case heldDelivery(String)
    /// The session was closed by its owner.
    case closed

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): return "invalid broker URL \(url): \(reason)"
        case .connectFailed(let why): return "cannot connect to the broker: \(why)"
        case .connectionLost(let why): return "broker connection lost: \(why)"
        case .channelClosed(let code, let text): return "broker closed the channel (\(code)): \(text)"
        case .publishNacked(let id): return "broker refused message \(id) (basic.nack)"
        case .unroutable(let exchange, let key, let id):
            return "message \(id) published to exchange '\(exchange)' with key '\(key)' matched no queue; is the topology applied? (bridgectl topology apply)"
        case .confirmTimeout(let pending): return "no publisher confirm within the deadline for \(pending) message(s)"
        case .library(let why): return "rabbitmq-c: \(why)"
        case .heldDelivery(let why): return "a delivery held in a file: \(why)"
        case .closed: return "the broker session is closed"
        }
    }

    /// A basic.nack: the broker could not take responsibility for the message (e.g. a quorum queue between leaders).
    public var isNack: Bool {
        if case .publishNacked = self { return true }
        return false
    }

    /// True when the failure is about the connection rather than the message: retry after reconnecting.
    public var isConnectionFailure: Bool {
        switch self {
        case .connectFailed, .connectionLost, .confirmTimeout, .closed: return true
        default: return false
        }
    }
}
