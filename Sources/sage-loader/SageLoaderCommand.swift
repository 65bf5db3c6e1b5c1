import Accounting
import ArgumentParser
import BridgeSettings
import ConnectorHTTP
import Foundation
import Logging
import Messaging
import SageConnector
import SageLoader
import Sync
import WorkerRuntime

@main
struct SageLoaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sage-loader",
        abstract: "Post journals to Sage Pro exactly once (Web API or GL import files), read them back, reconcile; apply Heartland's customers and orders.",
        discussion: "Sage settings come from the environment: SAGE_MODE (http|file), SAGE_URL, SAGE_COMPANY, SAGE_USER, "
            + "SAGE_PASSWORD or SAGE_PASSWORD_FILE, SAGE_TIMEOUT_SECONDS, SAGE_IMPORT_DIR. --concurrency (BRIDGE_CONCURRENCY) is also the number "
            + "of connections kept open to Sage; --prefetch (BRIDGE_PREFETCH) how many journals one replica takes ahead.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "Mapping file. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
    var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"
    @Option(help: "SQLite ledger (idempotency key → Sage batch). Default: $BRIDGE_LEDGER or var/sage-loader.sqlite.")
    var ledger: String = EnvironmentReader.current.value("BRIDGE_LEDGER") ?? "var/sage-loader.sqlite"
    @Option(name: .customLong("sync-config"), help: "Sync policy for customers and orders. Default: $BRIDGE_SYNC_CONFIG or Config/sync.yaml.")
    var syncConfig: String = SyncPolicy.defaultPath

    func run() async throws {
        let logger = Worker.bootstrap("sage-loader", options: worker)
        var settings = try SageSettings()
        if case .webAPI(var connection) = settings {
            // Every handler running at once has its own connection to Sage, and no more are opened (docs/HTTP.md).
            connection.connectionsPerHost = worker.concurrency
            settings = .webAPI(connection)
        }
        // The ledger and the customer links share the ledger's file, and so one pool.
        let ledgerFile = try SQLiteFile.pool(path: ledger)
        let store = try IdempotencyStore(database: ledgerFile)
        let links = try CustomerLinks(database: ledgerFile)
        let receivablesReadBack: ReceivablesReadBack? = if case .webAPI(let connection) = settings {
            ReceivablesReadBack(client: SageReceivablesClient(connection: connection, logger: logger),
                                link: { try await links.sage(forHeartland: $0) })
        } else {
            nil
        }
        let client = settings.makeClient(logger: logger)
        let company = SageSettings.company()
        let inDoubtWindow = settings.timeout + .seconds(5)
        // The mapping read again when it changes (a save on the console's mapping page), as the transformer does.
        let journals = try JournalsWithMappingInForce(path: mapping, logger: logger) { rules in
            SageLoaderHandler(client: client, ledger: store, rules: rules, company: company,
                              // A post sent by a handler that then died lands within the client's timeout.
                              inDoubtWindow: inDoubtWindow, receivables: receivablesReadBack)
        }
        var masterData: SageMasterDataHandler?
        if case .webAPI(let connection) = settings {
            masterData = SageMasterDataHandler(client: SageMasterDataClient(connection: connection, logger: logger), ledger: store,
                                               links: links, index: try CustomerIndex(database: ledgerFile, side: .sage),
                                               policy: try SyncPolicy.load(path: syncConfig), versions: try RecordVersions(database: ledgerFile),
                                               receivables: Self.receivables(ReceivablesPoster(client: SageReceivablesClient(connection: connection,
                                                                                                                             logger: logger))))
        }
        let handler = SageCommandDispatch(journals: journals, masterData: masterData)
        // The connectors' HTTP pools close after the last handler has returned (docs/HTTP.md).
        try await HTTPPools.closing { try await Worker.run(stage: "sage-loader", handler: handler, options: worker) }
    }
}

extension SageLoaderCommand {
    /// The AR poster as the master-data half calls it (tickets' invoices and receipts, docs/ACCOUNTING-AR.md).
    static func receivables(_ poster: ReceivablesPoster) -> ReceivablesHooks {
        @Sendable func describe(_ posted: SageARPostedDocument) -> String {
            "\(posted.DocumentType) \(posted.DocumentNumber) of Sage customer \(posted.CustomerNumber), batch \(posted.BatchNumber.map(String.init) ?? "?")"
                + (posted.CheckReceiptNumber.map { $0.isEmpty ? "" : ", check/receipt \($0)" } ?? "")
                + (posted.DocumentType == "Receipt" ? ReceivablesPoster.applicationSummary(posted) : "")
        }
        @Sendable func read(_ posted: SageARPostedDocument) -> ReceivablesHooks.Posted {
            ReceivablesHooks.Posted(detail: describe(posted), sage: ReceivablesPoster.receivable(posted))
        }
        return ReceivablesHooks(posted: { try await poster.posted($0).map(read) },
                                post: { read(try await poster.post($0, customer: $1, after: $2)) })
    }
}
