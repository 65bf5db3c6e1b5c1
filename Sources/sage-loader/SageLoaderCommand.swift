import Accounting
import ArgumentParser
import Foundation
import Logging
import Messaging
import SageConnector
import SageLoader
import WorkerRuntime

@main
struct SageLoaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sage-loader",
        abstract: "Post journals to Sage Pro exactly once (Web API or GL import files), read them back, reconcile.",
        discussion: "Sage settings come from the environment: SAGE_MODE (http|file), SAGE_URL, SAGE_COMPANY, SAGE_USER, "
            + "SAGE_PASSWORD or SAGE_PASSWORD_FILE, SAGE_TIMEOUT_SECONDS, SAGE_IMPORT_DIR.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "Mapping file. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
    var mapping: String = ProcessInfo.processInfo.environment["BRIDGE_MAPPING"] ?? "Config/mapping.yaml"
    @Option(help: "SQLite ledger (idempotency key → Sage batch). Default: $BRIDGE_LEDGER or var/sage-loader.sqlite.")
    var ledger: String = ProcessInfo.processInfo.environment["BRIDGE_LEDGER"] ?? "var/sage-loader.sqlite"

    func run() async throws {
        let settings = try SageSettings()
        var logger = Logger(label: "sage-loader")
        logger.logLevel = worker.level
        let handler = SageLoaderHandler(
            client: settings.makeClient(logger: logger), ledger: try IdempotencyStore(path: ledger),
            rules: try MappingRules.load(path: mapping), company: ProcessInfo.processInfo.environment["SAGE_COMPANY"] ?? "SAMINC")
        try await Worker.run(stage: "sage-loader", handler: handler, options: worker)
    }
}
