import Alerter
import ArgumentParser
import Foundation
import WorkerRuntime

@main
struct AlerterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerter", abstract: "Store alerts, audit notices and reconciliations; tell a person (log and webhook).")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "Operations store (SQLite). Default: $BRIDGE_OPERATIONS_DB or var/operations.sqlite.")
    var store: String = ProcessInfo.processInfo.environment["BRIDGE_OPERATIONS_DB"] ?? "var/operations.sqlite"
    @Option(help: "Webhook for alerts (JSON with `text`, as chat tools accept). Default: $BRIDGE_ALERT_WEBHOOK.")
    var alertWebhook: String?

    func run() async throws {
        let webhook = try (alertWebhook ?? ProcessInfo.processInfo.environment["BRIDGE_ALERT_WEBHOOK"]).map { raw -> URL in
            guard let url = URL(string: raw), url.scheme?.hasPrefix("http") == true else { throw ValidationError("--alert-webhook \(raw) is not an http(s) URL") }
            return url
        }
        try await Worker.run(stage: "alerter", handler: AlerterHandler(store: try OperationsStore(path: store), webhook: webhook), options: worker)
    }
}
