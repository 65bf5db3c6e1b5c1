import AMQP
import BridgeClock
import Foundation
import HeartlandSimulator
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Messaging
import PipelineContracts
import SageConnector
import TestPrograms
import XCTest

/// The bridge as processes on the test broker and the standard topology: sage-pro-sim, transformer,
/// fraud-scorer, `loaders` sage-loaders and the alerter; `startHeartland` adds heartland-sim and
/// heartland-ingest. Everything a flow starts is killed when the flow is released.
final class BridgeFlow: @unchecked Sendable {
    let broker: TestBroker
    let folder: URL
    let sageURL: String
    let operations: String
    /// The topology file the stages were started with.
    let topology: String
    /// What the simulators and heartland-ingest take as now (`--clock`): a chosen hour, never the hour the suite runs at.
    let clock: BridgeClock
    private(set) var processes: [String: WorkerProcess]
    private(set) var heartlandURL: String?
    private(set) var inboxPath: String?
    /// The generated business day (`startHeartland`): over at every store at `clock`, so tickets rung up now fall on a later day.
    private(set) var day = ""
    /// How a sage-loader of this flow is started (`restartLoader`).
    private var loaderCommand: (arguments: [String], environment: [String: String]) = ([], [:])

    static let stageNames = ["transformer", "fraud-scorer", "sage-loader", "alerter"]
    /// The processes' log level: info, or $BRIDGE_TEST_LOG_LEVEL (`debug` logs every Sage request, for a scenario that failed).
    static let logLevel = ProcessInfo.processInfo.environment["BRIDGE_TEST_LOG_LEVEL"] ?? "info"

    private init(broker: TestBroker, folder: URL, sageURL: String, operations: String, topology: String, clock: BridgeClock,
                 processes: [String: WorkerProcess]) {
        self.broker = broker
        self.clock = clock
        self.topology = topology
        self.folder = folder
        self.sageURL = sageURL
        self.operations = operations
        self.processes = processes
    }

