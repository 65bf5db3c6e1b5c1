import Accounting
import Foundation
import Logging
import MappingEditor
import MappingTestSupport
@testable import OperationsConsole
import PipelineContracts
import Transformer
import XCTest

/// A mapper in a real headless Chromium changes the Visa clearing account on the mapping page, previews a posted day,
/// saves; the transformer (already running with the file) builds the next day with the new account and it reaches
/// Sage. An inactive account is refused with the reason. With BRIDGE_MAPPING_SCREENSHOT=FILE the page after the
/// check is saved as a PNG there (docs/images/mapping-page.png is made so).
final class MappingBrowserTests: XCTestCase {
    func testAMapperChangesABrandsAccountPreviewsSavesAndTheNextDayPostsToIt() async throws {
        guard WebDriver.isAvailable else {
            XCTFail("chromium and chromium-driver are not installed (scripts/install-deps installs them)")
            return
        }
        let mapping = try await MappingFixture.start()
        defer { Task { await mapping.stop() } }
        try await mapping.addAccount("1214", "Card clearing - Visa (new acquirer)")
        try await mapping.addAccount("1215", "Old Visa clearing", active: false)
        let fixture = try ConsoleFixture.make {
            $0.mapping = mapping.workbench
            $0.secureCookies = false  // plain HTTP on 127.0.0.1 in the test
        }
        // The transformer's mapping, read before the save and never restarted.
        var logger = Logger(label: "transformer")
        logger.logLevel = .error
        let transformerMapping = try MappingFileSource(path: mapping.mappingPath, logger: logger)
        let visa = "#account-tenders-card_brands-visa-account"
        let preview = "#preview-HL-S-LA-20261126-BAT_LA_1126"
        let running = try await ConsoleServer.start(fixture.console)
        await WebDriver.run { browser in
            try await browser.setWindowSize(width: 1400, height: 1500)
            try await browser.go(running.url + "/mapping")
            try await browser.type(try await browser.element("#name"), "mia")
            try await browser.type(try await browser.element("#password"), "map-secret")
            try await browser.click(try await browser.element("#login"))

            // An inactive account: the check says why, and the save is refused with the reason.
            try await browser.click(try await browser.element("\(visa) option[value='1215']"))
            try await browser.click(try await browser.element("#check"))
            try await browser.waitForText("#check-verdict", "the check refuses the inactive account") { $0.contains("cannot be saved") }
            let problems = try await browser.text(try await browser.element("#check-problems"))
            XCTAssertTrue(problems.contains("account 1215 (Old Visa clearing) is inactive in Sage"), problems)
            try await browser.type(try await browser.element("#why"), "use the old account")
            try await browser.click(try await browser.element("#save"))
            try await browser.waitForText("#error", "the save is refused with the reason") { $0.contains("is inactive in Sage") }
            XCTAssertTrue(try String(contentsOfFile: mapping.mappingPath, encoding: .utf8).contains("      account: \"1210\""))

            // The new acquirer's account, previewed on the posted day.
            try await browser.go(running.url + "/mapping")
            try await browser.click(try await browser.element("\(visa) option[value='1214']"))
            try await browser.click(try await browser.element("#day option[value='\(MappingFixture.postedBatch)']"))
            try await browser.click(try await browser.element("#check"))
            try await browser.waitForText("#check-verdict", "the check passes") { $0.contains("The mapping passes") }
            let shown = try await browser.text(try await browser.element(preview))
            XCTAssertTrue(shown.contains("1214 Card clearing - Visa (new acquirer)") && shown.contains("1210 Card clearing") && shown.contains("account changed"), shown)
            if let path = ProcessInfo.processInfo.environment["BRIDGE_MAPPING_SCREENSHOT"] {
                try await browser.screenshot().write(to: URL(fileURLWithPath: path))
            }
            try await browser.type(try await browser.element("#why"), "Visa moves to the new acquirer")
            try await browser.click(try await browser.element("#save"))
            try await browser.waitForText("#notice", "the save is confirmed") { $0.contains("saved mapping version") }
        }
        await running.stop()

        let versions = try await mapping.versions.versions()
        XCTAssertEqual(versions.first?.actor, "mia")
        XCTAssertEqual(versions.first?.why, "Visa moves to the new acquirer")
        // The next day, through the transformer's code with the file it was started with, posted to Sage as the loader posts.
        let day = MappingFixture.storeDay(batch: "BAT_LA_1127", date: "2026-11-27")
        let journals = try TransformerHandler(mapping: transformerMapping).settlement(batch: day).documents.map(\.journal)
        XCTAssertEqual(journals.count, 1)
        for journal in journals { _ = try await mapping.post(journal) }
        let held = try await mapping.sage.postedJournals(reference: "HL-S-LA-20261127-BAT_LA_1127")
        let lines = held.first?.entries.first?.lines ?? []
        XCTAssertEqual(lines.filter { $0.account == "1214" }.map(\.amountCents), [1280], "\(lines)")
        XCTAssertTrue(lines.allSatisfy { $0.account != "1210" }, "\(lines)")
    }
}
