import Alerter
import Foundation
import FraudScoring
@testable import OperationsConsole
import XCTest

/// An operator in a real headless Chromium opens a card-testing exception from the exceptions list, sees the
/// reasons and the terminal's probes, and acknowledges it from the page, which comes back showing who and why.
final class ExceptionBrowserTests: XCTestCase {
    func testOperatorOpensAnExceptionFromTheListAndAcknowledgesItInChromium() async throws {
        guard WebDriver.isAvailable else {
            XCTFail("chromium and chromium-driver are not installed (scripts/install-deps installs them)")
            return
        }
        let broker = try await TestBroker.shared
        try await broker.importStandardTopology()
        let probes = (1...4).map { i in
            ExceptionPageTests.event("TRN_WEB\(i)", i == 2 ? .sale : .decline, terminal: "DEV0042", card: "MC:555555******444\(i)", cents: 75,
                                     at: "2026-11-27T19:0\(i):00Z")
        }
        let fixture = try await ConsoleFixture.withEvents(probes + [
            ExceptionPageTests.event("TRN_WEBELSEWHERE", .decline, terminal: "DEV0043", card: "MC:555555******4449", cents: 75, at: "2026-11-27T19:02:30Z"),
        ]) {
            $0.amqpURL = broker.amqpURL
            $0.secureCookies = false  // plain HTTP on 127.0.0.1 in the test
        }
        let exception = try await fixture.raise(transaction: "TRN_WEB4", reference: "gateway S01/DEV0042", cents: 75,
                                                summary: "decline TRN_WEB4 $0.75 on MC:555555******4444, keyed (store S01, terminal DEV0042, 13:04 local, status DECLINED)",
                                                reasons: ["card testing: 4 tiny authorisations, 3 declined, on terminal DEV0042 within 10 minutes"],
                                                decidedBy: "line 4")
        let running = try await ConsoleServer.start(fixture.console)
        await WebDriver.run { browser in
            try await browser.go(running.url + "/reviews/exceptions")
            try await browser.type(try await browser.element("#name"), "olivia")
            try await browser.type(try await browser.element("#password"), "op-secret")
            try await browser.click(try await browser.element("#login"))
            try await browser.click(try await browser.element("#exceptions-open a[href='/reviews/exceptions/\(exception.label)']"))
            try await browser.waitForText("#reasons", "the page lists the reasons") { $0.contains("card testing: 4 tiny authorisations") }
            let probesShown = try await browser.text(try await browser.element("#evidence-probes"))
            for i in 1...4 { XCTAssertTrue(probesShown.contains("TRN_WEB\(i)"), probesShown) }
            XCTAssertFalse(probesShown.contains("TRN_WEBELSEWHERE"), "another terminal's decline is not evidence")

            try await browser.type(try await browser.element("#why-ack-\(exception.label)"), "the terminal was stolen; reported")
            try await browser.click(try await browser.element("#ack-\(exception.label)"))
            try await browser.waitForText("#exception-status", "the page shows the acknowledgement") { $0 == "acknowledged" }
            let back = try await browser.currentURL()
            XCTAssertTrue(back.contains("/reviews/exceptions/\(exception.label)"), back)
            let history = try await browser.text(try await browser.element("#history"))
            XCTAssertTrue(history.contains("exception_acknowledged") && history.contains("olivia"), history)
            let stored = try await fixture.reviews.exception(id: exception.id)
            XCTAssertEqual(stored.acknowledgedBy, "olivia")
            XCTAssertEqual(stored.acknowledgedWhy, "the terminal was stolen; reported")
        }
        await running.stop()
    }
}
