import ArgumentParser
import BridgeClock
import BridgeSettings
import ConnectorHTTP
import Foundation
import HeartlandConnector
import HeartlandIngest
import ServiceLifecycle
import Sync
import WorkerRuntime

@main
struct HeartlandIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartland-ingest",
        abstract: "Receive Heartland webhooks and poll for closed batches; publish each batch once on bridge.events, and the gateway feed on bridge.scoring.",
        discussion: """
            Heartland settings come from the environment: HEARTLAND_URL (or HEARTLAND_GP_API_URL, HEARTLAND_RETAIL_URL, \
            HEARTLAND_PAYROLL_URL), HEARTLAND_APP_ID, HEARTLAND_APP_KEY[_FILE], HEARTLAND_RETAIL_TOKEN[_FILE], \
            HEARTLAND_WEBHOOK_SECRET[_FILE] (required: the webhook signing secret, never the app key; docs/SECURITY.md). \
            The first line on stdout is "webhooks listening on <url>".
            """)

    @OptionGroup var worker: WorkerOptions
    @Option(help: "SQLite inbox. Default: $BRIDGE_INBOX or var/heartland-ingest.sqlite.")
    var inbox: String = EnvironmentReader.current.value("BRIDGE_INBOX") ?? "var/heartland-ingest.sqlite"
    @Option(name: .customLong("webhook-host"), help: "Address the webhook receiver listens on.")
    var webhookHost: String = EnvironmentReader.current.value("BRIDGE_WEBHOOK_HOST") ?? "127.0.0.1"
    // The numbers below: the flag, else the variable (read in `validate()`: a malformed one is refused, named), else the default.
    @Option(name: .customLong("webhook-port"),
            help: ArgumentHelp("Webhook receiver port (0: a free port). Default: $BRIDGE_WEBHOOK_PORT or 8088.", valueName: "webhook-port"))
    var webhookPortFlag: Int?
    var webhookPort: Int { webhookPortFlag ?? 8088 }
    @Option(name: .customLong("webhook-max-age"),
            help: ArgumentHelp("Seconds a delivery's signed timestamp may be from now, either way; older ones are refused. Default: $HEARTLAND_WEBHOOK_MAX_AGE_SECONDS or 300.",
                               valueName: "webhook-max-age"))
    var webhookMaxAgeFlag: Double?
    var webhookMaxAge: Double { webhookMaxAgeFlag ?? WebhookVerifier.defaultMaxAge }
    @Option(name: .customLong("webhook-max-bytes"),
            help: ArgumentHelp("Larger webhook bodies are refused with 413. Default: $HEARTLAND_WEBHOOK_MAX_BYTES or 1048576.", valueName: "webhook-max-bytes"))
    var webhookMaxBytesFlag: Int?
    var webhookMaxBytes: Int { webhookMaxBytesFlag ?? WebhookReceiver.defaultMaxBodyBytes }
    @Option(name: .customLong("poll-interval"),
            help: ArgumentHelp("Seconds between polls for closed batches (0: no polling). Default: $HEARTLAND_POLL_SECONDS or 300.", valueName: "poll-interval"))
    var pollIntervalFlag: Double?
    var pollInterval: Double { pollIntervalFlag ?? 300 }
    @Option(name: .customLong("gateway-feed-interval"),
            help: ArgumentHelp("Seconds between reads of GP-API's transaction list for the fraud scorer's gateway feed: every transaction, declined, pre-authorised and reversed ones too, published to bridge.scoring (0: off). Default: $HEARTLAND_GATEWAY_FEED_SECONDS or 5.",
                               valueName: "gateway-feed-interval"))
    var gatewayFeedIntervalFlag: Double?
    var gatewayFeedInterval: Double { gatewayFeedIntervalFlag ?? 5 }
    @Option(name: .customLong("gateway-feed-catch-up"), help: "On the gateway feed's first start, how many seconds before now it begins.")
    var gatewayFeedCatchUp: Double = 900
    @Option(name: .customLong("catch-up-days"), help: "Business days polled back on a first start.")
    var catchUpDays: Int = 7
    @Option(help: "Now, for tests and demos: an instant (2026-12-02T07:30:00Z) or an offset in seconds; the poller's business days follow it. Default: $BRIDGE_CLOCK or the system clock.")
    var clock: String?
    @Option(name: .customLong("retry-initial"), help: "First wait, in seconds, after Heartland failed to serve a batch (doubles up to --retry-max).")
    var retryInitial: Double = 1
    @Option(name: .customLong("retry-max"), help: "Longest wait, in seconds, between attempts at one batch.")
    var retryMax: Double = 300
    @Option(name: .customLong("sync-poll-interval"),
            help: ArgumentHelp("Seconds between sweeps of Heartland customers and sales orders for the two-way sync (0: off). Default: $HEARTLAND_SYNC_POLL_SECONDS or 60.",
                               valueName: "sync-poll-interval"))
    var syncPollIntervalFlag: Double?
    var syncPollInterval: Double { syncPollIntervalFlag ?? 60 }
    @Option(name: .customLong("sync-state"), help: "SQLite watermarks and fingerprints of the sync. Default: $BRIDGE_SYNC_STATE or var/heartland-sync.sqlite.")
    var syncState: String = EnvironmentReader.current.value("BRIDGE_SYNC_STATE") ?? "var/heartland-sync.sqlite"
    @Option(name: .customLong("sync-config"), help: "Sync policy. Default: $BRIDGE_SYNC_CONFIG or Config/sync.yaml.")
    var syncConfig: String = SyncPolicy.defaultPath

    mutating func validate() throws {
        let environment = EnvironmentReader.current
        do {
            webhookPortFlag = try webhookPortFlag ?? environment.integer("BRIDGE_WEBHOOK_PORT", in: 0...65535)
            webhookMaxAgeFlag = try webhookMaxAgeFlag ?? environment.seconds("HEARTLAND_WEBHOOK_MAX_AGE_SECONDS")
            webhookMaxBytesFlag = try webhookMaxBytesFlag ?? environment.integer("HEARTLAND_WEBHOOK_MAX_BYTES", in: 1...Int.max)
            pollIntervalFlag = try pollIntervalFlag ?? environment.seconds("HEARTLAND_POLL_SECONDS", zeroAllowed: true)
            gatewayFeedIntervalFlag = try gatewayFeedIntervalFlag ?? environment.seconds("HEARTLAND_GATEWAY_FEED_SECONDS", zeroAllowed: true)
            syncPollIntervalFlag = try syncPollIntervalFlag ?? environment.seconds("HEARTLAND_SYNC_POLL_SECONDS", zeroAllowed: true)
        } catch {
            throw ValidationError(String(describing: error))
        }
        guard gatewayFeedInterval >= 0, gatewayFeedCatchUp >= 0 else { throw ValidationError("--gateway-feed-interval and --gateway-feed-catch-up must not be negative") }
        guard pollInterval >= 0, syncPollInterval >= 0, retryInitial > 0, retryMax >= retryInitial, catchUpDays >= 0 else {
            throw ValidationError("--poll-interval ≥ 0, --retry-initial > 0, --retry-max ≥ --retry-initial and --catch-up-days ≥ 0")
        }
        guard webhookMaxAge > 0, webhookMaxBytes > 0 else { throw ValidationError("--webhook-max-age and --webhook-max-bytes must be positive") }
    }

    func run() async throws {
        let logger = Worker.bootstrap("heartland-ingest", options: worker)
        let settings: HeartlandSettings
        let webhookSecret: String
        do {
            settings = try HeartlandSettings()
            webhookSecret = try settings.requireWebhookSecret()
        } catch { throw ValidationError(error.description) }
        let now = try BridgeClock.resolve(flag: clock)
        let store = try IngestInbox(path: inbox)
        let client = URLSessionHeartlandClient(configuration: settings.configuration, logger: logger)
        let publisher = try Worker.publisher("heartland-ingest", options: worker)
        let alerts = IngestAlerts(publisher: publisher, logger: logger)
        var forwarding = InboxForwarder.Settings()
        forwarding.initialBackoff = .milliseconds(Int64(retryInitial * 1000))
        forwarding.maxBackoff = .milliseconds(Int64(retryMax * 1000))
        let source = HeartlandEventSource(client: client, inbox: store)
        let receiver = WebhookReceiver(
            verifier: WebhookVerifier(appKey: settings.configuration.credentials.appKey, webhookSecret: webhookSecret, maxAge: webhookMaxAge),
            inbox: store, maxBodyBytes: webhookMaxBytes, now: { now.now() }, logger: logger)
        let host = webhookHost
        var services: [any Service] = [
            InboxForwarder(inbox: store, source: source, publisher: publisher, alerts: alerts, settings: forwarding, logger: logger),
            receiver.application(host: host, port: webhookPort) { port in
                FileHandle.standardOutput.write(Data("webhooks listening on http://\(host):\(port)\(WebhookReceiver.path)\n".utf8))
            },
        ]
        if pollInterval > 0 {
            var polling = HeartlandPoller.Settings()
            polling.interval = .milliseconds(Int64(pollInterval * 1000))
            polling.catchUpDays = catchUpDays
            services.append(HeartlandPoller(client: client, inbox: store, alerts: alerts, settings: polling, logger: logger, today: { now.now() }))
        }
        if gatewayFeedInterval > 0 {
            var feed = GatewayFeedPoller.Settings()
            feed.interval = .milliseconds(Int64(gatewayFeedInterval * 1000))
            feed.catchUp = gatewayFeedCatchUp
            services.append(GatewayFeedPoller(client: client, source: source, inbox: store, alerts: alerts, settings: feed,
                                              logger: logger, now: { now.now() }))
        }
        if syncPollInterval > 0 {
            let sweeper = HeartlandSweeper(client: RetailMasterDataClient(configuration: settings.configuration, logger: logger),
                                           state: try SyncState(path: syncState), policy: try SyncPolicy.load(path: syncConfig),
                                           publisher: publisher, logger: logger)
            services.append(SyncPollingService(sweeper: sweeper, interval: .milliseconds(Int64(syncPollInterval * 1000)),
                                               publisher: publisher, logger: logger))
        }
        // The connectors' HTTP pools close after the last service has returned (docs/HTTP.md).
        try await HTTPPools.closing { try await Worker.run(source: "heartland-ingest", publisher: publisher, options: worker, services: services) }
    }
}
