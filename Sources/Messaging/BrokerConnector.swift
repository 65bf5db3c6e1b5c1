import AMQP
import BridgeClock
import Logging
import Synchronization

/// Opens sessions, waiting with capped exponential backoff and full jitter while the broker is away.
///
/// With the nodes of a cluster it spreads and fails over: each process starts at a random node (so that
/// replicas spread over the cluster) or, with `NodeOrder.listed`, at the first; every new connection starts at
/// the node after the one the last session used (the usual reason for a new connection is that its node went
/// away). A round that reaches no node is followed by the backoff. Why not prefer the work queue's leader: docs/DEPLOYMENT.md, "Cluster".
public struct BrokerConnector: Sendable {
    public let urls: [AMQPURL]
    public var name: String
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var logger: Logger
    private let rotation: NodeRotation

    /// The first node of the list (single-node installations have only that one).
    public var url: AMQPURL { urls[0] }

    /// Where a process starts in its list of nodes.
    public enum NodeOrder: String, Sendable, CaseIterable {
        /// A random node: replicas spread over the cluster (the default).
        case random
        /// The first node listed: an operator's choice, e.g. the node that leads the stage's queue.
        case listed
    }

    public init(url: AMQPURL, name: String, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(10), logger: Logger) {
        self.init(urls: [url], name: name, initialBackoff: initialBackoff, maxBackoff: maxBackoff, logger: logger)
    }

    /// `urls` must not be empty.
    public init(urls: [AMQPURL], order: NodeOrder = .random, name: String, initialBackoff: Duration = .milliseconds(200),
                maxBackoff: Duration = .seconds(10), logger: Logger) {
        precondition(!urls.isEmpty, "BrokerConnector needs at least one broker URL")
        self.urls = urls
        self.name = name
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.logger = logger
        self.rotation = NodeRotation(start: order == .random ? Int.random(in: 0..<urls.count) : 0)
    }

    /// Connects, retrying until it succeeds or the task is cancelled. `setup` runs on each new session
    /// (declarations); a failing setup counts as a failed attempt.
    public func connect(until stop: @Sendable () -> Bool = { false },
                        setup: @Sendable (AMQPSession) async throws -> Void = { _ in }) async throws -> AMQPSession {
        var backoff = initialBackoff
        var attempt = 0
        while true {
            try Task.checkCancellation()
            if stop() { throw CancellationError() }
            attempt += 1
            let url = urls[rotation.take() % urls.count]
            do {
                let session = try await AMQPSession.connect(url: url, name: name, logger: logger)
                do {
                    try await setup(session)
                } catch {
                    await session.close()
                    throw error
                }
                if attempt > 1 || urls.count > 1 {
                    logger.info("connected to the broker", metadata: ["attempts": "\(attempt)", "broker": "\(url)"])
                }
                return session
            } catch {
                let level: Logger.Level = attempt == 1 ? .warning : (attempt % 10 == 0 ? .error : .info)
                let endOfRound = attempt % urls.count == 0
                logger.log(level: level, endOfRound ? "broker not reachable; retrying" : "broker node not reachable; trying the next", metadata: [
                    "attempt": "\(attempt)", "broker": "\(url)", "error": "\(error)", "backoff_ms": "\(endOfRound ? backoff.milliseconds : 0)",
                ])
                guard endOfRound else { continue }
                let jittered = Duration.milliseconds(Int64.random(in: backoff.milliseconds / 2...max(backoff.milliseconds / 2, backoff.milliseconds)))
                try await Task.sleep(for: jittered)
                backoff = min(backoff * 2, maxBackoff)
            }
        }
    }
}

/// The index of the node to try next, shared by the copies of one connector.
private final class NodeRotation: Sendable {
    private let next: Mutex<Int>
    init(start: Int) { next = Mutex(start) }
    func take() -> Int {
        next.withLock { value in
            defer { value = value &+ 1 }
            return value
        }
    }
}
