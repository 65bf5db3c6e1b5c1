import ArgumentParser
import ConnectorHTTP
import Foundation
import BridgeSettings
import HeartlandConnector
import Messaging
import Sync
import WorkerRuntime

@main
struct HeartlandLoaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartland-loader",
        abstract: "Apply Sage's items, stock, customers and order fulfilment to Heartland Retail, once per record version.",
        discussion: "Heartland settings come from the environment: HEARTLAND_RETAIL_URL (or HEARTLAND_URL, + /api), "
            + "HEARTLAND_RETAIL_TOKEN or HEARTLAND_RETAIL_TOKEN_FILE; HEARTLAND_READ_RETRIES (default 2) times a read answered 5xx "
            + "or cut off is asked again at once.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "SQLite ledger (idempotency key → what was written) and customer links. Default: $BRIDGE_LEDGER or var/heartland-loader.sqlite.")
    var ledger: String = EnvironmentReader.current.value("BRIDGE_LEDGER") ?? "var/heartland-loader.sqlite"
    @Option(name: .customLong("sync-config"), help: "Sync policy. Default: $BRIDGE_SYNC_CONFIG or Config/sync.yaml.")
    var syncConfig: String = SyncPolicy.defaultPath

    func run() async throws {
        let logger = Worker.bootstrap(HeartlandLoaderHandler.stage, options: worker)
        let retail: URL, token: String, readRetries: Int
        do {
            let environment = EnvironmentReader()
            if let url = try environment.httpURL("HEARTLAND_RETAIL_URL") {
                retail = url
            } else if let root = try environment.httpURL("HEARTLAND_URL") {
                retail = root.appendingPathComponent("api")
            } else {
                throw SettingsError("HEARTLAND_RETAIL_URL or HEARTLAND_URL is required")
            }
            token = try environment.requiredSecret("HEARTLAND_RETAIL_TOKEN")
            readRetries = try environment.integer("HEARTLAND_READ_RETRIES", in: 0...10, default: HeartlandConfiguration.defaultReadRetries)
        } catch { throw ValidationError("\(error)") }
        let ledgerFile = try SQLiteFile.pool(path: ledger)
        let handler = HeartlandLoaderHandler(
            client: RetailMasterDataClient(retailBaseURL: retail, token: token, connectionsPerHost: worker.concurrency,
                                           readRetries: readRetries, logger: logger), ledger: try IdempotencyStore(database: ledgerFile),
            links: try CustomerLinks(database: ledgerFile), index: try CustomerIndex(database: ledgerFile, side: .heartland),
            policy: try SyncPolicy.load(path: syncConfig),
            // Never an older version of a record over a newer one (writes to one record also run one at a time).
            versions: try RecordVersions(database: ledgerFile))
        // The connectors' HTTP pools close after the last handler has returned (docs/HTTP.md).
        try await HTTPPools.closing { try await Worker.run(stage: HeartlandLoaderHandler.stage, handler: handler, options: worker) }
    }
}
