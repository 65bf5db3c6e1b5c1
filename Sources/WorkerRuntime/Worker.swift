import Logging
import Messaging
import Prometheus
import ServiceLifecycle

/// Runs one worker process: its services and its operations endpoint in a service group that shuts down
/// gracefully on SIGTERM or SIGINT. Every main is options → handler or services → `Worker.run`:
///
/// - a **stage** (`run(stage:handler:options:)`): the stage runner consumes the stage's queue (stop consuming,
///   finish and ack in-flight work, exit 0);
/// - a **source** (`run(source:publisher:options:services:)`): no queue of its own; its services (webhook
///   receiver, pollers, forwarders) publish through one `ReliablePublisher`, kept connected from the start.
///
/// Beside them in every worker's group, `RestingMemory` gives back what the worker kept for speed once it is at rest after
/// work (`--memory-rest-seconds`).
///
/// A main calls `bootstrap(_:options:)` first, before it makes anything that logs: a logger made before it
/// writes through swift-log's default handler, not the configured one (its level, `--log-level`). A worker with HTTP
/// connectors wraps `run` in `HTTPPools.closing { }` (ConnectorHTTP), so its pools close after the last handler returned;
/// this runtime knows nothing of HTTP clients, and a worker without connectors (transformer, fraud-scorer) links none.
public enum Worker {
    /// Chooses the logging and metrics backends (once per process; later calls return a new logger on the
    /// same backends) and returns the worker's logger.
    @discardableResult
    public static func bootstrap(_ name: String, options: WorkerOptions) -> Logger {
        Bootstrap.run(label: name, level: options.level).0
    }

    /// `extraServices` run beside the stage in the same group (e.g. the alerter's operations console);
    /// they get the worker's logger.
    public static func run(stage name: String, handler: any StageHandler, options: WorkerOptions,
                           tune: (inout StageRunnerConfiguration) -> Void = { _ in },
                           extraServices: (Logger) throws -> [any Service] = { _ in [] }) async throws {
        let (logger, registry) = Bootstrap.run(label: name, level: options.level)
        let topology = try options.loadTopology()
        var configuration = StageRunnerConfiguration(stage: try topology.stage(name))
        configuration.prefetch = UInt16(options.prefetch)
        configuration.concurrency = options.concurrency
        if let spillDirectory = options.spillDirectory { configuration.spillDirectory = spillDirectory }
        configuration.breaker.basePause = .milliseconds(Int64(options.pauseSeconds * 1000))
        if let budget = options.retryBudgetSeconds { configuration.stage.retryPolicy.budget = .milliseconds(Int64(budget * 1000)) }
        configuration.traceExchange = configuration.auditExchange  // every hop, for `bridgectl trace`
        tune(&configuration)
        let connector = try options.brokerConnector(name: name, logger: logger)
        let runner = StageRunner(configuration: configuration, connector: connector,
                                 handler: InFlightMessages(stage: name, wrapping: handler), logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: runner, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if options.resolvedHTTPPort > 0 {
            services.append(.init(service: OperationsServer.make(host: options.httpHost, port: options.resolvedHTTPPort, registry: registry, logger: logger) {
                let status = runner.status
                let ready = status.connected && status.topologyPresent
                let detail = ready
                    ? (status.circuitOpen ? "connected; circuit open (target failing, consumption paused)" : "connected; topology present")
                    : "not connected to the broker" + (status.lastError.map { ": \($0)" } ?? "")
                return .init(ready: ready, detail: detail)
            }))
        }
        services += try extraServices(logger).map { .init(service: $0) }
        try await runGroup(services + resting(options, logger: logger), logger: logger)
    }

    /// The publisher a source's services share: this process's broker connection under its own user.
    public static func publisher(_ name: String, options: WorkerOptions) throws -> ReliablePublisher {
        let logger = bootstrap(name, options: options)
        return ReliablePublisher(connector: try options.brokerConnector(name: name, logger: logger), logger: logger)
    }

    /// Runs a source: `services` beside the operations endpoint, ready while `publisher` is connected. The
    /// publisher connects at once and again after every broker restart, so that readiness tells the truth before
    /// the next document; it is closed when the group has stopped.
    public static func run(source name: String, publisher: ReliablePublisher, options: WorkerOptions, services: [any Service]) async throws {
        let (logger, registry) = Bootstrap.run(label: name, level: options.level)
        var group: [ServiceGroupConfiguration.ServiceConfiguration] = services.map { .init(service: $0) }
        if options.resolvedHTTPPort > 0 {
            group.append(.init(service: OperationsServer.make(host: options.httpHost, port: options.resolvedHTTPPort, registry: registry, logger: logger) {
                let connected = publisher.isConnected
                return .init(ready: connected, detail: connected ? "connected to the broker" : "not connected to the broker yet")
            }))
        }
        let keeper = Task { await publisher.keepConnected() }
        defer { keeper.cancel() }
        try await runGroup(group + resting(options, logger: logger), logger: logger)
        keeper.cancel()
        await publisher.close()
    }

    /// Every worker gives back the memory it kept for speed once at rest after work (`RestingMemory`), unless told never to.
    private static func resting(_ options: WorkerOptions, logger: Logger) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        options.memoryRest.map { [.init(service: RestingMemory(interval: $0, logger: logger))] } ?? []
    }

    private static func runGroup(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
