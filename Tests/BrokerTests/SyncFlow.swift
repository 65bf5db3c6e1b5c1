import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Messaging
import TestPrograms
import XCTest

/// The two-way sync as processes on the test broker and the standard topology: sage-pro-sim and
/// heartland-sim (a small catalogue), transformer, sage-loader, heartland-loader, sage-ingest and
/// heartland-ingest (its master-data poller), each polling every 0.3 s. Killed when released.
final class SyncFlow: @unchecked Sendable {
    let broker: TestBroker
    let folder: URL
    let sageURL: String
    let heartlandURL: String
    private(set) var processes: [String: WorkerProcess] = [:]
    let common: [String]

    static let stages = ["transformer", "sage-loader", "heartland-loader"]
    static let retailToken = "sync-retail", appID = "sync-app", appKey = "sync-key"

    /// Heartland's side at the start: one store, two items, three customers (phones on addresses).
    static let heartlandFixture = """
        {"locations": [{"id": 1, "public_id": "S01", "name": "Store 1", "time_zone": "America/Chicago", "tax_rate_basis_points": 888,
                        "merchant_id": "MER_880001", "device_id": "DEV0001"}],
         "items": [{"id": 1, "public_id": "10001", "description": "Cotton T-shirt", "long_description": null, "price_cents": 1999,
                    "original_price_cents": 1999, "cost_cents": 650, "active": true, "taxable": true, "updated_at": "2024-01-01T00:00:00Z"},
                   {"id": 2, "public_id": "10002", "description": "Canvas tote", "long_description": null, "price_cents": 1500,
                    "original_price_cents": 1500, "cost_cents": 400, "active": true, "taxable": true, "updated_at": "2024-01-01T00:00:00Z"}],
         "inventory": [{"item_id": 1, "location_id": 1, "qty_on_hand": 40, "qty_committed": 0, "unit_cost_cents": 650,
                        "updated_at": "2024-01-01T00:00:00Z"}],
         "customers": [
           {"id": 1, "public_id": "C00001", "first_name": "Ava", "last_name": "Kim", "email": " Ava.Kim@Example.com ", "active": true,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "addresses": [{"id": 101, "address1": "1 Main St", "city": "Chicago", "state": "IL", "zip": "60601", "country": "US", "phone": "555.010.1234"}]},
           {"id": 2, "public_id": "C00002", "first_name": "Bob", "last_name": "Stone", "email": "b.stone@example.com", "active": true,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z", "addresses": []},
           {"id": 3, "public_id": "C00003", "first_name": "Dan", "last_name": "Ng", "email": "dan.ng@example.com", "active": true,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "addresses": [{"id": 301, "phone": "+1 555 010 7777"}]}]}
        """

    /// The sync policy every part reads (Config/sync.yaml unless a test gives its merchant another).
    let syncConfig: String

    private init(broker: TestBroker, folder: URL, sageURL: String, heartlandURL: String, common: [String], syncConfig: String) {
        self.broker = broker
        self.folder = folder
        self.sageURL = sageURL
        self.heartlandURL = heartlandURL
        self.common = common
        self.syncConfig = syncConfig
    }

    /// Starts the simulators, seeds Sage with `seedSage` (before any poller runs), then starts the bridge.
    /// `syncPolicy`: the text of the merchant's sync policy (default: Config/sync.yaml).
    static func start(syncPolicy: String? = nil, seedSage: (SyncFlow) async throws -> Void) async throws -> SyncFlow {
        let broker = try await TestBroker.shared
        let topology = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        try await broker.management().importDefinitions(try Topology.load(from: topology))
        try await eventually("no stage consumers left from an earlier test") { try await consumers(broker, stages + ["fraud-scorer", "alerter"]) == 0 }
        let queues = try Topology.load(from: topology).queues.map(\.name)
        let session = try await broker.session("purge")
        try await session.perform { connection in for queue in queues { _ = try connection.purgeQueue(channel: 3, name: queue) } }
        await session.close()

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fixture = folder.appendingPathComponent("heartland-fixture.json")
        try Data(heartlandFixture.utf8).write(to: fixture)
        let sage = try WorkerProcess.start(executable: "sage-pro-sim", arguments: [
            "--port", "0", "--db", folder.appendingPathComponent("sage.sqlite").path, "--user", "ADMIN", "--password", "pw", "--rate-limit", "off"])
        let heartland = try WorkerProcess.start(executable: "heartland-sim", arguments: [
            "serve", "--db", folder.appendingPathComponent("heartland.sqlite").path, "--port", "0", "--fixture", fixture.path,
            "--app-id", appID, "--app-key", appKey, "--retail-token", retailToken, "--webhook-secret", BridgeFlow.webhookSecret, "--rate-limit", "off"])
        var config = repositoryRoot.appendingPathComponent("Config/sync.yaml").path
        if let syncPolicy {
            config = folder.appendingPathComponent("sync.yaml").path
            try Data(syncPolicy.utf8).write(to: URL(fileURLWithPath: config))
        }
        let flow = SyncFlow(broker: broker, folder: folder, sageURL: try await BridgeFlow.firstLine(of: sage, after: "listening on "),
                            heartlandURL: try await BridgeFlow.firstLine(of: heartland, after: "listening on "),
                            common: ["--amqp-url", broker.amqpURL, "--topology", topology, "--log-level", "info"], syncConfig: config)
        flow.processes["sage-pro-sim"] = sage
        flow.processes["heartland-sim"] = heartland
        try await seedSage(flow)

        let sageEnvironment = ["SAGE_URL": flow.sageURL, "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw", "SAGE_COMPANY": "SAMINC"]
        let heartlandEnvironment = ["HEARTLAND_URL": flow.heartlandURL, "HEARTLAND_APP_ID": appID, "HEARTLAND_APP_KEY": appKey,
                                    "HEARTLAND_RETAIL_TOKEN": retailToken]
        flow.processes["transformer"] = try WorkerProcess.start(executable: "transformer", arguments: flow.common + [
            "--mapping", repositoryRoot.appendingPathComponent("Config/mapping.yaml").path])
        flow.processes["sage-loader"] = try WorkerProcess.start(executable: "sage-loader", arguments: flow.common + [
            "--mapping", repositoryRoot.appendingPathComponent("Config/mapping.yaml").path, "--sync-config", config,
            "--ledger", flow.sageLedger], environment: sageEnvironment)
        flow.processes["heartland-loader"] = try WorkerProcess.start(executable: "heartland-loader", arguments: flow.common + [
            "--sync-config", config, "--ledger", flow.heartlandLedger], environment: heartlandEnvironment)
        try await eventually("the sync stages consume") { try await consumers(broker, stages) == 3 }
        try flow.startSageIngest()
        flow.processes["heartland-ingest"] = try WorkerProcess.start(executable: "heartland-ingest", arguments: [
            "--amqp-url", broker.amqpURL, "--inbox", folder.appendingPathComponent("inbox.sqlite").path, "--webhook-port", "0",
            "--poll-interval", "0", "--sync-poll-interval", "0.3", "--sync-state", folder.appendingPathComponent("heartland-sync.sqlite").path,
            "--sync-config", config, "--log-level", "info"],
            environment: heartlandEnvironment.merging(["HEARTLAND_WEBHOOK_SECRET": BridgeFlow.webhookSecret]) { $1 })
        return flow
    }

