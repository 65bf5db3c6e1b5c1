import ConnectorHTTP
import Logging
import Messaging
import Prometheus
import ServiceLifecycle

/// Runs one stage: the stage runner and its operations endpoint in a service group that shuts down
/// gracefully on SIGTERM or SIGINT (stop consuming, finish and ack in-flight work, exit 0).
public enum Worker {
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
            let server = OperationsServer.make(host: options.httpHost, port: options.resolvedHTTPPort, registry: registry, logger: logger) {
                let status = runner.status
                let ready = status.connected && status.topologyPresent
                let detail = ready
                    ? (status.circuitOpen ? "connected; circuit open (target failing, consumption paused)" : "connected; topology present")
                    : "not connected to the broker" + (status.lastError.map { ": \($0)" } ?? "")
                return .init(ready: ready, detail: detail)
            }
            services.append(.init(service: server))
        }
        services += try extraServices(logger).map { .init(service: $0) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // The connectors' HTTP pools close after the last handler has returned (docs/HTTP.md).
        try await HTTPPools.closing { try await group.run() }
    }
}
