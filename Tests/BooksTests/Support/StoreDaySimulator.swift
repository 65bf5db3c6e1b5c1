import BridgeClock
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeartlandConnector
import HeartlandSimulator
import Logging
import SimulatorKit

/// heartland-sim in-process on a free port (temporary SQLite) with one store day loaded, and a
/// connector client pointed at it.
struct StoreDaySimulator {
    static let appId = "books-app"
    static let appKey = "books-key"
    static let retailToken = "books-retail-token"

    let simulator: HeartlandSimulator
    let running: RunningSimulator

    /// `now`: the simulator's clock starts there (a batch closed by the test closes then); default the system clock.
    static func start(fixture: StoreDayFixture, now: Date? = nil) async throws -> StoreDaySimulator {
        var options = HeartlandSimulator.Options()
        if let now { options.server.clock = BridgeClock(startingAt: now) }
        options.credentials = HeartlandCredentials(appId: appId, appKey: appKey, retailTokens: [retailToken])
        options.server.rateLimit = RateLimiter.Limit(enabled: false)
        options.fixture = fixture
        let simulator = try HeartlandSimulator(options: options, logger: quietLogger)
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: quietLogger)
        return StoreDaySimulator(simulator: simulator, running: running)
    }

    func client() -> URLSessionHeartlandClient {
        var configuration = HeartlandConfiguration(
            baseURL: running.baseURL, credentials: .init(appId: Self.appId, appKey: Self.appKey), retailToken: Self.retailToken)
        configuration.gpPageSize = 1000
        configuration.retailPageSize = 500
        configuration.requestTimeout = .seconds(10)
        return URLSessionHeartlandClient(configuration: configuration, logger: quietLogger)
    }

    /// `POST /admin/batches/close {}`: closes every open batch, as the end of the business day does.
    func closeOpenBatches() async throws {
        var request = URLRequest(url: running.baseURL.appendingPathComponent("admin/batches/close"))
        request.httpMethod = "POST"
        request.httpBody = Data("{}".utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw SimulatorFailure(description: "closing batches answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
    }

    /// Waits, up to `seconds`, until Heartland reports the batch CLOSED.
    func waitUntilClosed(_ batchID: String, client: some HeartlandClient, within seconds: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last = "unknown"
        while Date() < deadline {
            let batch = try await client.batch(id: batchID)
            if batch.status == .closed { return }
            last = batch.status.rawValue
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SimulatorFailure(description: "batch \(batchID) is still \(last) after \(seconds) s")
    }

    func stop() async { await running.stop() }
}

struct SimulatorFailure: Error, CustomStringConvertible {
    let description: String
}

var quietLogger: Logger {
    var logger = Logger(label: "books-tests")
    logger.logLevel = .critical
    return logger
}

extension StoreDaySimulator {
    /// Noon UTC two days after a generated day: every store's day is over, so a batch the test closes closes after it.
    static func after(_ day: String) -> Date {
        try! Date("\(BridgeClock.day(day, plus: 2))T12:00:00Z", strategy: .iso8601)
    }
}
