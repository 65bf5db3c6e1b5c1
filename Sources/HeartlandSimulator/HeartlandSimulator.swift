import Foundation
import GRDB
import Logging
import ServiceLifecycle
import SimulatorKit

/// Everything `heartland-sim` serves, assembled from its options. Tests build it in-process.
public struct HeartlandSimulator: Sendable {
    public struct Options: Sendable {
        public var server = ServerSettings()
        public var credentials = HeartlandCredentials(
            appId: "sim-app-id", appKey: "sim-app-key", retailTokens: ["sim-retail-token"])
        public var webhookURLs: [String] = []
        public var webhookPolicy = WebhookDispatcher.Policy()
        public var fixture: StoreDayFixture?

        public init() {}
    }

    public let options: Options
    public let database: DatabasePool
    public let clock: SimClock
    public let faults: FaultInjector
    public let rateLimiter: RateLimiter
    public let outbox: WebhookOutbox
    public let webhookSettings: WebhookDispatcher.Settings
    public let server: SimulatorServer
    public let services: [any Service]

    public init(options: Options, logger: Logger) throws {
        self.options = options
        clock = SimClock(options.server.clock)
        let now = clock.now()
        database = try HeartlandDatabase.open(path: options.server.databasePath) { db in
            try options.fixture?.save(db)
            for url in options.webhookURLs { try WebhookOutbox.addEndpoint(db, url: url, now: now) }
        }
        outbox = WebhookOutbox(database: database)
        webhookSettings = WebhookDispatcher.Settings(options.webhookPolicy)
        let context = HeartlandContext(database: database, clock: clock, credentials: options.credentials)
        var routes = RouteTable()
        GPAccessTokenRoutes(context: context).add(to: &routes)
        GPTransactionRoutes(context: context).add(to: &routes)
        GPBatchRoutes(context: context).add(to: &routes)
        RetailSalesRoutes(context: context).add(to: &routes)
        RetailTicketCreate(context: context).add(to: &routes)
        RetailCatalogRoutes(context: context).add(to: &routes)
        RetailOrderRoutes(context: context).add(to: &routes)
        PayrollRoutes(context: context).add(to: &routes)
        var admin = RouteTable()
        HeartlandAdminRoutes(context: context, outbox: outbox, webhookSettings: webhookSettings).add(to: &admin)
        HeartlandRawAdminRoutes(context: context).add(to: &admin)
        faults = FaultInjector(plan: options.server.faults, clock: clock)
        rateLimiter = RateLimiter(limit: options.server.rateLimit)
        let pipeline = SimulatorPipeline(
            routes: routes, adminRoutes: admin, faults: faults, rateLimiter: rateLimiter, clock: clock,
            errors: HeartlandErrorRenderer(), logger: logger)
        server = SimulatorServer(host: options.server.host, port: options.server.port, pipeline: pipeline)
        let credentials = options.credentials
        services = [WebhookDispatcher(outbox: outbox, settings: webhookSettings, clock: clock, logger: logger) { body, now in
            [
                "X-GP-Signature": WebhookSignature.gpSignature(body: body, appKey: credentials.appKey),
                "X-Heartland-Signature": WebhookSignature.heartlandSignature(body: body, secret: credentials.webhookSecret, at: now),
            ]
        }]
    }

    /// The secret a GP-API client sends with a nonce (exposed for tests and tools).
    public static func accessTokenSecret(nonce: String, appKey: String) -> String {
        GPAccessTokenRoutes.secret(nonce: nonce, appKey: appKey)
    }
}
