import AMQP
import Alerter
import Foundation
import FraudScoring
import Messaging
@testable import OperationsConsole
import TestPrograms
import XCTest

/// The console in a real headless Chromium, through chromedriver: an approver logs in with the form,
/// looks at the pipeline, replays a dead letter and approves a held document by clicking, and the
/// outcome is checked on the broker and in the stores. The pages run under the console's
/// Content-Security-Policy (no inline script), so the clicks also show that console.js works.
final class BrowserTests: XCTestCase {
    func testApproverReplaysADeadLetterAndApprovesAReviewInChromium() async throws {
        guard WebDriver.isAvailable else {
            XCTFail("chromium and chromium-driver are not installed (scripts/install-deps installs them)")
            return
        }
        let stage = try await ConsoleTestStage.make()
        // Plain HTTP on 127.0.0.1 in the test: the development setting without the cookie's Secure attribute.
        let fixture = try ConsoleFixture.make(stages: [stage.name], amqpURL: stage.broker.amqpURL, managementURL: stage.broker.managementURL) {
            $0.secureCookies = false
        }
        let running = try await ConsoleServer.start(fixture.console)
        await WebDriver.run { browser in
            try await scenario(browser: browser, url: running.url, stage: stage, fixture: fixture)
        }
        await running.stop()
        await stage.remove()
    }

    private func scenario(browser: WebDriver, url: String, stage: ConsoleTestStage, fixture: ConsoleFixture) async throws {
        let parked = try await stage.park(reason: "GL account 4010 does not exist in Sage company SAMINC", key: "browser:1")
        let staying = try await stage.park(reason: "unmapped tender GIFT", key: "browser:2")
        let held = try await fixture.holdDocument(key: "heartland:batch:BAT_BROWSER1")

        // Any page sends an anonymous visitor to the login form; logging in returns there.
        try await browser.go(url + "/dlq")
        try await browser.type(try await browser.element("#name"), "april")
        try await browser.type(try await browser.element("#password"), "approve-secret")
        try await browser.click(try await browser.element("#login"))
        try await browser.waitForText("#who", "logged in as the approver") { $0.contains("april (approver)") }
        let afterLogin = try await browser.currentURL()
        XCTAssertTrue(afterLogin.hasSuffix("/dlq"), afterLogin)

        try await browser.go(url + "/pipeline")
        try await browser.waitForText("#pipeline", "the pipeline lists the stage") { $0.contains(stage.name) }

        // Replay one dead letter by clicking its button.
        try await browser.go(url + "/dlq")
        try await browser.click(try await browser.element("#replay-\(parked)"))
        try await browser.waitForText("#notice", "the replay is confirmed") { $0.contains("replayed 1 message(s)") }
        try await eventually("the message left the parking lot and reached its stage") {
            let inStage = try await stage.broker.depth(stage.name), parked = try await stage.broker.depth(stage.dlq)
            return inStage == 1 && parked == 1
        }
        let replayed = try await stage.broker.take(stage.name)
        XCTAssertEqual(replayed.map { $0.properties.messageID }, [parked])
        XCTAssertEqual(replayed.first?.properties.headers["x-replayed-by"]?.stringValue, "april")
        XCTAssertEqual(replayed.first?.properties.headers[Header.replayCount]?.intValue, 1)
        let stillParked = try await browser.exists("#replay-\(staying)")
        XCTAssertTrue(stillParked, "the other message is still listed")

        // Approve the held document: the why is typed, the button clicked.
        try await browser.go(url + "/reviews")
        try await browser.click(try await browser.element("a[href='/reviews/\(held.id)']"))
        try await browser.type(try await browser.element("#why"), "called the store: a quiet day")
        try await browser.click(try await browser.element("#approve"))
        try await browser.waitForText("#review-status", "the review shows approved") { $0 == "approved" }
        let notice = try await browser.text(try await browser.element("#notice"))
        XCTAssertTrue(notice.contains("released to the loaders"), notice)
        let decided = try await fixture.reviews.show(id: held.id)
        XCTAssertEqual(decided.status, .approved)
        XCTAssertEqual(decided.decidedBy, "april")
        XCTAssertEqual(decided.decidedWhy, "called the store: a quiet day")
        let decisionFormGone = try await browser.exists("#approve")
        XCTAssertFalse(decisionFormGone, "a decided review offers no second approval")

        // Released once: exactly one command for the loaders, with the release's id, and a second approval is refused.
        try await eventually("the release reached the loaders' exchange") { try await stage.broker.depth(stage.commands) >= 1 }
        let again = await fixture.post("/reviews/\(held.id)/approve", ["authorization": "Bearer approve-token"], form: ["why": "again"])
        XCTAssertEqual(again.status, 409, again.text)
        let released = try await stage.broker.take(stage.commands).filter { $0.properties.headers[Header.idempotencyKey]?.stringValue == held.idempotencyKey }
        XCTAssertEqual(released.count, 1)
        XCTAssertEqual(released.first?.properties.messageID, MessageID.derived("review", held.idempotencyKey))
        XCTAssertEqual(released.first?.properties.headers["x-fraud-assessment"]?.stringValue, "approved")

        // Both actions are in the audit trail with the actor, and the audit page shows them.
        let audit = try await fixture.operations.auditTrail()
        XCTAssertTrue(audit.contains { $0.event == "review_approved" && $0.actor == "april" && $0.detail.contains("quiet day") }, "\(audit)")
        XCTAssertTrue(audit.contains { $0.event == "dlq_replayed" && $0.actor == "april" }, "\(audit)")
        try await browser.go(url + "/audit")
        try await browser.waitForText("#audit", "the audit page lists the approval") { $0.contains("review_approved") && $0.contains("dlq_replayed") }

        // A viewer sees the same pages without the buttons.
        try await browser.click(try await browser.element("#logout"))
        try await browser.type(try await browser.element("#name"), "victor")
        try await browser.type(try await browser.element("#password"), "view-secret")
        try await browser.click(try await browser.element("#login"))
        try await browser.waitForText("#who", "logged in as the viewer") { $0.contains("victor (viewer)") }
        try await browser.go(url + "/dlq")
        _ = try await browser.element("#messages-\(stage.name.replacingOccurrences(of: ".", with: "\\."))")
        let viewerCanReplay = try await browser.exists("#replay-\(staying)")
        XCTAssertFalse(viewerCanReplay, "no replay button for a viewer")
    }
}
