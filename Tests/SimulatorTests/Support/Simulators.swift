import BridgeClock
import Foundation
import HeartlandSimulator
import SageSimulator
import SimulatorKit

/// A Sage simulator running in-process on a free port, with request helpers.
struct SageUnderTest {
    let simulator: SageSimulator
    let running: RunningSimulator
    let company = "SAMINC"

    static func start(_ configure: (inout SageSimulator.Options) -> Void = { _ in }) async throws -> SageUnderTest {
        var options = SageSimulator.Options()
        options.user = "ADMIN"
        options.password = "s3cret"
        configure(&options)
        let simulator = try SageSimulator(options: options, logger: quietLogger)
        let running = try await RunningSimulator.start(
            server: simulator.server, services: simulator.services, logger: quietLogger)
        return SageUnderTest(simulator: simulator, running: running)
    }

    var auth: [String: String] { ["Authorization": "Basic " + Data("ADMIN:s3cret".utf8).base64EncodedString()] }

    /// `resource` relative to `/Sage300WebApi/v1.0/-/SAMINC/`.
    func call(_ method: String, _ resource: String, _ json: JSONValue? = nil, headers: [String: String]? = nil)
        async throws -> HTTPResult
    {
        try await TestHTTP.send(
            method, TestHTTP.url(running.baseURL, "/Sage300WebApi/v1.0/-/\(company)/\(resource)"),
            headers: headers ?? auth, json: json)
    }

    func admin(_ method: String, _ path: String, _ json: JSONValue? = nil) async throws -> HTTPResult {
        try await TestHTTP.send(method, TestHTTP.url(running.baseURL, path), json: json)
    }

    func stop() async { await running.stop() }
}

/// A Heartland simulator running in-process on a free port, with request helpers.
struct HeartlandUnderTest {
    let simulator: HeartlandSimulator
    let running: RunningSimulator
    static let retailToken = "test-retail-token"

    static func start(_ configure: (inout HeartlandSimulator.Options) -> Void = { _ in }) async throws -> HeartlandUnderTest {
        var options = HeartlandSimulator.Options()
        options.credentials = HeartlandCredentials(appId: "test-app", appKey: "test-key", retailTokens: [retailToken])
        options.webhookPolicy.baseDelay = .milliseconds(20)
        options.webhookPolicy.duplicateRate = 0
        options.webhookPolicy.pollInterval = .milliseconds(10)
        configure(&options)
        let simulator = try HeartlandSimulator(options: options, logger: quietLogger)
        let running = try await RunningSimulator.start(
            server: simulator.server, services: simulator.services, logger: quietLogger)
        return HeartlandUnderTest(simulator: simulator, running: running)
    }

    func call(_ method: String, _ path: String, _ json: JSONValue? = nil, headers: [String: String] = [:], timeout: TimeInterval = 10)
        async throws -> HTTPResult
    {
        try await TestHTTP.send(method, TestHTTP.url(running.baseURL, path), headers: headers, json: json, timeout: timeout)
    }

    func tokenRequest(appId: String = "test-app", appKey: String = "test-key", extra: [String: JSONValue] = [:]) -> JSONValue {
        let nonce = Timestamps.iso8601(Date())
        var body: [String: JSONValue] = [
            "app_id": .string(appId), "nonce": .string(nonce), "grant_type": "client_credentials",
            "secret": .string(HeartlandSimulator.accessTokenSecret(nonce: nonce, appKey: appKey)),
        ]
        for (key, value) in extra { body[key] = value }
        return .object(body)
    }

    /// Headers with a fresh GP-API access token.
    func gpAuth() async throws -> [String: String] {
        let token = try await call("POST", "/ucp/accesstoken", tokenRequest()).json["token"]?.stringValue ?? ""
        return ["Authorization": "Bearer \(token)"]
    }

    var retail: [String: String] { ["Authorization": "Bearer \(Self.retailToken)"] }

    /// Loads a small generated day through the admin endpoint.
    func loadDay(stores: Int = 2, day: String = "2026-11-27", seed: Int = 11, tickets: Int = 60) async throws {
        let fixture = try StoreDayGenerator.generate(.init(stores: stores, day: day, seed: UInt64(seed), ticketsPerStore: tickets))
        let result = try await TestHTTP.send(
            "POST", TestHTTP.url(running.baseURL, "/admin/fixtures"), body: try fixture.encoded())
        precondition(result.status == 200, "fixture load failed: \(String(decoding: result.body, as: UTF8.self))")
    }

    func stop() async { await running.stop() }
}
