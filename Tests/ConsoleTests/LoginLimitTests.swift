import Alerter
import Foundation
@testable import OperationsConsole
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Failed logins are limited per user and per client address, with a message that says when to try
/// again; sessions end after their lifetime or when idle. A clock the test moves stands in for waiting.
final class LoginLimitTests: XCTestCase {
    final class Clock: Sendable {
        private let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var date: Date { now.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    private func console(_ clock: Clock, limits: LoginLimits = LoginLimits()) throws -> OperationsConsole {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = OperationsConsole.Configuration(
            users: try ConsoleUsers(lines: ConsoleFixture.usersFile), stages: ["sage-loader"],
            operations: try OperationsStore(path: folder.appendingPathComponent("operations.sqlite").path),
            reviewStorePath: nil, amqpURL: nil, managementURL: nil)
        configuration.loginLimits = limits
        configuration.clock = { clock.date }
        configuration.tokensFile = try ConsoleFixture.writeTokens(in: folder)
        return OperationsConsole(configuration: configuration, logger: .init(label: "login-limit-test"))
    }

    private func login(_ console: OperationsConsole, _ name: String, _ password: String, from address: String = "10.0.0.1") async -> ConsoleResponse {
        await console.respond(to: ConsoleRequest(method: "POST", path: "/login", form: ["name": name, "password": password], clientAddress: address))
    }

    func testFailedLoginsLockTheUserForTheWindowEvenWithTheRightPassword() async throws {
        let clock = Clock()
        let console = try console(clock)
        for attempt in 1...5 {
            let wrong = await login(console, "olivia", "guess-\(attempt)", from: "10.0.0.\(attempt)")
            XCTAssertEqual(wrong.status, 401, "attempt \(attempt)")
        }
        let locked = await login(console, "olivia", "op-secret", from: "10.0.0.9")
        XCTAssertEqual(locked.status, 429, "the sixth attempt within 15 minutes is refused, even right and from elsewhere")
        XCTAssertNil(locked.headers["Set-Cookie"])
        XCTAssertTrue(locked.text.contains("Too many failed logins for olivia: try again in 15 minutes"), locked.text)
        XCTAssertEqual(locked.headers["Retry-After"], "900")

        let other = await login(console, "victor", "view-secret", from: "10.0.0.9")
        XCTAssertEqual(other.status, 303, "another user is not locked by olivia's failures")

        clock.advance(14 * 60)
        let stillLocked = await login(console, "olivia", "op-secret")
        XCTAssertEqual(stillLocked.status, 429)
        XCTAssertTrue(stillLocked.text.contains("try again in 1 minute"), stillLocked.text)
        clock.advance(61)
        let again = await login(console, "olivia", "op-secret")
        XCTAssertEqual(again.status, 303, "free once the failures have left the window")
        let fresh = await login(console, "olivia", "guess-after")
        XCTAssertEqual(fresh.status, 401, "a success clears the user's count: one more failure is only a failure")
    }

    func testFailedLoginsFromOneAddressLockThatAddressOnly() async throws {
        let console = try console(Clock(), limits: LoginLimits(perUser: 100, perAddress: 3))
        for name in ["olivia", "victor", "nobody"] {
            let wrong = await login(console, name, "guess", from: "192.0.2.7")
            XCTAssertEqual(wrong.status, 401)
        }
        let refused = await login(console, "olivia", "op-secret", from: "192.0.2.7")
        XCTAssertEqual(refused.status, 429)
        XCTAssertTrue(refused.text.contains("Too many failed logins from your address"), refused.text)
        let elsewhere = await login(console, "olivia", "op-secret", from: "192.0.2.8")
        XCTAssertEqual(elsewhere.status, 303)
    }

    /// Scripts' credentials are guesses too: wrong bearer tokens count against the address, and the
    /// refusal is JSON with the same message. Basic credentials (a password on every request) are not
    /// accepted at all, even right ones.
    func testWrongScriptCredentialsCountTowardsTheLimits() async throws {
        let console = try console(Clock(), limits: LoginLimits(perUser: 2, perAddress: 4))
        let basic = await console.respond(to: ConsoleRequest(method: "GET", path: "/api/alerts",
                                                             headers: ["authorization": "Basic " + Data("olivia:op-secret".utf8).base64EncodedString()],
                                                             clientAddress: "198.51.100.1"))
        XCTAssertEqual(basic.status, 401, "a password is not an API credential")
        XCTAssertTrue(basic.text.contains("API token"), basic.text)

        for _ in 1...4 {
            let token = await console.respond(to: ConsoleRequest(method: "GET", path: "/api/alerts", headers: ["authorization": "Bearer wrong"],
                                                                 clientAddress: "198.51.100.3"))
            XCTAssertEqual(token.status, 401)
        }
        let tokenLocked = await console.respond(to: ConsoleRequest(method: "GET", path: "/api/alerts", headers: ["authorization": "Bearer op-token"],
                                                                   clientAddress: "198.51.100.3"))
        XCTAssertEqual(tokenLocked.status, 429)
        XCTAssertTrue(tokenLocked.text.contains("from your address"), tokenLocked.text)
        let goodToken = await console.respond(to: ConsoleRequest(method: "GET", path: "/api/alerts", headers: ["authorization": "Bearer op-token"],
                                                                 clientAddress: "198.51.100.4"))
        XCTAssertEqual(goodToken.status, 200)
    }

    func testSessionsEndWhenIdleAndAfterTheirLifetime() async throws {
        let clock = Clock()
        let console = try console(clock)
        func cookie() async throws -> String {
            let response = await login(console, "olivia", "op-secret")
            return String(try XCTUnwrap(response.headers["Set-Cookie"]).split(separator: ";")[0])
        }
        func page(_ cookie: String) async -> Int {
            await console.respond(to: ConsoleRequest(method: "GET", path: "/alerts", headers: ["cookie": cookie])).status
        }
        let idle = try await cookie()
        clock.advance(29 * 60)
        let active = await page(idle)
        XCTAssertEqual(active, 200)
        clock.advance(29 * 60)
        let stillActive = await page(idle)
        XCTAssertEqual(stillActive, 200, "each request keeps the session alive")
        clock.advance(31 * 60)
        let expiredIdle = await page(idle)
        XCTAssertEqual(expiredIdle, 303, "30 minutes without a request end the session")

        let busy = try await cookie()
        for _ in 0..<(8 * 60 / 20 - 1) {
            clock.advance(20 * 60)
            let status = await page(busy)
            XCTAssertEqual(status, 200)
        }
        clock.advance(20 * 60)
        let expiredLifetime = await page(busy)
        XCTAssertEqual(expiredLifetime, 303, "8 hours after login the session ends however busy it is")
    }

    /// Over real HTTP, the client's address is the TCP peer's: failures from this test's address lock it.
    func testTheServerPassesTheClientsAddress() async throws {
        let console = try console(Clock(), limits: LoginLimits(perUser: 100, perAddress: 2))
        let running = try await ConsoleServer.start(console)
        func post(_ password: String) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: running.url + "/login")!)
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(ConsoleRequest.encodeForm(["name": "olivia", "password": password]).utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        for _ in 1...2 {
            let (status, _) = try await post("guess")
            XCTAssertEqual(status, 401)
        }
        let (status, body) = try await post("op-secret")
        await running.stop()
        XCTAssertEqual(status, 429)
        XCTAssertTrue(body.contains("from your address"), body)
    }
}
