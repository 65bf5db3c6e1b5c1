import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import HeartlandConnector
import HeartlandSimulator
import Logging
import SimulatorKit
import Synchronization

/// A Heartland simulator running in-process on a free port (temporary SQLite), and a connector
/// client pointed at it.
struct Harness {
    static let appId = "connector-app"
    static let appKey = "connector-key"
    static let retailToken = "connector-retail-token"
    static let webhookSecret = "connector-webhook-secret"

    let simulator: HeartlandSimulator
    let running: RunningSimulator
    /// The connector's clock (tests move it together with, or apart from, the simulator's).
    let connectorClock = TestClock()

    static func start(webhookURL: String? = nil, _ configure: (inout HeartlandSimulator.Options) -> Void = { _ in }) async throws -> Harness {
        var options = HeartlandSimulator.Options()
        options.credentials = HeartlandCredentials(appId: appId, appKey: appKey, retailTokens: [retailToken], webhookSecret: webhookSecret)
        options.server.rateLimit = RateLimiter.Limit(enabled: false)
        options.webhookPolicy.baseDelay = .milliseconds(20)
        options.webhookPolicy.duplicateRate = 0
        options.webhookPolicy.pollInterval = .milliseconds(10)
        if let webhookURL { options.webhookURLs = [webhookURL] }
        configure(&options)
        let simulator = try HeartlandSimulator(options: options, logger: quietLogger)
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: quietLogger)
        return Harness(simulator: simulator, running: running)
    }

    func configuration(appKey: String = Harness.appKey, secondsToExpire: Int? = nil, pageSize: Int = 1000, retailPageSize: Int = 500)
        -> HeartlandConfiguration
    {
        var configuration = HeartlandConfiguration(
            baseURL: running.baseURL,
            credentials: .init(appId: Self.appId, appKey: appKey, secondsToExpire: secondsToExpire), retailToken: Self.retailToken)
        configuration.gpPageSize = pageSize
        configuration.retailPageSize = retailPageSize
        configuration.requestTimeout = .seconds(5)
        return configuration
    }

    func client(appKey: String = Harness.appKey, secondsToExpire: Int? = nil, pageSize: Int = 1000, retailPageSize: Int = 500)
        -> URLSessionHeartlandClient
    {
        let clock = connectorClock
        return URLSessionHeartlandClient(
            configuration: configuration(appKey: appKey, secondsToExpire: secondsToExpire, pageSize: pageSize, retailPageSize: retailPageSize),
            now: { clock.now() }, logger: quietLogger)
    }

    /// Loads a generated store day straight into the simulator's database.
    func loadDay(stores: Int = 2, day: String = "2026-11-27", seed: UInt64 = 11, tickets: Int = 60) async throws {
        let fixture = try StoreDayGenerator.generate(.init(stores: stores, day: day, seed: seed, ticketsPerStore: tickets))
        try await fixture.load(into: simulator.database)
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) async throws -> Int {
        try await simulator.database.read { try Int.fetchOne($0, sql: sql, arguments: arguments) ?? 0 }
    }

    func faults(_ configure: (inout FaultPlan) -> Void) {
        var plan = FaultPlan()
        configure(&plan)
        simulator.faults.apply(plan)
    }

    /// Server errors of the injected burst not yet answered.
    var errorBurstRemaining: Int64? { simulator.faults.statusJSON["error_burst_remaining"]?.int64Value }

    /// `POST /admin/batches/close` with `body` (`{}` closes every open batch); fires `batch.closed`.
    func closeBatches(_ body: String = "{}") async throws {
        try await adminPost("admin/batches/close", body)
    }

    /// A POST to the simulator's admin API that must answer `expecting`.
    func adminPost(_ path: String, _ body: String = "{}", expecting status: Int = 200) async throws {
        var request = URLRequest(url: running.baseURL.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == status else { throw URLError(.badServerResponse) }
    }

    func stop() async { await running.stop() }
}

/// A clock the test moves forward.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func advance(seconds: TimeInterval) { offset.withLock { $0 += seconds } }
}


var quietLogger: Logger {
    var logger = Logger(label: "heartland-connector-tests")
    logger.logLevel = .critical
    return logger
}

/// Runs `body` and returns the `HeartlandError` it threw (nil when it did not throw one).
func heartlandError(_ body: () async throws -> Void) async -> HeartlandError? {
    do {
        try await body()
        return nil
    } catch let error as HeartlandError {
        return error
    } catch {
        return .invalidResponse("unexpected error type: \(error)")
    }
}