    /// - Parameters:
    ///   - mapping: a variant of Config/mapping.yaml.
    ///   - loaders: sage-loader processes (they share one ledger file, as replicas on one host would not;
    ///     each has its own, so only Sage's reference check stands between two posts).
    ///   - loaderArguments: extra flags for every sage-loader.
    ///   - retryDelays: delay tiers other than the standard 5 s / 30 s / 5 min / 30 min (the stages declare their
    ///     own tier queues from the topology file they are given).
    ///   - clock: now for the simulators and ingest; by default 15:00 UTC today (see `BridgeClock.timeMatrix` for the others).
    ///   - broker: a node of the test's own (one it stops and starts) instead of the shared one.
    ///   - adjustTopology: changes to the stages' topology file (with `retryDelays`), e.g. an earlier release's tiers.
    ///   - stageArguments: extra flags for every stage process.
    static func start(mapping: String = repositoryRoot.appendingPathComponent("Config/mapping.yaml").path, loaders: Int = 1,
                      loaderArguments: [String] = [], loaderEnvironment: [String: String] = [:], scorerArguments: [String]? = nil,
                      retryDelays: [Duration]? = nil, clock: BridgeClock = .flowDefault, broker: TestBroker? = nil,
                      adjustTopology: (inout Topology) -> Void = { _ in }, stageArguments: [String] = []) async throws -> BridgeFlow {
        let shared = try await TestBroker.shared
        let broker = broker ?? shared
        var topology = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        try await broker.management().importDefinitions(try Topology.load(from: topology))
        if let retryDelays {
            var builder = BridgeTopology.standard
            for index in builder.stages.indices { builder.stages[index].retryDelays = retryDelays }
            var custom = builder.build()
            adjustTopology(&custom)
            topology = FileManager.default.temporaryDirectory.appendingPathComponent("definitions-\(UUID().uuidString).json").path
            try custom.encoded().write(to: URL(fileURLWithPath: topology))
        }
        // The stages of an earlier test must be gone before this test's start.
        try await eventually("no stage consumers left from an earlier test") { try await consumers(broker) == 0 }
        // Nor their messages: every queue of the bridge's topology starts empty.
        let queues = try Topology.load(from: repositoryRoot.appendingPathComponent("Topology/definitions.json").path).queues.map(\.name)
        let session = try await broker.session("purge")
        try await session.perform { connection in for queue in queues { _ = try connection.purgeQueue(channel: 3, name: queue) } }
        await session.close()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let sage = try WorkerProcess.start(executable: "sage-pro-sim", arguments: [
            "--port", "0", "--db", folder.appendingPathComponent("sage.sqlite").path, "--user", "ADMIN", "--password", "pw", "--rate-limit", "off",
            "--clock=\(clock.offsetText)"])
        let sageURL = try await firstLine(of: sage, after: "listening on ")
        let common = ["--amqp-url", broker.workerAMQPURL, "--topology", topology, "--log-level", Self.logLevel] + stageArguments
        let operations = folder.appendingPathComponent("operations.sqlite").path
        var processes = [
            "sage-pro-sim": sage,
            "transformer": try WorkerProcess.start(executable: "transformer", arguments: common + ["--mapping", mapping]),
            "fraud-scorer": try WorkerProcess.start(executable: "fraud-scorer", arguments: common + (scorerArguments ?? [
                "--review-store", folder.appendingPathComponent("reviews.sqlite").path,
                "--batch-history", folder.appendingPathComponent("batch-history.sqlite").path])
                // Every file a stage keeps is the flow's own, never the repository's var/.
                + ((scorerArguments ?? []).contains("--feature-store") ? [] : ["--feature-store", folder.appendingPathComponent("features.sqlite").path])),
            "alerter": try WorkerProcess.start(executable: "alerter", arguments: common + [
                "--store", operations, "--trace-store", folder.appendingPathComponent("traces.sqlite").path]),
        ]
        let loaderCommand = (arguments: common + ["--mapping", mapping] + loaderArguments,
                             environment: ["SAGE_URL": sageURL, "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw", "SAGE_COMPANY": "SAMINC"]
                                 .merging(loaderEnvironment) { $1 })
        for index in 1...loaders {
            processes["sage-loader-\(index)"] = try startLoader(index, loaderCommand, folder: folder)
        }
        try await eventually("every stage consumes") { try await consumers(broker) == 3 + loaders }
        let flow = BridgeFlow(broker: broker, folder: folder, sageURL: sageURL, operations: operations, topology: topology, clock: clock,
                              processes: processes)
        flow.loaderCommand = loaderCommand
        return flow
    }

    /// Each loader has its own ledger file, as replicas on different hosts would.
    private static func startLoader(_ index: Int, _ command: (arguments: [String], environment: [String: String]), folder: URL) throws -> WorkerProcess {
        try WorkerProcess.start(executable: "sage-loader", arguments: command.arguments, environment: command.environment.merging(
            ["BRIDGE_LEDGER": folder.appendingPathComponent("ledger-\(index).sqlite").path]) { $1 })
    }

    /// Starts sage-loader number `index` again (after a kill), with its ledger as it was left.
    func restartLoader(_ index: Int) throws {
        processes["sage-loader-\(index)"] = try Self.startLoader(index, loaderCommand, folder: folder)
    }

