import BridgeClock
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import SimulatorKit

/// Everything `sage-pro-sim` needs, assembled from its options. Tests build it in-process.
public struct SageSimulator: Sendable {
    public struct Options: Sendable {
        public var server = ServerSettings()
        public var company = "SAMINC"
        public var user = "ADMIN"
        public var password = "ADMIN"
        /// Nil: the previous and the current calendar year are open.
        public var openPeriods: FiscalCalendar.OpenRange?
        public var importDirectory: String?
        public var importPollInterval: Duration = .milliseconds(200)
        /// Refuse a second GL entry with a reference already posted. Sage 300 has no such key: off by default.
        public var uniqueReferences = false

        public init() {}
    }

    public let options: Options
    public let database: DatabasePool
    public let clock: SimClock
    public let calendar: FiscalCalendar
    public let ledger: GLJournalLedger
    public let faults: FaultInjector
    public let server: SimulatorServer
    public let services: [any Service]

    public init(options: Options, logger: Logger) throws {
        self.options = options
        clock = SimClock(options.server.clock)
        database = try SageDatabase.open(path: options.server.databasePath)
        calendar = FiscalCalendar(open: options.openPeriods ?? .defaultRange(now: clock.now()))
        ledger = GLJournalLedger(database: database, calendar: calendar, company: options.company.uppercased(), clock: clock,
                                 uniqueReferences: options.uniqueReferences)
        faults = FaultInjector(plan: options.server.faults, clock: clock)
        let routes = SageRoutes(
            database: database, ledger: ledger, credentials: SageCredentials(user: options.user, password: options.password),
            clock: clock)
        let pipeline = SimulatorPipeline(
            routes: routes.table, adminRoutes: Self.adminRoutes(calendar: calendar), faults: faults,
            rateLimiter: RateLimiter(limit: options.server.rateLimit), clock: clock, errors: SageErrorRenderer(), logger: logger)
        server = SimulatorServer(host: options.server.host, port: options.server.port, pipeline: pipeline)
        if let directory = options.importDirectory {
            services = [GLImportWatcher(
                directory: URL(fileURLWithPath: directory), ledger: ledger, pollInterval: options.importPollInterval,
                logger: logger)]
        } else {
            services = []
        }
    }

    static func adminRoutes(calendar: FiscalCalendar) -> RouteTable {
        var table = RouteTable()
        let render: @Sendable () -> SimResponse = {
            .json(["open_from": .string(calendar.open.from), "open_to": .string(calendar.open.to)])
        }
        table.add("GET", "/admin/fiscal-periods") { _ in render() }
        table.add("POST", "/admin/fiscal-periods") { request in
            let body = try request.json()
            guard let from = body["open_from"]?.stringValue, let to = body["open_to"]?.stringValue,
                Timestamps.parse(from) != nil, Timestamps.parse(to) != nil, from <= to
            else { return .json(["error": "open_from and open_to (YYYY-MM-DD, from <= to) are required"], status: 400) }
            calendar.reopen(.init(from: from, to: to))
            return render()
        }
        return table
    }
}
