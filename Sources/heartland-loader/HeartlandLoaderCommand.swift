import ArgumentParser
import Foundation
import TransportSecurity
import HeartlandConnector
import Logging
import Messaging
import Sync
import WorkerRuntime

@main
struct HeartlandLoaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartland-loader",
        abstract: "Apply Sage's items, stock, customers and order fulfilment to Heartland Retail, once per record version.",
        discussion: "Heartland settings come from the environment: HEARTLAND_RETAIL_URL (or HEARTLAND_URL, + /api), "
            + "HEARTLAND_RETAIL_TOKEN or HEARTLAND_RETAIL_TOKEN_FILE.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "SQLite ledger (idempotency key → what was written) and customer links. Default: $BRIDGE_LEDGER or var/heartland-loader.sqlite.")
    var ledger: String = ProcessInfo.processInfo.environment["BRIDGE_LEDGER"] ?? "var/heartland-loader.sqlite"
    @Option(name: .customLong("sync-config"), help: "Sync policy. Default: $BRIDGE_SYNC_CONFIG or Config/sync.yaml.")
    var syncConfig: String = SyncPolicy.defaultPath

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let retail = value("HEARTLAND_RETAIL_URL").flatMap(URL.init(string:))
            ?? value("HEARTLAND_URL").flatMap(URL.init(string:))?.appendingPathComponent("api")
        else { throw ValidationError("HEARTLAND_RETAIL_URL or HEARTLAND_URL is required") }
        do { try TransportPolicy.fromEnvironment(environment).check(http: retail, name: "HEARTLAND_RETAIL_URL / HEARTLAND_URL") } catch {
            throw ValidationError(error.description)
        }
        let token: String
        if let file = value("HEARTLAND_RETAIL_TOKEN_FILE") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("HEARTLAND_RETAIL_TOKEN_FILE \(file) cannot be read") }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let text = value("HEARTLAND_RETAIL_TOKEN") {
            token = text
        } else {
            throw ValidationError("HEARTLAND_RETAIL_TOKEN (or HEARTLAND_RETAIL_TOKEN_FILE) is required")
        }
        var logger = Logger(label: "heartland-loader")
        logger.logLevel = worker.level
        let ledgerFile = try SQLiteFile.pool(path: ledger)
        let handler = HeartlandLoaderHandler(
            client: RetailMasterDataClient(retailBaseURL: retail, token: token, connectionsPerHost: worker.concurrency,
                                           logger: logger), ledger: try IdempotencyStore(database: ledgerFile),
            links: try CustomerLinks(database: ledgerFile), index: try CustomerIndex(database: ledgerFile, side: .heartland),
            policy: try SyncPolicy.load(path: syncConfig),
            // Never an older version of a record over a newer one (writes to one record also run one at a time).
            versions: try RecordVersions(database: ledgerFile))
        try await Worker.run(stage: HeartlandLoaderHandler.stage, handler: handler, options: worker)
    }
}
