import Alerter
import ArgumentParser
import BridgeSettings
import ConnectorHTTP
import Foundation
import OperationsConsole
import WorkerRuntime

@main
struct AlerterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerter", abstract: "Store alerts, audit notices and reconciliations; tell a person (log and webhook); serve the operations console.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "Operations store (SQLite). Default: $BRIDGE_OPERATIONS_DB or var/operations.sqlite.")
    var store: String = EnvironmentReader.current.value("BRIDGE_OPERATIONS_DB") ?? "var/operations.sqlite"
    @Option(help: "Webhook for alerts (JSON with `text`, as chat tools accept). Default: $BRIDGE_ALERT_WEBHOOK.")
    var alertWebhook: String?
    @Option(help: "Trace store: every hop of every message, for `bridgectl trace`. Default: $BRIDGE_TRACE_DB or var/traces.sqlite.")
    var traceStore: String = EnvironmentReader.current.value("BRIDGE_TRACE_DB") ?? "var/traces.sqlite"
    @OptionGroup var console: ConsoleOptions

    func run() async throws {
        Worker.bootstrap("alerter", options: worker)
        let webhook = try (alertWebhook ?? ProcessInfo.processInfo.environment["BRIDGE_ALERT_WEBHOOK"]).map { raw -> URL in
            guard let url = URL(string: raw), url.scheme?.hasPrefix("http") == true else { throw ValidationError("--alert-webhook \(raw) is not an http(s) URL") }
            return url
        }
        let operations = try OperationsStore(path: store)
        let customerReviews = try CustomerReviewStore(sharingFileOf: operations)  // one pool per file and process
        let worker = self.worker, console = self.console
        let handler = AlerterHandler(store: operations, webhook: webhook, traces: try TraceStore(path: traceStore), customerReviews: customerReviews)
        // The webhook's and the console's HTTP pools close after the last handler and request have returned (docs/HTTP.md).
        try await HTTPPools.closing {
            try await Worker.run(stage: "alerter", handler: handler, options: worker, extraServices: { logger in
                guard console.resolvedPort > 0 else { return [] }
                return [try console.server(operations: operations, customerReviews: customerReviews, worker: worker, logger: logger)]
            })
        }
    }
}
