import Alerter
import Foundation
@testable import OperationsConsole
import XCTest

/// Login, roles and CSRF, through `OperationsConsole.respond(to:)` (the same function the HTTP server calls).
final class AccessTests: XCTestCase {
    func testSecretHashIsSHA256AsSha256sumPrintsIt() {
        XCTAssertEqual(SecretHash.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SecretHash.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SecretHash.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SecretHash.hex(String(repeating: "a", count: 1000)), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    func testUsersFileRejectsMalformedLines() {
        XCTAssertThrowsError(try ConsoleUsers(lines: "olivia:root:\(String(repeating: "a", count: 64))"))
        XCTAssertThrowsError(try ConsoleUsers(lines: "olivia:operator:plaintext-password"))
        XCTAssertThrowsError(try ConsoleUsers(lines: "olivia:operator:$2b$12$tooshort"))
        XCTAssertThrowsError(try ConsoleUsers.load(file: nil, environment: [:]), "no users: the console refuses to start")
        let users = try? ConsoleUsers.load(file: nil, environment: ["BRIDGE_CONSOLE_USERS": ConsoleUsers.line(name: "a", role: .viewer, password: "s", cost: 4)])
        XCTAssertEqual(users?.users.map(\.name), ["a"])
    }

    func testLoginSetsASessionCookieAndWrongPasswordsAreRefused() async throws {
        let fixture = try ConsoleFixture.make()
        let anonymous = await fixture.get("/alerts")
        XCTAssertEqual(anonymous.status, 303)
        XCTAssertEqual(anonymous.headers["Location"], "/login?next=%2Falerts")
        let anonymousAPI = await fixture.get("/api/alerts")
        XCTAssertEqual(anonymousAPI.status, 401)

        let wrong = await fixture.post("/login", form: ["name": "olivia", "password": "guess"])
        XCTAssertEqual(wrong.status, 401)
        XCTAssertNil(wrong.headers["Set-Cookie"])
        XCTAssertTrue(wrong.text.contains("Wrong name or password"), wrong.text)

        let right = await fixture.post("/login", form: ["name": "olivia", "password": "op-secret", "next": "/reviews"])
        XCTAssertEqual(right.status, 303)
        XCTAssertEqual(right.headers["Location"], "/reviews")
        let cookie = try XCTUnwrap(right.headers["Set-Cookie"])
        XCTAssertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie)
        let page = await fixture.get("/alerts", ["cookie": String(cookie.split(separator: ";")[0])])
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("olivia (operator)"), page.text)

        let forged = await fixture.get("/alerts", ["cookie": "bridge_console=\(String(repeating: "0", count: 64))"])
        XCTAssertEqual(forged.status, 303, "an unknown session id is no session")
        let offsite = await fixture.post("/login", form: ["name": "olivia", "password": "op-secret", "next": "//evil.example/"])
        XCTAssertEqual(offsite.headers["Location"], "/", "never redirected off the console")
    }

