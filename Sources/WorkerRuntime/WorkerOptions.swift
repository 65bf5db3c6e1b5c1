import AMQP
import ArgumentParser
import BridgeSettings
import Foundation
import TransportSecurity
import Logging
import Messaging

/// The options every worker takes, from flags or the environment (12-factor: configuration only
/// through environment and mounted files; secrets never in flags' defaults or in logs).
///
/// A flag not given takes its default from the environment through `EnvironmentReader.current` (docs/ARCHITECTURE.md,
/// "Settings"): a host in the option's default, the numbers and words in `validate()`, so that a malformed value is
/// refused with an error naming the variable (`BRIDGE_PREFETCH must be a whole number in 1…65535, not 'many'`) and a
/// flag given wins over the variable.
public struct WorkerOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("amqp-url"),
            help: "Broker URL (amqp:// or amqps://), or the nodes of a cluster separated by commas (failover). Default: $BRIDGE_AMQP_URL.")
    public var amqpURL: String?

    @Option(name: .customLong("amqp-node-order"),
            help: ArgumentHelp("With several broker nodes: start at a random one (replicas spread over the cluster) or at the first listed. Default: $BRIDGE_AMQP_NODE_ORDER or random.",
                               valueName: "random|listed"))
    var amqpNodeOrderFlag: String?

    @Option(help: "Topology definitions file. Default: $BRIDGE_TOPOLOGY or Topology/definitions.json.")
    public var topology: String?

    @Option(name: .customLong("http-host"), help: "Address of the health and metrics endpoint. Default: $BRIDGE_HTTP_HOST or 127.0.0.1.")
    public var httpHost: String = EnvironmentReader.current.value("BRIDGE_HTTP_HOST") ?? "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "Port of /health/live, /health/ready and /metrics (0: none). Default: $BRIDGE_HTTP_PORT or 0.")
    public var httpPort: Int?

    @Option(name: .customLong("log-level"),
            help: ArgumentHelp("trace, debug, info, notice, warning, error, critical. Default: $BRIDGE_LOG_LEVEL or info.", valueName: "log-level"))
    var logLevelFlag: String?

    @Option(name: .customLong("pause-seconds"),
            help: ArgumentHelp("First pause when the stage's target keeps failing and sent no Retry-After (circuit breaker); each re-opening doubles the last pause, up to 60 s. Default: $BRIDGE_PAUSE_SECONDS or 2.",
                               valueName: "pause-seconds"))
    var pauseSecondsFlag: Double?

    @Option(name: .customLong("retry-budget-seconds"),
            help: "How long a message whose target keeps failing is retried before it is parked (after one attempt per delay tier at least). Default: $BRIDGE_RETRY_BUDGET_SECONDS or the sum of the delay tiers.")
    public var retryBudgetSeconds: Double?

    @Option(name: .customLong("prefetch"),
            help: ArgumentHelp("Messages the broker hands this replica ahead of the handlers (prefetch); a small value lets replicas share a backlog. Default: $BRIDGE_PREFETCH or 200.",
                               valueName: "prefetch"))
    var prefetchFlag: Int?

    @Option(name: .customLong("concurrency"),
            help: ArgumentHelp("Handlers running at once (within a batch); a worker that calls Sage or Heartland also keeps at most this many connections open to each (docs/HTTP.md). Default: $BRIDGE_CONCURRENCY or 8.",
                               valueName: "concurrency"))
    var concurrencyFlag: Int?

    @Option(name: .customLong("spill-dir"),
            help: ArgumentHelp("Where deliveries of 64 KiB or more that the broker sends beyond 4 MiB of bodies in memory wait for their turn, in files removed as soon as made: on a disk, not a tmpfs (its pages are memory). Default: $BRIDGE_SPILL_DIR, else $TMPDIR, else /tmp.",
                               valueName: "directory"))
    public var spillDirectory: String?

    @Option(name: .customLong("memory-rest-seconds"),
            help: ArgumentHelp("After work, the worker gives back what it kept for speed (SQLite caches and idle connections, the C library's free memory) once it has used under 1 % of a core for this long (0: never). Default: $BRIDGE_MEMORY_REST_SECONDS or 5.",
                               valueName: "seconds"))
    var memoryRestSecondsFlag: Double?

    public init() {}

    /// With several broker nodes, where to start: `random` or `listed`.
    public var amqpNodeOrder: String { amqpNodeOrderFlag ?? BrokerConnector.NodeOrder.random.rawValue }
    public var logLevel: String { logLevelFlag ?? Logger.Level.info.rawValue }
    public var pauseSeconds: Double { pauseSecondsFlag ?? 2 }
    public var prefetch: Int { prefetchFlag ?? 200 }
    public var concurrency: Int { concurrencyFlag ?? 8 }
    /// How long a rest the worker waits for before it gives back the memory it kept for speed (`RestingMemory`); nil: never.
    public var memoryRest: Duration? {
        let seconds = memoryRestSecondsFlag ?? 5
        return seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : nil
    }

    /// Checks the flags given, and takes each one not given from the environment (`EnvironmentReader.current`).
    public mutating func validate() throws {
        guard amqpNodeOrderFlag.map({ BrokerConnector.NodeOrder(rawValue: $0) != nil }) ?? true else {
            throw ValidationError("--amqp-node-order must be random or listed, not \(amqpNodeOrder)")
        }
        guard logLevelFlag.map({ Logger.Level(rawValue: $0.lowercased()) != nil }) ?? true else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not \(logLevel)")
        }
        if let prefetchFlag, !(1...Int(UInt16.max)).contains(prefetchFlag) {
            throw ValidationError("--prefetch must be between 1 and 65535, not \(prefetchFlag)")
        }
        if let concurrencyFlag, concurrencyFlag < 1 { throw ValidationError("--concurrency must be at least 1, not \(concurrencyFlag)") }
        if let pauseSecondsFlag, !(pauseSecondsFlag > 0) { throw ValidationError("--pause-seconds must be positive") }
        if let retryBudgetSeconds, !(retryBudgetSeconds > 0) { throw ValidationError("--retry-budget-seconds must be positive") }
        if let memoryRestSecondsFlag, !(memoryRestSecondsFlag >= 0) { throw ValidationError("--memory-rest-seconds must be 0 or more") }
        if let httpPort, !(0...Int(UInt16.max)).contains(httpPort) { throw ValidationError("--http-port must be between 0 and 65535, not \(httpPort)") }
        let environment = EnvironmentReader.current
        do {
            amqpNodeOrderFlag = try amqpNodeOrderFlag ?? environment.choice("BRIDGE_AMQP_NODE_ORDER", of: BrokerConnector.NodeOrder.self)?.rawValue
            logLevelFlag = try logLevelFlag ?? environment.choice("BRIDGE_LOG_LEVEL", of: Logger.Level.self)?.rawValue
            pauseSecondsFlag = try pauseSecondsFlag ?? environment.seconds("BRIDGE_PAUSE_SECONDS")
            retryBudgetSeconds = try retryBudgetSeconds ?? environment.seconds("BRIDGE_RETRY_BUDGET_SECONDS")
            prefetchFlag = try prefetchFlag ?? environment.integer("BRIDGE_PREFETCH", in: 1...Int(UInt16.max))
            concurrencyFlag = try concurrencyFlag ?? environment.integer("BRIDGE_CONCURRENCY", in: 1...Int.max)
            httpPort = try httpPort ?? environment.integer("BRIDGE_HTTP_PORT", in: 0...Int(UInt16.max))
            memoryRestSecondsFlag = try memoryRestSecondsFlag ?? environment.seconds("BRIDGE_MEMORY_REST_SECONDS", zeroAllowed: true)
        } catch {
            throw ValidationError(String(describing: error))
        }
        spillDirectory = spillDirectory ?? environment.value("BRIDGE_SPILL_DIR")
        var isDirectory: ObjCBool = false
        if let spillDirectory, !(FileManager.default.fileExists(atPath: spillDirectory, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw ValidationError("--spill-dir / BRIDGE_SPILL_DIR: \(spillDirectory) is not a directory")
        }
    }

    /// The broker's nodes: one URL, or a cluster's nodes separated by commas.
    public func brokerURLs() throws -> [AMQPURL] {
        let environment = EnvironmentReader.current
        guard let raw = amqpURL ?? environment.value("BRIDGE_AMQP_URL"), !raw.isEmpty else {
            throw ValidationError("no broker URL: pass --amqp-url or set BRIDGE_AMQP_URL (e.g. amqp://user:pass@127.0.0.1:5672/)")
        }
        let urls = try AMQPURL.list(raw)
        // Refused at start-up, not at every reconnection.
        do {
            let policy = try TransportPolicy.fromEnvironment(environment.environment)
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

    /// The port of the health and metrics endpoint: `--http-port`, `$BRIDGE_HTTP_PORT` (after `validate()`), else 0 (none).
    public var resolvedHTTPPort: Int { httpPort ?? 0 }

    public var level: Logger.Level { Logger.Level(rawValue: logLevel.lowercased()) ?? .info }
}