    var sageLedger: String { folder.appendingPathComponent("sage-loader.sqlite").path }
    var heartlandLedger: String { folder.appendingPathComponent("heartland-loader.sqlite").path }
    var sageIngestState: String { folder.appendingPathComponent("sage-ingest.sqlite").path }

    /// (Re)starts sage-ingest, with its state file as it is.
    func startSageIngest() throws {
        processes["sage-ingest"] = try WorkerProcess.start(executable: "sage-ingest", arguments: common + [
            "--state", sageIngestState, "--poll-interval", "0.3", "--sync-config", syncConfig,
        ], environment: ["SAGE_URL": sageURL, "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw", "SAGE_COMPANY": "SAMINC"])
    }

    func stop(_ name: String) async throws {
        guard let process = processes[name] else { return }
        process.signal(SIGTERM)
        _ = try await process.waitForExit()
    }

    static func consumers(_ broker: TestBroker, _ queues: [String]) async throws -> Int {
        let session = try await broker.session("consumers")
        let total = try await session.perform { connection in
            try queues.reduce(0) { $0 + Int(try connection.declareQueue(channel: 3, name: $1, passive: true).consumers) }
        }
        await session.close()
        return total
    }

    // MARK: HTTP to the simulators

    func sage(_ method: String, _ resource: String, _ body: String? = nil) async throws -> Any {
        try await send(method, URL(string: "\(sageURL)/Sage300WebApi/v1.0/-/SAMINC/\(resource)")!, body,
                       authorization: "Basic " + Data("ADMIN:pw".utf8).base64EncodedString())
    }

    func heartland(_ method: String, _ path: String, _ body: String? = nil) async throws -> Any {
        try await send(method, URL(string: "\(heartlandURL)/api/\(path)")!, body, authorization: "Bearer \(Self.retailToken)")
    }

    /// `value` of a Sage OData collection query (`$filter` given unencoded).
    func sageRows(_ resource: String, filter: String) async throws -> [[String: Any]] {
        let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        return (try await sage("GET", "\(resource)?$filter=\(encoded)") as! [String: Any])["value"] as! [[String: Any]]
    }

    func heartlandRows(_ path: String, filter: String) async throws -> [[String: Any]] {
        let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        return (try await heartland("GET", "\(path)?_filter=\(encoded)&per_page=100") as! [String: Any])["results"] as! [[String: Any]]
    }

    private func send(_ method: String, _ url: URL, _ body: String?, authorization: String) async throws -> Any {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200...299).contains(status) else {
            throw NSError(domain: "SyncFlow", code: status, userInfo: [NSLocalizedDescriptionKey: "\(method) \(url): \(status) \(String(decoding: data, as: UTF8.self))"])
        }
        return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    // MARK: broker

    /// Takes (acks) every message now in a queue.
    func take(_ queue: String) async throws -> [Delivery] { try await broker.take(queue) }

    /// The idempotency keys a loader's ledger holds.
    func ledgerKeys(_ path: String) async throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try await IdempotencyStore(path: path).keys()
    }

    deinit {
        for process in processes.values where process.isRunning { process.signal(SIGKILL) }
    }
}