    func testViewerGets403OnEveryAction() async throws {
        let fixture = try ConsoleFixture.make()
        let group = try await fixture.recordAlert()
        let held = try await fixture.holdDocument()
        let exception = try await fixture.raiseException()
        let viewer = try await fixture.login("victor", "view-secret")
        for (path, form) in [("/alerts/acknowledge", ["fingerprint": group.fingerprint]), ("/reviews/\(held.id)/approve", ["why": "ok"]),
                             ("/reviews/\(held.id)/reject", ["why": "no"]), ("/dlq/sage-loader/replay", [:]), ("/dlq/sage-loader/purge", [:]),
                             ("/reviews/exceptions/\(exception.label)/acknowledge", ["why": "seen"])] {
            let response = await fixture.post(path, ["cookie": viewer.cookie], form: form.merging(["csrf": viewer.csrf]) { $1 })
            XCTAssertEqual(response.status, 403, "\(path): \(response.text)")
            XCTAssertTrue(response.text.contains("viewer"), response.text)
        }
        let token = await fixture.post("/alerts/acknowledge", ["authorization": "Bearer view-token"], form: ["fingerprint": group.fingerprint])
        XCTAssertEqual(token.status, 403)
        let alertGroups = try await fixture.operations.alertGroups()
        XCTAssertNil(alertGroups.first?.acknowledgedBy, "nothing was acknowledged")
        let document = try await fixture.reviews.show(id: held.id)
        XCTAssertEqual(document.status, .held, "nothing was decided")
        let scripted = await fixture.post("/reviews/exceptions/\(exception.label)/acknowledge", ["authorization": "Bearer view-token"],
                                          form: ["why": "seen"])
        XCTAssertEqual(scripted.status, 403, scripted.text)
        let stored = try await fixture.reviews.exception(id: exception.id)
        XCTAssertEqual(stored.status, .open, "nothing was acknowledged")
        let auditTrail = try await fixture.operations.auditTrail()
        XCTAssertTrue(auditTrail.isEmpty, "nothing was audited")
        let page = await fixture.get("/alerts", ["cookie": viewer.cookie])
        XCTAssertFalse(page.text.contains("Acknowledge</button>"), "a viewer is not offered actions")
        let reviews = await fixture.get("/reviews", ["cookie": viewer.cookie])
        XCTAssertTrue(reviews.text.contains(exception.transactionId), "a viewer sees the exceptions")
        XCTAssertFalse(reviews.text.contains("Acknowledge</button>"), "but is not offered to acknowledge them")
    }

    func testActionsWithoutTheSessionsCSRFTokenAreRefused() async throws {
        let fixture = try ConsoleFixture.make()
        let group = try await fixture.recordAlert()
        let operatorSession = try await fixture.login("olivia", "op-secret")
        let other = try await fixture.login("olivia", "op-secret")
        XCTAssertNotEqual(operatorSession.csrf, other.csrf, "one token per session")
        for csrf in [nil, "", other.csrf] {
            var form = ["fingerprint": group.fingerprint]
            form["csrf"] = csrf
            let response = await fixture.post("/alerts/acknowledge", ["cookie": operatorSession.cookie], form: form)
            XCTAssertEqual(response.status, 403, response.text)
            XCTAssertTrue(response.text.contains("CSRF"), response.text)
        }
        let refused = try await fixture.operations.alertGroups()
        XCTAssertNil(refused.first?.acknowledgedBy)

        let accepted = await fixture.post("/alerts/acknowledge", ["cookie": operatorSession.cookie],
                                          form: ["fingerprint": group.fingerprint, "csrf": operatorSession.csrf])
        XCTAssertEqual(accepted.status, 303, accepted.text)
        XCTAssertTrue(accepted.headers["Location"]?.hasPrefix("/alerts?notice=") == true)
        let groups = try await fixture.operations.alertGroups()
        let acknowledged = try XCTUnwrap(groups.first)
        XCTAssertEqual(acknowledged.acknowledgedBy, "olivia")
        XCTAssertNotNil(acknowledged.acknowledgedAt)
        let audit = try await fixture.actionAudit()
        XCTAssertEqual(audit.map(\.event), ["alert_acknowledged"])
        XCTAssertEqual(audit.first?.actor, "olivia")

        // A new occurrence of the same alert needs a person again.
        _ = try await fixture.recordAlert()
        let alertGroups = try await fixture.operations.alertGroups()
        XCTAssertNil(alertGroups.first?.acknowledgedBy)
    }

    func testLogoutEndsTheSession() async throws {
        let fixture = try ConsoleFixture.make()
        let session = try await fixture.login("victor", "view-secret")
        let out = await fixture.post("/logout", ["cookie": session.cookie], form: ["csrf": session.csrf])
        XCTAssertEqual(out.status, 303)
        let after = await fixture.get("/alerts", ["cookie": session.cookie])
        XCTAssertEqual(after.status, 303, "logged out")
    }
}
