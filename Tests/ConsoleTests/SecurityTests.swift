import Alerter
import Foundation
import GRDB
import Logging
@testable import OperationsConsole
import Synchronization
import TestPrograms
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 17's console items, each through `OperationsConsole.respond(to:)` or over HTTP: bcrypt passwords
/// with the SHA-256 transition, API tokens apart from passwords, the session cookie, local redirects
/// only, login limits behind a trusted proxy, roles above operator, audit-or-refuse, and the CSP.
final class SecurityTests: XCTestCase {
    /// Log messages and their metadata, for the start-up warning.
    final class Messages: LogHandler, Sendable {
        let lines = Mutex<[String]>([])
        var metadata: Logger.Metadata { get { [:] } set {} }
        var metadataProvider: Logger.MetadataProvider? { get { nil } set {} }
        var logLevel: Logger.Level { get { .trace } set {} }
        subscript(metadataKey _: String) -> Logger.Metadata.Value? { get { nil } set {} }
        func log(event: LogEvent) { lines.withLock { $0.append("\(event.message) \(event.metadata ?? [:])") } }
    }

    func testPasswordsAreSaltedBcryptAndLegacySHA256LinesStillLogInWithAStartupWarning() async throws {
        let first = ConsoleUsers.line(name: "olivia", role: .operator, password: "a long password", cost: 4)
        let second = ConsoleUsers.line(name: "olivia", role: .operator, password: "a long password", cost: 4)
        XCTAssertTrue(first.hasPrefix("olivia:operator:$2b$04$"), first)
        XCTAssertNotEqual(first, second, "salted: the same password hashes differently each time")

        let legacy = "old-timer:viewer:\(SecretHash.hex("legacy password"))"
        let users = try ConsoleUsers(lines: [first, legacy].joined(separator: "\n"))
        XCTAssertEqual(users.legacyNames, ["old-timer"])
        let bcryptUser = await users.authenticate(name: "olivia", password: "a long password")
        XCTAssertEqual(bcryptUser?.name, "olivia")
        let wrong = await users.authenticate(name: "olivia", password: "a long passwork")
        XCTAssertNil(wrong)
        let legacyUser = await users.authenticate(name: "old-timer", password: "legacy password")
        XCTAssertEqual(legacyUser?.role, .viewer, "the SHA-256 form still logs in during the transition")

        let messages = Messages()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-legacy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = OperationsConsole(configuration: .init(users: users, stages: [], operations: try OperationsStore(path: folder.appendingPathComponent("ops.sqlite").path),
                                                   reviewStorePath: nil, amqpURL: nil, managementURL: nil),
                              logger: Logger(label: "console") { _ in messages })
        let warning = messages.lines.withLock { $0 }.first { $0.contains("SHA-256") }
        XCTAssertTrue(warning?.contains("old-timer") == true && warning?.contains("bridgectl console hash-password") == true, "\(messages.lines.withLock { $0 })")
        XCTAssertFalse(warning?.contains("olivia") == true, "only the users still on SHA-256 are named")
    }

