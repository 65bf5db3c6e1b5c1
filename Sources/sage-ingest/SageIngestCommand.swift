import ArgumentParser
import BridgeSettings
import ConnectorHTTP
import Foundation
import SageConnector
import ServiceLifecycle
import Sync
import WorkerRuntime

@main
struct SageIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sage-ingest",
        abstract: "Poll Sage for changed items, prices, stock, customers and order fulfilment; publish each version once on bridge.events.",
        discussion: "Sage settings come from the environment: SAGE_URL, SAGE_COMPANY, SAGE_USER, SAGE_PASSWORD or SAGE_PASSWORD_FILE, "
            + "SAGE_TIMEOUT_SECONDS (SAGE_MODE must be http: the GL import folder has no master data).")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "SQLite watermarks and fingerprints. Default: $BRIDGE_SYNC_STATE or var/sage-ingest.sqlite.")
    var state: String = EnvironmentReader.current.value("BRIDGE_SYNC_STATE") ?? "var/sage-ingest.sqlite"
    @Option(name: .customLong("sync-config"), help: "Sync policy. Default: $BRIDGE_SYNC_CONFIG or Config/sync.yaml.")
    var syncConfig: String = SyncPolicy.defaultPath
    @Option(name: .customLong("poll-interval"),
            help: ArgumentHelp("Seconds between sweeps of Sage. Default: $SAGE_POLL_SECONDS or 60.", valueName: "poll-interval"))
    var pollIntervalFlag: Double?
    var pollInterval: Double { pollIntervalFlag ?? 60 }

    /// Checks the flag, or takes it from the environment (`EnvironmentReader.current`; a malformed value is refused, named).
    mutating func validate() throws {
        if let pollIntervalFlag, !(pollIntervalFlag > 0) { throw ValidationError("--poll-interval must be positive") }
        do { pollIntervalFlag = try pollIntervalFlag ?? EnvironmentReader.current.seconds("SAGE_POLL_SECONDS") } catch {
            throw ValidationError(String(describing: error))
        }
    }

    func run() async throws {
        let logger = Worker.bootstrap("sage-ingest", options: worker)
        let connection: SageConnection
        do {
            guard case .webAPI(let webAPI) = try SageSettings() else { throw ValidationError("sage-ingest needs SAGE_MODE=http (the Sage Web API)") }
            connection = webAPI
        } catch let error as SageSettings.Invalid { throw ValidationError(error.description) }
        let policy = try SyncPolicy.load(path: syncConfig)
        let publisher = try Worker.publisher("sage-ingest", options: worker)
        let sweeper = SageSweeper(client: SageMasterDataClient(connection: connection, logger: logger), state: try SyncState(path: state),
                                  policy: policy, publisher: publisher, logger: logger)
        logger.info("polling Sage", metadata: ["sage": "\(connection)", "interval_seconds": "\(pollInterval)"])
        let polling = SyncPollingService(sweeper: sweeper, interval: .milliseconds(Int64(pollInterval * 1000)), publisher: publisher, logger: logger)
        // The connectors' HTTP pools close after the last service has returned (docs/HTTP.md).
        try await HTTPPools.closing { try await Worker.run(source: "sage-ingest", publisher: publisher, options: worker, services: [polling]) }
    }
}