    /// The value after `prefix` on the first line of a process's output that starts with it.
    static func firstLine(of process: WorkerProcess, after prefix: String) async throws -> String {
        var value = ""
        try await eventually("\(process.process.executableURL?.lastPathComponent ?? "process") prints \(prefix)") {
            guard let line = process.log.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
                XCTAssertTrue(process.isRunning, process.log)
                return !process.isRunning
            }
            value = String(line.dropFirst(prefix.count))
            return true
        }
        return value
    }

    static func consumers(_ broker: TestBroker) async throws -> Int {
        let session = try await broker.session("consumers")
        let total = try await session.perform { connection in
            try stageNames.reduce(0) { $0 + Int(try connection.declareQueue(channel: 3, name: $1, passive: true).consumers) }
        }
        await session.close()
        return total
    }

    func depth(_ queue: String) async throws -> Int { try await broker.depth(queue) }

    /// Nothing of `stage` left anywhere: its work queue and retry tiers hold no message, ready or being handled
    /// (the management API's counts, refreshed every second on the test node, then the queues' own counts).
    func settled(_ stage: String) async throws -> Bool {
        let queues = try Topology.load(from: topology).queues.map(\.name).filter { $0 == stage || Self.isDelayTier($0, of: stage) }
        let statistics = try await broker.management().queues().filter { queues.contains($0.name) }
        let unfinished = statistics.reduce(0) { $0 + $1.messagesReady + $1.messagesUnacknowledged }
        let waiting = try await depth(stage) + retryDepth(stage)
        // The management API's counts are samples up to a second old: the queues' own counts have the last word.
        guard unfinished == 0, waiting == 0 else { return false }
        return try await broker.holdNothing(queues)
    }

    /// A delay tier of `stage`: `S.delay.X` (quorum), or `S.retry.X` (classic, earlier releases).
    static func isDelayTier(_ queue: String, of stage: String) -> Bool {
        queue.hasPrefix("\(stage).delay.") || queue.hasPrefix("\(stage).retry.")
    }

    /// Messages waiting in the retry tiers of `stage` (as the flow's topology names them).
    func retryDepth(_ stage: String) async throws -> Int {
        var total = 0
        for queue in try Topology.load(from: topology).queues where Self.isDelayTier(queue.name, of: stage) {
            total += try await depth(queue.name)
        }
        return total
    }

    /// Stops the transformer and starts it again with another mapping file (as an integrator would after fixing it).
    func restartTransformer(mapping: String) async throws {
        let old = processes["transformer"]!
        old.signal(SIGTERM)
        _ = try await old.waitForExit()
        processes["transformer"] = try WorkerProcess.start(executable: "transformer", arguments: [
            "--amqp-url", broker.workerAMQPURL, "--topology", topology, "--log-level", Self.logLevel, "--mapping", mapping])
        try await eventually("the transformer consumes again") { try await Self.consumers(self.broker) == self.processes.keys.filter { $0.hasPrefix("sage-loader") }.count + 3 }
    }

    /// Starts a process of the flow again with the same executable, arguments and environment (after a crash).
    func restart(_ name: String) throws {
        let old = processes[name]!
        processes[name] = try WorkerProcess.start(path: old.process.executableURL!, arguments: old.process.arguments ?? [],
                                                  environment: old.process.environment ?? [:])
    }

    // MARK: Heartland side

    static let appID = "flow-app", appKey = "flow-key", retailToken = "flow-retail", webhookSecret = "flow-webhook-secret"

    /// Generates a store day into heartland-sim's database, serves it, and starts heartland-ingest
    /// with its webhook registered. Returns the generated fixture (for independent expectations).
    /// The day is `day` if given, else the last business day over at every store at the flow's clock. `prepare` may add
    /// to heartland-sim's database (its path, the day) before heartland-sim serves it.
    @discardableResult
    func startHeartland(stores: Int, day: String? = nil, seed: Int = 7, tickets: Int, duplicateRate: Double = 0, pollSeconds: Double = 0,
                        ingestArguments: [String] = [], generateArguments: [String] = [],
                        prepare: ((_ database: String, _ day: String) async throws -> Void)? = nil) async throws -> Data
    {
        let day = day ?? StoreDayGenerator.lastFinishedDay(stores: stores, at: clock.now())
        self.day = day
        let db = folder.appendingPathComponent("heartland.sqlite").path
        let fixtureFile = folder.appendingPathComponent("fixture.json").path
        let generate = try WorkerProcess.start(executable: "heartland-sim", arguments: [
            "generate", "--stores", String(stores), "--day", day, "--seed", String(seed), "--tickets-per-store", String(tickets),
            "--db", db, "--out", fixtureFile] + generateArguments)
        let generated = try await generate.waitForExit(timeout: .seconds(120))
        XCTAssertEqual(generated, 0, generate.log)
        try await prepare?(db, day)
        let sim = try WorkerProcess.start(executable: "heartland-sim", arguments: [
            "serve", "--db", db, "--port", "0", "--app-id", Self.appID, "--app-key", Self.appKey, "--retail-token", Self.retailToken,
            "--webhook-secret", Self.webhookSecret, "--webhook-duplicate-rate", String(duplicateRate), "--webhook-retry-ms", "100", "--rate-limit", "off",
            "--clock=\(clock.offsetText)"])
        processes["heartland-sim"] = sim
        let url = try await Self.firstLine(of: sim, after: "listening on ")
        heartlandURL = url
        let inbox = folder.appendingPathComponent("inbox.sqlite").path
        inboxPath = inbox
        let ingest = try WorkerProcess.start(executable: "heartland-ingest", arguments: [
            "--amqp-url", broker.workerAMQPURL, "--inbox", inbox, "--webhook-port", "0", "--poll-interval", String(pollSeconds),
            "--catch-up-days", "2", "--retry-initial", "0.2", "--retry-max", "1", "--log-level", Self.logLevel, "--clock=\(clock.offsetText)",
            "--sync-state", folder.appendingPathComponent("heartland-sync.sqlite").path,
        ] + ingestArguments, environment: ["HEARTLAND_URL": url, "HEARTLAND_APP_ID": Self.appID, "HEARTLAND_APP_KEY": Self.appKey,
                         "HEARTLAND_RETAIL_TOKEN": Self.retailToken, "HEARTLAND_WEBHOOK_SECRET": Self.webhookSecret])
        processes["heartland-ingest"] = ingest
        let webhook = try await Self.firstLine(of: ingest, after: "webhooks listening on ")
        try await heartlandAdmin("POST", "admin/webhooks", #"{"url":"\#(webhook)"}"#)
        return try Data(contentsOf: URL(fileURLWithPath: fixtureFile))
    }

    /// Closes every open batch (fires `batch.closed` webhooks).
    func closeBatches() async throws { try await heartlandAdmin("POST", "admin/batches/close", "{}") }

    /// Sets (or, with nil, clears) heartland-sim's fault plan.
    func heartlandFaults(_ plan: String?) async throws {
        try await heartlandAdmin(plan == nil ? "DELETE" : "POST", "admin/faults", plan)
    }

    func sageFaults(_ plan: String?) async throws {
        _ = try await send(plan == nil ? "DELETE" : "POST", URL(string: "\(sageURL)/admin/faults")!, plan)
    }

    @discardableResult
    func heartlandAdmin(_ method: String, _ path: String, _ body: String?) async throws -> Data {
        try await send(method, URL(string: "\(heartlandURL!)/\(path)")!, body)
    }

    /// Closed batches of a business day as heartland-sim serves them: (batch id, location public id).
    func closedBatches(day: String) async throws -> [(id: String, store: String)] {
        let locations = try JSONSerialization.jsonObject(with: try await heartlandAdmin("GET", "api/locations?per_page=100", nil)) as! [String: Any]
        var storeOf: [Int: String] = [:]
        for location in locations["results"] as! [[String: Any]] { storeOf[location["id"] as! Int] = location["public_id"] as? String }
        let page = try JSONSerialization.jsonObject(with: try await heartlandAdmin("GET", "ucp/batches?status=CLOSED&business_day=\(day)&page_size=100", nil))
            as! [String: Any]
        return (page["batches"] as! [[String: Any]]).map { ($0["id"] as! String, storeOf[$0["location_id"] as! Int]!) }
    }

    private func send(_ method: String, _ url: URL, _ body: String?) async throws -> Data {
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if url.path.hasPrefix("/Sage300WebApi") {
            request.setValue("Basic " + Data("ADMIN:pw".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        }
        if url.path.hasPrefix("/api") { request.setValue("Bearer \(Self.retailToken)", forHTTPHeaderField: "Authorization") }
        if url.path.hasPrefix("/ucp") { request.setValue("Bearer \(try await gpToken())", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200...299).contains(status) else {
            throw NSError(domain: "BridgeFlow", code: status, userInfo: [NSLocalizedDescriptionKey: "\(method) \(url): \(status) \(String(decoding: data, as: UTF8.self))"])
        }
        return data
    }

    private func gpToken() async throws -> String {
        let nonce = ISO8601DateFormatter().string(from: Date())
        let secret = HeartlandSimulator.accessTokenSecret(nonce: nonce, appKey: Self.appKey)
        var request = URLRequest(url: URL(string: "\(heartlandURL!)/ucp/accesstoken")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: [
            "app_id": Self.appID, "nonce": nonce, "secret": secret, "grant_type": "client_credentials"])
        let (data, _) = try await URLSession.shared.data(for: request)
        return (try JSONSerialization.jsonObject(with: data) as! [String: Any])["token"] as! String
    }

    // MARK: Sage side

    var sage: SageWebAPIClient {
        SageWebAPIClient(connection: SageConnection(server: URL(string: sageURL)!, company: "SAMINC",
                                                    credentials: SageCredentials(user: "ADMIN", password: "pw")), logger: broker.logger)
    }

    /// How many journal entries Sage holds with this reference (to prove "exactly once").
    func sageEntries(reference: String) async throws -> Int {
        try await sageEntries(filter: "DocumentNumber eq '\(reference)'")
    }

    /// How many GL entries Sage holds that match an OData filter (one request).
    func sageEntries(filter: String) async throws -> Int {
        var components = URLComponents(string: "\(sageURL)/Sage300WebApi/v1.0/-/SAMINC/GL/GLJournalHeaders")!
        components.queryItems = [URLQueryItem(name: "$filter", value: filter), URLQueryItem(name: "$count", value: "true")]
        var request = URLRequest(url: components.url!)
        request.setValue("Basic " + Data("ADMIN:pw".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        guard let count = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["@odata.count"] as? Int else {
            throw URLError(.badServerResponse, userInfo: [NSLocalizedDescriptionKey: "Sage answered \(String(decoding: data, as: UTF8.self))"])
        }
        return count
    }

    /// Creates a GL account in Sage, as the finance team would after the alert.
    func createAccount(_ number: String) async throws {
        _ = try await send("POST", URL(string: "\(sageURL)/Sage300WebApi/v1.0/-/SAMINC/GL/GLAccounts")!,
                           #"{"AccountNumber":"\#(number)","Description":"Sales revenue (new)","AccountType":"I"}"#)
    }

    deinit {
        for process in processes.values where process.isRunning { process.signal(SIGKILL) }
    }
}

extension BridgeClock {
    /// Today's UTC date at `hour`:`minute` UTC. Flows run at a chosen hour, never at the hour the suite happens to run.
    static func todayUTC(hour: Int, minute: Int = 0) -> BridgeClock {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let instant = calendar.date(bySettingHour: hour, minute: minute, second: 0, of: Date())!
        return BridgeClock(startingAt: instant)
    }

    /// 15:00 UTC: every US store is on the UTC date.
    static var flowDefault: BridgeClock { todayUTC(hour: 15) }

    /// The instants the time-sensitive flows run at: 02:00 UTC (US stores still on the previous date, in the
    /// evening), 07:30 UTC (around midnight on the US west coast, the small hours in New York) and 15:00 UTC
    /// (every US store on the UTC date).
    static var timeMatrix: [(name: String, clock: BridgeClock)] {
        [("02:00 UTC", todayUTC(hour: 2)), ("07:30 UTC", todayUTC(hour: 7, minute: 30)), ("15:00 UTC", todayUTC(hour: 15))]
    }
}