    /// `bridgectl console hash-password NAME ROLE` reads the password from stdin and prints a line the console accepts.
    func testBridgectlPrintsABcryptLineForAPasswordFromStdin() async throws {
        let bridgectl = AlerterConsoleTests.binDirectory().appendingPathComponent("bridgectl").path
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), [
            "-c", "printf '%s\\n' \"$1\" | \"$2\" console hash-password april approver --cost 10", "sh", "correct horse battery", bridgectl])
        XCTAssertTrue(result.succeeded, result.error)
        let line = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(line.hasPrefix("april:approver:$2b$10$"), line)
        let user = await (try ConsoleUsers(lines: line)).authenticate(name: "april", password: "correct horse battery")
        XCTAssertEqual(user?.role, .approver)
    }

    /// Bcrypt at cost 12 takes hundreds of milliseconds: measured here, and run on NIO's thread pool,
    /// so that while two verifications run, the cooperative pool (two threads here) still runs tasks.
    func testOneVerificationIsMeasuredAndRunsOffTheCooperativePool() async throws {
        // bcrypt("a long password") at cost 12, made beforehand: hashing here would block this test's thread.
        let hash = try XCTUnwrap(PasswordHash("$2b$12$SgtvwrMiPobFXB/0gDY/guvSqnRBTN0A5NKoToGVkC45G7APw2OTa"))
        let clock = ContinuousClock()
        let started = clock.now
        let ok = await hash.verify("a long password")
        let one = clock.now - started
        XCTAssertTrue(ok)
        print("one bcrypt verification at cost 12: \(one)")

        final class FirstTick: Sendable {
            let instant = Mutex<ContinuousClock.Instant?>(nil)
        }
        let begin = clock.now
        let firstTick = FirstTick()
        let ticker = Task {
            while !Task.isCancelled {
                firstTick.instant.withLock { if $0 == nil { $0 = clock.now } }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        async let a = hash.verify("a long password")
        async let b = hash.verify("wrong")
        let results = await (a, b)
        let finished = clock.now
        ticker.cancel()
        XCTAssertEqual(results.0, true)
        XCTAssertEqual(results.1, false)
        let tick = try XCTUnwrap(firstTick.instant.withLock { $0 })
        XCTAssertLessThan(tick - begin, (finished - begin) / 2, "the cooperative pool ran other work while bcrypt ran")
    }

    func testAPasswordIsNotATokenAndTokensAreNamedAndRevocable() async throws {
        let fixture = try ConsoleFixture.make {
            $0.users = try ConsoleUsers(lines: ConsoleFixture.usersFile + "\nold-timer:operator:\(SecretHash.hex("legacy password"))")
        }
        let password = await fixture.get("/api/alerts", ["authorization": "Bearer op-secret"])
        XCTAssertEqual(password.status, 401, "olivia's password does not work as a bearer token")
        let legacy = await fixture.get("/api/alerts", ["authorization": "Bearer legacy password"])
        XCTAssertEqual(legacy.status, 401, "nor does a password on the old SHA-256 line (whose hash a token used to be)")

        let token = try ConsoleTokens.create(name: "grafana", role: .viewer, file: fixture.tokensPath)
        XCTAssertTrue(token.hasPrefix("bct_") && token.count == 68, token)
        let stored = try String(contentsOfFile: fixture.tokensPath, encoding: .utf8)
        XCTAssertFalse(stored.contains(token), "only the token's hash is kept")
        XCTAssertTrue(stored.contains("grafana:viewer:\(SecretHash.hex(token))"), stored)
        XCTAssertEqual(try ConsoleTokens.list(file: fixture.tokensPath).map(\.name), ["ci-operator", "dashboard", "ci-approver", "ci-admin", "grafana"])
        XCTAssertThrowsError(try ConsoleTokens.create(name: "grafana", role: .admin, file: fixture.tokensPath), "names are unique")
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.tokensPath)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)

        let allowed = await fixture.get("/api/alerts", ["authorization": "Bearer \(token)"])
        XCTAssertEqual(allowed.status, 200, "the running console reads the new token: \(allowed.text)")
        let viewerAction = await fixture.post("/alerts/acknowledge", ["authorization": "Bearer \(token)"], form: ["fingerprint": "x"])
        XCTAssertEqual(viewerAction.status, 403, "a token has its role")

        try ConsoleTokens.revoke(name: "grafana", file: fixture.tokensPath)
        let revoked = await fixture.get("/api/alerts", ["authorization": "Bearer \(token)"])
        XCTAssertEqual(revoked.status, 401, "refused from the next request, without a restart")
        let others = await fixture.get("/api/alerts", ["authorization": "Bearer view-token"])
        XCTAssertEqual(others.status, 200, "other tokens stay")
        XCTAssertThrowsError(try ConsoleTokens.revoke(name: "grafana", file: fixture.tokensPath))

        try "dashboard:viewer:not-a-hash\n".write(toFile: fixture.tokensPath, atomically: true, encoding: .utf8)
        let broken = await fixture.get("/api/alerts", ["authorization": "Bearer view-token"])
        XCTAssertEqual(broken.status, 401, "a tokens file that cannot be read lets no token in")
    }

    func testTheSessionCookieIsSecureHttpOnlyAndStrictUnlessConfiguredForPlainHTTP() async throws {
        let secure = try ConsoleFixture.make()
        let login = await secure.post("/login", form: ["name": "olivia", "password": "op-secret"])
        let cookie = try XCTUnwrap(login.headers["Set-Cookie"])
        for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            XCTAssertTrue(cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.contains(attribute), "\(attribute): \(cookie)")
        }
        let session = try await secure.login("olivia", "op-secret")
        let logout = await secure.post("/logout", ["cookie": session.cookie], form: ["csrf": session.csrf])
        XCTAssertTrue(logout.headers["Set-Cookie"]?.contains("Secure") == true, "the clearing cookie too")

        let development = try ConsoleFixture.make { $0.secureCookies = false }
        let plain = await development.post("/login", form: ["name": "olivia", "password": "op-secret"])
        let plainCookie = try XCTUnwrap(plain.headers["Set-Cookie"])
        XCTAssertFalse(plainCookie.contains("Secure"), plainCookie)
        XCTAssertTrue(plainCookie.contains("HttpOnly") && plainCookie.contains("SameSite=Strict"), plainCookie)
    }

    func testTheLoginSendsOnlyToLocalPaths() async throws {
        let fixture = try ConsoleFixture.make()
        for evil in ["/\\evil.example", "//evil", "https://evil", "/%2F%2Fevil", "/%5Cevil.example", "%2F%2Fevil", "/%252F%252Fevil", "javascript:alert(1)",
                     "/\t/evil", "http:/evil", ""] {
            let response = await fixture.post("/login", form: ["name": "olivia", "password": "op-secret", "next": evil])
            XCTAssertEqual(response.status, 303)
            XCTAssertEqual(response.headers["Location"], "/", "next=\(evil)")
            let form = await fixture.get("/login", query: ["next": evil])
            XCTAssertTrue(form.text.contains("name=\"next\" value=\"/\""), "the form does not carry \(evil)")
        }
        for local in ["/reviews?status=all", "/matches/heartland:C00002%7Csage:1200", "/dlq"] {
            let response = await fixture.post("/login", form: ["name": "olivia", "password": "op-secret", "next": local])
            XCTAssertEqual(response.headers["Location"], local)
        }
    }

    /// Behind a trusted proxy every client arrives from the proxy's address: the limits count the
    /// address in X-Forwarded-For, believed only from the configured proxies.
    func testLoginLimitsCountTheClientBehindATrustedProxyOnly() async throws {
        let fixture = try ConsoleFixture.make {
            $0.trustedProxies = try TrustedProxies("10.0.0.2, 172.18.0.0/16")
            $0.loginLimits = LoginLimits(perUser: 100, perAddress: 3)
        }
        func login(_ password: String, peer: String, forwardedFor: String?) async -> ConsoleResponse {
            var headers: [String: String] = [:]
            headers["x-forwarded-for"] = forwardedFor
            return await fixture.console.respond(to: ConsoleRequest(method: "POST", path: "/login", headers: headers,
                                                                    form: ["name": "olivia", "password": password], clientAddress: peer))
        }
        for _ in 1...3 {
            let guess = await login("guess", peer: "10.0.0.2", forwardedFor: "203.0.113.9")
            XCTAssertEqual(guess.status, 401)
        }
        let attacker = await login("op-secret", peer: "10.0.0.2", forwardedFor: "203.0.113.9")
        XCTAssertEqual(attacker.status, 429, "the guessing client is locked")
        let colleague = await login("op-secret", peer: "10.0.0.2", forwardedFor: "198.51.100.7")
        XCTAssertEqual(colleague.status, 303, "another client behind the same proxy is not")
        let chained = await login("op-secret", peer: "172.18.0.5", forwardedFor: "203.0.113.9, 10.0.0.2")
        XCTAssertEqual(chained.status, 429, "through two trusted proxies it is still the same client")
        let spoofed = await login("op-secret", peer: "172.18.0.5", forwardedFor: "198.51.100.7, 203.0.113.9")
        XCTAssertEqual(spoofed.status, 429, "what the client wrote left of its real address is not believed")

        // From an untrusted peer the header is ignored: inventing addresses escapes nothing.
        for index in 1...3 {
            let guess = await login("guess", peer: "192.0.2.50", forwardedFor: "198.51.100.\(index + 20)")
            XCTAssertEqual(guess.status, 401)
        }
        let direct = await login("op-secret", peer: "192.0.2.50", forwardedFor: "198.51.100.99")
        XCTAssertEqual(direct.status, 429)
        XCTAssertThrowsError(try TrustedProxies("10.0.0.0/33"))
        XCTAssertThrowsError(try TrustedProxies("proxy.example"))
    }

    /// Over HTTP the server hands X-Forwarded-For to the console.
    func testTheServerPassesXForwardedForFromATrustedProxy() async throws {
        let fixture = try ConsoleFixture.make {
            $0.trustedProxies = try TrustedProxies("127.0.0.1")
            $0.loginLimits = LoginLimits(perUser: 100, perAddress: 2)
        }
        let running = try await ConsoleServer.start(fixture.console)
        func post(from client: String) async throws -> Int {
            var request = URLRequest(url: URL(string: running.url + "/login")!)
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.setValue(client, forHTTPHeaderField: "X-Forwarded-For")
            request.httpBody = Data(ConsoleRequest.encodeForm(["name": "olivia", "password": "guess"]).utf8)
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        let first = try await post(from: "203.0.113.1"), second = try await post(from: "203.0.113.1")
        let locked = try await post(from: "203.0.113.1"), other = try await post(from: "203.0.113.2")
        let (_, page) = try await URLSession.shared.data(from: URL(string: running.url + "/login")!)
        await running.stop()
        XCTAssertEqual([first, second, locked, other], [401, 401, 429, 401])
        let policy = (page as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Security-Policy") ?? ""
        XCTAssertTrue(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), policy)
    }

    func testPurgingNeedsAdminAndApprovingNeedsApprover() async throws {
        let fixture = try ConsoleFixture.make()
        let held = try await fixture.holdDocument()
        for (token, path, allowed) in [("op-token", "/dlq/sage-loader/purge", false), ("approve-token", "/dlq/sage-loader/purge", false),
                                       ("admin-token", "/dlq/sage-loader/purge", true), ("op-token", "/reviews/\(held.id)/approve", false),
                                       ("approve-token", "/reviews/\(held.id)/approve", true), ("admin-token", "/reviews/\(held.id)/approve", true),
                                       ("op-token", "/reviews/\(held.id)/reject", true), ("op-token", "/dlq/sage-loader/replay", true)] {
            let response = await fixture.post(path, ["authorization": "Bearer \(token)"], form: ["why": "test"])
            if allowed {
                XCTAssertEqual(response.status, 503, "\(token) \(path) passes the role check (then needs the broker): \(response.text)")
            } else {
                XCTAssertEqual(response.status, 403, "\(token) \(path): \(response.text)")
                XCTAssertTrue(response.text.contains(path.hasSuffix("purge") ? "needs admin" : "needs approver"), response.text)
            }
        }
        let document = try await fixture.reviews.show(id: held.id)
        XCTAssertEqual(document.status, .held)
        XCTAssertFalse(HTML.deadLetters([Self.parkedStage], principal: Principal(user: try XCTUnwrap(fixture.user("olivia")))).contains("Purge"),
                       "an operator is not offered the purge")
        XCTAssertTrue(HTML.deadLetters([Self.parkedStage], principal: Principal(user: try XCTUnwrap(fixture.user("ada")))).contains("Purge"))
    }

    static let parkedStage = StageDeadLetters(stage: "sage-loader", count: 1, truncated: false,
                                              groups: [.init(errorClass: "permanent", lastError: "x", count: 1, messageIds: ["m1"])], messages: [])

    /// Every action writes who asked for it before it is done; if that write fails, nothing is done.
    func testAnActionIsRefusedWhenTheAuditTrailCannotBeWritten() async throws {
        let fixture = try ConsoleFixture.make()
        let group = try await fixture.recordAlert()
        let database = try DatabaseQueue(path: fixture.folder.appendingPathComponent("operations.sqlite").path)
        try await database.write { db in
            try db.execute(sql: "CREATE TRIGGER audit_full BEFORE INSERT ON audit_event BEGIN SELECT RAISE(FAIL, 'disk full'); END")
        }
        let refused = await fixture.post("/alerts/acknowledge", ["authorization": "Bearer op-token"], form: ["fingerprint": group.fingerprint])
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertTrue(refused.text.contains("audit trail cannot be written"), refused.text)
        let unchanged = try await fixture.operations.alertGroups()
        XCTAssertNil(unchanged.first?.acknowledgedBy, "nothing was done")

        try await database.write { db in try db.execute(sql: "DROP TRIGGER audit_full") }
        let accepted = await fixture.post("/alerts/acknowledge", ["authorization": "Bearer op-token"], form: ["fingerprint": group.fingerprint])
        XCTAssertEqual(accepted.status, 200, accepted.text)
        let trail = try await fixture.operations.auditTrail()
        XCTAssertEqual(trail.map(\.event), ["alert_acknowledged", OperationsConsole.requestedEvent], "the request, then its outcome")
        XCTAssertTrue(trail.last?.detail.contains("token:ci-operator (operator) asked for acknowledging an alert") == true, "\(trail)")
    }

    /// The policy allows the console's own script and stylesheet only; no page has an inline script,
    /// an event-handler attribute or an inline style, and the static files are served without a session.
    func testPagesRunUnderAPolicyWithoutInlineScripts() async throws {
        let fixture = try ConsoleFixture.make(customerReviews: true)
        let held = try await fixture.holdDocument()
        _ = try await fixture.recordAlert()
        _ = try await fixture.raiseException()
        let login = await fixture.get("/login")
        let policy = try XCTUnwrap(login.headers["Content-Security-Policy"])
        XCTAssertFalse(policy.contains("unsafe-inline") || policy.contains("unsafe-eval"), policy)
        XCTAssertTrue(policy.contains("script-src 'self'") && policy.contains("style-src 'self'") && policy.contains("frame-ancestors 'none'"), policy)

        let session = try await fixture.login("ada", "admin-secret")
        var pages = [login.text]
        for path in ["/alerts", "/reviews", "/reviews/\(held.id)", "/reviews/exceptions", "/reconciliations", "/quarantine", "/matches", "/audit", "/dlq"] {
            let page = await fixture.get(path, ["cookie": session.cookie])
            XCTAssertEqual(page.headers["Content-Security-Policy"], policy, path)
            pages.append(page.text)
        }
        let principal = Principal(user: try XCTUnwrap(fixture.user("ada")), csrfToken: session.csrf, sessionID: nil)
        pages.append(HTML.page(title: "Pipeline", principal: principal, notice: nil, body: HTML.pipeline(PipelineOverview(at: "now", stages: [
            .init(stage: "sage-loader", ready: 1, unacked: 0, consumers: 1, publishRate: 0, deliverRate: 0, ackRate: 0, retrying: 0, deadLettered: 2)]))))
        pages.append(HTML.page(title: "Dead letters", principal: principal, notice: nil, body: HTML.deadLetters([Self.parkedStage], principal: principal)))
        let inlineScript = try NSRegularExpression(pattern: #"<script(?![^>]*\bsrc=)[^>]*>"#, options: [.caseInsensitive])
        let handler = try NSRegularExpression(pattern: #"<[^>]+\son[a-z]+\s*="#, options: [.caseInsensitive])
        let inlineStyle = try NSRegularExpression(pattern: #"<style|<[^>]+\sstyle\s*="#, options: [.caseInsensitive])
        for page in pages {
            let range = NSRange(page.startIndex..., in: page)
            XCTAssertNil(inlineScript.firstMatch(in: page, range: range), "an inline script: \(page.prefix(400))")
            XCTAssertNil(handler.firstMatch(in: page, range: range), "an event-handler attribute")
            XCTAssertNil(inlineStyle.firstMatch(in: page, range: range), "an inline style")
        }
        XCTAssertTrue(pages.last?.contains("data-confirm=") == true, "the purge still asks first (console.js)")
        XCTAssertTrue(pages[pages.count - 2].contains("data-refresh=\"/api/pipeline\""), "the pipeline still refreshes (console.js)")

        for (path, type) in [("/static/console.js", "text/javascript"), ("/static/console.css", "text/css")] {
            let asset = await fixture.get(path)
            XCTAssertEqual(asset.status, 200, path)
            XCTAssertTrue(asset.headers["Content-Type"]?.hasPrefix(type) == true, path)
        }
        let script = await fixture.get("/static/console.js")
        XCTAssertTrue(script.text.contains("dataset.confirm"))
    }
}

extension ConsoleFixture {
    func user(_ name: String) -> ConsoleUsers.User? { console.configuration.users.users.first { $0.name == name } }
}
