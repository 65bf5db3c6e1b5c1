import AMQP
import Logging

/// Opens sessions, waiting with capped exponential backoff and full jitter while the broker is away.
public struct BrokerConnector: Sendable {
    public var url: AMQPURL
    public var name: String
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var logger: Logger

    public init(url: AMQPURL, name: String, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(10), logger: Logger) {
        self.url = url
        self.name = name
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.logger = logger
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
            do {
                let session = try await AMQPSession.connect(url: url, name: name, logger: logger)
                do {
                    try await setup(session)
                } catch {
                    await session.close()
                    throw error
                }
                if attempt > 1 { logger.info("connected to the broker", metadata: ["attempts": "\(attempt)", "broker": "\(url)"]) }
                return session
            } catch {
                let level: Logger.Level = attempt == 1 ? .warning : (attempt % 10 == 0 ? .error : .info)
                logger.log(level: level, "broker not reachable; retrying", metadata: [
                    "attempt": "\(attempt)", "broker": "\(url)", "error": "\(error)", "backoff_ms": "\(backoff.milliseconds)",
                ])
                let jittered = Duration.milliseconds(Int64.random(in: backoff.milliseconds / 2...max(backoff.milliseconds / 2, backoff.milliseconds)))
                try await Task.sleep(for: jittered)
                backoff = min(backoff * 2, maxBackoff)
            }
        }
    }
}

extension Duration {
    /// Whole milliseconds (for logs, headers, `Thread.sleep`-free arithmetic).
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
    /// Seconds as a `Double` (for `Date` arithmetic and `TimeInterval` APIs).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
