import AMQP
import ArgumentParser
import Foundation
import TransportSecurity
import Logging
import Messaging

/// The options every worker takes, from flags or the environment (12-factor: configuration only
/// through environment and mounted files; secrets never in flags' defaults or in logs).
public struct WorkerOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("amqp-url"),
            help: "Broker URL (amqp:// or amqps://), or the nodes of a cluster separated by commas (failover). Default: $BRIDGE_AMQP_URL.")
    public var amqpURL: String?

    @Option(name: .customLong("amqp-node-order"),
            help: "With several broker nodes: start at a random one (replicas spread over the cluster) or at the first listed. Default: $BRIDGE_AMQP_NODE_ORDER or random.")
    public var amqpNodeOrder: String = ProcessInfo.processInfo.environment["BRIDGE_AMQP_NODE_ORDER"] ?? "random"

    @Option(help: "Topology definitions file. Default: $BRIDGE_TOPOLOGY or Topology/definitions.json.")
    public var topology: String?

    @Option(name: .customLong("http-host"), help: "Address of the health and metrics endpoint.")
    public var httpHost: String = ProcessInfo.processInfo.environment["BRIDGE_HTTP_HOST"] ?? "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "Port of /health/live, /health/ready and /metrics (0: none). Default: $BRIDGE_HTTP_PORT or 0.")
    public var httpPort: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = ProcessInfo.processInfo.environment["BRIDGE_LOG_LEVEL"] ?? "info"

    @Option(name: .customLong("pause-seconds"),
            help: "First pause when the stage's target keeps failing and sent no Retry-After (circuit breaker); each re-opening doubles the last pause, up to 60 s. Default: $BRIDGE_PAUSE_SECONDS or 2.")
    public var pauseSeconds: Double = ProcessInfo.processInfo.environment["BRIDGE_PAUSE_SECONDS"].flatMap(Double.init) ?? 2

    @Option(name: .customLong("retry-budget-seconds"),
            help: "How long a message whose target keeps failing is retried before it is parked (after one attempt per delay tier at least). Default: $BRIDGE_RETRY_BUDGET_SECONDS or the sum of the delay tiers.")
    public var retryBudgetSeconds: Double? = ProcessInfo.processInfo.environment["BRIDGE_RETRY_BUDGET_SECONDS"].flatMap(Double.init)

    @Option(help: "Messages the broker hands this replica ahead of the handlers (prefetch); a small value lets replicas share a backlog. Default: $BRIDGE_PREFETCH or 200.")
    public var prefetch: Int = ProcessInfo.processInfo.environment["BRIDGE_PREFETCH"].flatMap(Int.init) ?? 200

    @Option(help: "Handlers running at once (within a batch); a worker that calls Sage or Heartland also keeps at most this many connections open to each (docs/HTTP.md). Default: $BRIDGE_CONCURRENCY or 8.")
    public var concurrency: Int = ProcessInfo.processInfo.environment["BRIDGE_CONCURRENCY"].flatMap(Int.init) ?? 8

    public init() {}

    public func validate() throws {
        guard BrokerConnector.NodeOrder(rawValue: amqpNodeOrder) != nil else {
            throw ValidationError("--amqp-node-order must be random or listed, not \(amqpNodeOrder)")
        }
        guard (1...Int(UInt16.max)).contains(prefetch) else { throw ValidationError("--prefetch must be between 1 and 65535, not \(prefetch)") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1, not \(concurrency)") }
        guard pauseSeconds > 0 else { throw ValidationError("--pause-seconds must be positive") }
        if let retryBudgetSeconds, retryBudgetSeconds <= 0 { throw ValidationError("--retry-budget-seconds must be positive") }
    }

    /// The broker's nodes: one URL, or a cluster's nodes separated by commas.
    public func brokerURLs() throws -> [AMQPURL] {
        guard let raw = amqpURL ?? ProcessInfo.processInfo.environment["BRIDGE_AMQP_URL"], !raw.isEmpty else {
            throw ValidationError("no broker URL: pass --amqp-url or set BRIDGE_AMQP_URL (e.g. amqp://user:pass@127.0.0.1:5672/)")
        }
        let urls = try AMQPURL.list(raw)
        // Refused at start-up, not at every reconnection.
        do {
            let policy = try TransportPolicy.fromEnvironment()
            for url in urls { try url.checkTransport(policy, name: "--amqp-url / BRIDGE_AMQP_URL") }
        } catch {
            throw ValidationError(error.description)
        }
        return urls
    }

    /// Connects this process to the broker's nodes (fails over between them).
    public func brokerConnector(name: String, logger: Logger) throws -> BrokerConnector {
        BrokerConnector(urls: try brokerURLs(), order: BrokerConnector.NodeOrder(rawValue: amqpNodeOrder) ?? .random, name: name, logger: logger)
    }

    public func loadTopology() throws -> Topology {
        try Topology.load(from: topology ?? Topology.defaultPath())
    }

    public var resolvedHTTPPort: Int {
        httpPort ?? ProcessInfo.processInfo.environment["BRIDGE_HTTP_PORT"].flatMap(Int.init) ?? 0
    }

    public var level: Logger.Level { Logger.Level(rawValue: logLevel.lowercased()) ?? .info }
}
