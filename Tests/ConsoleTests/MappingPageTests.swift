import Alerter
import Foundation
@testable import MappingEditor
import MappingTestSupport
@testable import OperationsConsole
import TestPrograms
import XCTest

/// `/mapping` and its actions over sage-pro-sim and a kept store day, called as the server calls the console.
final class MappingPageTests: XCTestCase {
    static let visa = "tenders.card_brands.visa.account"

    func make() async throws -> (ConsoleFixture, MappingFixture) {
        let mapping = try await MappingFixture.start()
        try await mapping.addAccount("1214", "Card clearing - Visa (new acquirer)")
        try await mapping.addAccount("1215", "Old Visa clearing", active: false)
        let console = try ConsoleFixture.make { $0.mapping = mapping.workbench }
        return (console, mapping)
    }

    func testEveryRuleIsARowWithTheAccountsNameAndChoicesFromSagesChartInactiveMarked() async throws {
        let (console, mapping) = try await make()
        defer { Task { await mapping.stop() } }
        let session = try await console.login("victor", "view-secret")
        let page = await console.get("/mapping", ["cookie": session.cookie])
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains("<code>tenders.card_brands.visa.account</code>"), page.text)
        XCTAssertTrue(page.text.contains("1210 Card clearing - Visa"))
        XCTAssertTrue(page.text.contains("id=\"account-tenders-card_brands-visa-account\""))
        XCTAssertTrue(page.text.contains(">1215 Old Visa clearing (inactive)</option>"), "inactive accounts are marked")
        XCTAssertTrue(page.text.contains("<option value=\"1214\">1214 Card clearing - Visa (new acquirer)</option>"), "Sage's live chart, not the file's")
        XCTAssertTrue(page.text.contains("2026-11-26 store S-LA batch BAT_LA_1126"), "the kept day is offered for a preview")
        XCTAssertFalse(page.text.contains("<input name=\"") && page.text.contains("account."), "no free typing of account numbers")

        let json = try decodeJSON(JSONValueProbe.self, await console.get("/api/mapping", ["cookie": session.cookie]))
        XCTAssertEqual(json.rows.count, 29, "every rule, AR's control account included")
        XCTAssertEqual(json.rows.first { $0.rule == Self.visa }?.accountName, "Card clearing - Visa")
        XCTAssertEqual(json.chart?.first { $0.number == "1215" }?.active, false)
    }

    func testACheckListsWhySageWouldRefuseAChoiceAndTheSaveIsRefusedWithTheReason() async throws {
        let (console, mapping) = try await make()
        defer { Task { await mapping.stop() } }
        let original = try String(contentsOfFile: mapping.mappingPath, encoding: .utf8)
        let session = try await console.login("mia", "map-secret")
        let page = await console.get("/mapping", ["cookie": session.cookie], query: ["check": "1", "account.\(Self.visa)": "1215", "day": "BAT_LA_1126"])
        XCTAssertTrue(page.text.contains("The mapping cannot be saved"), page.text)
        XCTAssertTrue(page.text.contains("account 1215 (Old Visa clearing) is inactive in Sage"), page.text)
        XCTAssertTrue(page.text.contains("account changed"), "the preview shows the changed line")
        let refused = await console.post("/mapping/save", ["cookie": session.cookie, "accept": "application/json"],
                                         form: ["csrf": session.csrf, "account.\(Self.visa)": "1215", "why": "try the old account"])
        XCTAssertEqual(refused.status, 409, refused.text)
        XCTAssertTrue(refused.text.contains("is inactive in Sage"), refused.text)
        XCTAssertEqual(try String(contentsOfFile: mapping.mappingPath, encoding: .utf8), original)
        let versions = try await mapping.versions.versions()
        XCTAssertTrue(versions.isEmpty)
    }

    func testAMapperSavesWithWhyItIsAVersionInTheAuditTrailAndRestoresAnEarlierOne() async throws {
        let (console, mapping) = try await make()
        defer { Task { await mapping.stop() } }
        let original = try String(contentsOfFile: mapping.mappingPath, encoding: .utf8)
        let session = try await console.login("mia", "map-secret")
        let noWhy = await console.post("/mapping/save", ["cookie": session.cookie, "accept": "application/json"],
                                       form: ["csrf": session.csrf, "account.\(Self.visa)": "1214"])
        XCTAssertEqual(noWhy.status, 400, noWhy.text)
        let saved = await console.post("/mapping/save", ["cookie": session.cookie],
                                       form: ["csrf": session.csrf, "account.\(Self.visa)": "1214", "why": "new Visa acquirer from December"])
        XCTAssertEqual(saved.status, 303, saved.text)
        XCTAssertTrue(saved.headers["Location"]?.hasPrefix("/mapping?notice=saved%20mapping%20version") == true, saved.headers["Location"] ?? "")
        let text = try String(contentsOfFile: mapping.mappingPath, encoding: .utf8)
        XCTAssertTrue(text.contains("  \"1214\": \"Card clearing - Visa (new acquirer)\""), "Sage's name added to the file's chart")
        XCTAssertTrue(text.contains("      account: \"1214\""))
        let versions = try await mapping.versions.versions()
        XCTAssertEqual(versions.map(\.actor), ["mia", MappingVersions.foundOnDisk])
        XCTAssertEqual(versions.first?.why, "new Visa acquirer from December")
        let audit = try await console.actionAudit()
        XCTAssertTrue(audit.contains { $0.event == "mapping_saved" && $0.actor == "mia" && $0.detail.contains("1210 → 1214") }, "\(audit)")

        let list = await console.get("/mapping/versions", ["cookie": session.cookie])
        XCTAssertTrue(list.text.contains("new Visa acquirer from December") && list.text.contains("id=\"restore-\(versions[1].id)\""), list.text)
        let restored = await console.post("/mapping/versions/\(versions[1].id)/restore", ["cookie": session.cookie, "accept": "application/json"],
                                          form: ["csrf": session.csrf, "why": "the acquirer change is postponed"])
        XCTAssertEqual(restored.status, 200, restored.text)
        XCTAssertEqual(try String(contentsOfFile: mapping.mappingPath, encoding: .utf8), original)
        let latest = try await mapping.versions.versions().first
        XCTAssertEqual(latest?.restoredFrom, versions[1].id)
        let missing = await console.post("/mapping/versions/999/restore", ["cookie": session.cookie, "accept": "application/json"],
                                         form: ["csrf": session.csrf, "why": "x"])
        XCTAssertEqual(missing.status, 404, missing.text)
    }

    func testSavingAndRestoringNeedTheMapperRole() async throws {
        let (console, mapping) = try await make()
        defer { Task { await mapping.stop() } }
        for (name, password) in [("victor", "view-secret"), ("olivia", "op-secret")] {
            let session = try await console.login(name, password)
            let page = await console.get("/mapping", ["cookie": session.cookie], query: ["check": "1", "account.\(Self.visa)": "1214"])
            XCTAssertFalse(page.text.contains("id=\"save\""), "\(name) sees no save button")
            let refused = await console.post("/mapping/save", ["cookie": session.cookie, "accept": "application/json"],
                                             form: ["csrf": session.csrf, "account.\(Self.visa)": "1214", "why": "x"])
            XCTAssertEqual(refused.status, 403, refused.text)
            XCTAssertTrue(refused.text.contains("needs mapper"), refused.text)
            let restore = await console.post("/mapping/versions/1/restore", ["cookie": session.cookie, "accept": "application/json"],
                                             form: ["csrf": session.csrf, "why": "x"])
            XCTAssertEqual(restore.status, 403, restore.text)
        }
        // An approver is above a mapper.
        let april = try await console.login("april", "approve-secret")
        let page = await console.get("/mapping", ["cookie": april.cookie], query: ["check": "1", "account.\(Self.visa)": "1214"])
        XCTAssertTrue(page.text.contains("id=\"save\""), page.text)
    }

    func testWithoutSageThePageSaysSoAndNothingCanBeSaved() async throws {
        let mapping = try await MappingFixture.start()
        defer { Task { await mapping.stop() } }
        var workbench = mapping.workbench
        workbench.sage = nil
        let console = try ConsoleFixture.make { $0.mapping = workbench }
        let session = try await console.login("mia", "map-secret")
        let page = await console.get("/mapping", ["cookie": session.cookie])
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("chart of accounts could not be read: no Sage connection"), page.text)
        let refused = await console.post("/mapping/save", ["cookie": session.cookie, "accept": "application/json"],
                                         form: ["csrf": session.csrf, "account.\(Self.visa)": "1213", "why": "x"])
        XCTAssertEqual(refused.status, 503, refused.text)
        let none = try ConsoleFixture.make()
        let noPage = await none.get("/api/mapping", ["authorization": "Bearer view-token"])
        XCTAssertEqual(noPage.status, 503, noPage.text)
    }
}

/// The parts of `/api/mapping` the tests read.
/// A check longer than the request's wait (docs/MAPPING.md, "Cost"): the page answers at once with the progress and goes
/// on checking; the save of that candidate is refused while its check runs and goes through once it passed.
final class MappingCheckInBackgroundTests: XCTestCase {
    func testTheCheckGoesOnAfterTheRequestAndTheSaveWaitsForThatCandidatesCheck() async throws {
        let mapping = try await MappingFixture.start()
        defer { Task { await mapping.stop() } }
        try await mapping.addAccount("1214", "Card clearing - Visa (new acquirer)")
        var workbench = mapping.workbench
        // No wait at all: the first request for a candidate always finds its check just started.
        workbench.checkWait = .zero
        let console = try ConsoleFixture.make { $0.mapping = workbench }
        let session = try await console.login("mia", "map-secret")
        let query = ["check": "1", "account.\(MappingPageTests.visa)": "1214"]
        let first = await console.get("/mapping", ["cookie": session.cookie], query: query)
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertTrue(first.text.contains("id=\"check-running\"") && first.text.contains("http-equiv=\"refresh\""), first.text)
        XCTAssertFalse(first.text.contains("id=\"check-verdict\""), first.text)
        // A candidate never checked before: its save starts its check and, the check not done, saves nothing.
        let original = try String(contentsOfFile: mapping.mappingPath, encoding: .utf8)
        let early = await console.post("/mapping/save", ["cookie": session.cookie, "accept": "application/json"],
                                       form: ["csrf": session.csrf, "account.\(MappingPageTests.visa)": "1213", "why": "Visa through Discover's acquirer"])
        XCTAssertEqual(early.status, 409, early.text)
        XCTAssertTrue(early.text.contains("its check is still running"), early.text)
        XCTAssertEqual(try String(contentsOfFile: mapping.mappingPath, encoding: .utf8), original)

        // The page asks again (as its refresh does) until the check is done.
        var page = first
        try await eventually(every: .milliseconds(100), "the check's verdict on the page") {
            page = await console.get("/mapping", ["cookie": session.cookie], query: query)
            return page.text.contains("id=\"check-verdict\"")
        }
        XCTAssertTrue(page.text.contains("The mapping passes"), page.text)
        XCTAssertFalse(page.text.contains("id=\"check-running\""), page.text)
        let saved = await console.post("/mapping/save", ["cookie": session.cookie],
                                       form: ["csrf": session.csrf, "account.\(MappingPageTests.visa)": "1214", "why": "new Visa acquirer"])
        XCTAssertEqual(saved.status, 303, saved.text)
        XCTAssertTrue(try String(contentsOfFile: mapping.mappingPath, encoding: .utf8).contains("account: \"1214\""))
    }
}

private struct JSONValueProbe: Decodable {
    struct Row: Decodable { var rule, account, accountName: String }
    struct Account: Decodable { var number: String; var active: Bool }
    var rows: [Row]
    var chart: [Account]?
}

/// `/rules`: the fraud rules' page.
final class RulesPageTests: XCTestCase {
    /// A console given no rule file has no rules page: 404 with what to configure, not a failing console (503), which a
    /// crawler or a monitor would report as broken.
    func testAConsoleWithoutARuleFileHasNoRulesPage() async throws {
        let console = try ConsoleFixture.make { _ in }
        let mia = try await console.login("mia", "map-secret")
        for path in ["/rules", "/api/rules", "/rules/versions"] {
            let answer = await console.get(path, ["cookie": mia.cookie])
            XCTAssertEqual(answer.status, 404, "\(path): \(answer.text)")
            XCTAssertTrue(answer.text.contains("pass --fraud-rules"), answer.text)
        }
    }

    func testTheRulesAreCheckedBacktestedAndSavedByAMapperOnly() async throws {
        let mapping = try await MappingFixture.start()
        defer { Task { await mapping.stop() } }
        let path = mapping.folder.appendingPathComponent("rules.txt").path
        try "review if :amount: > 100000\n".write(toFile: path, atomically: true, encoding: .utf8)
        let console = try ConsoleFixture.make {
            $0.rules = RulesWorkbench(rulesPath: path, versions: try RulesWorkbench.versions(path: mapping.folder.appendingPathComponent("rv.sqlite").path),
                                      mappingPath: mapping.mappingPath, historyPath: mapping.inboxPath, modelPath: nil)
        }
        let mia = try await console.login("mia", "map-secret")
        let page = await console.get("/rules", ["cookie": mia.cookie])
        XCTAssertTrue(page.text.contains("aria-label=\"rules\">review if :amount: &gt; 100000\n</textarea>"), page.text)
        let checked = await console.get("/rules", ["cookie": mia.cookie], query: ["check": "1", "days": "30", "text": "review if :amount: > 1000\n"])
        XCTAssertTrue(checked.text.contains("Backtest on 1 card sale(s) of 1 closed batch(es) in the last 30 day(s)"), checked.text)
        XCTAssertTrue(checked.text.contains("<tr><td>review</td><td>0</td><td>1</td></tr>"), checked.text)
        XCTAssertTrue(checked.text.contains("id=\"rules-save\""))
        let broken = await console.get("/rules", ["cookie": mia.cookie], query: ["check": "1", "text": "review if :amount >\n"])
        XCTAssertTrue(broken.text.contains("The rules cannot be saved") && !broken.text.contains("id=\"rules-save\""), broken.text)

        let olivia = try await console.login("olivia", "op-secret")
        let refused = await console.post("/rules/save", ["cookie": olivia.cookie, "accept": "application/json"],
                                         form: ["csrf": olivia.csrf, "text": "review if :amount: > 1000\n", "why": "x"])
        XCTAssertEqual(refused.status, 403, refused.text)
        let invalid = await console.post("/rules/save", ["cookie": mia.cookie, "accept": "application/json"],
                                         form: ["csrf": mia.csrf, "text": "review if :amount >\n", "why": "x"])
        XCTAssertEqual(invalid.status, 400, invalid.text)
        let saved = await console.post("/rules/save", ["cookie": mia.cookie, "accept": "application/json"],
                                       form: ["csrf": mia.csrf, "text": "review if :amount: > 1000\r\n", "why": "review more"])
        XCTAssertEqual(saved.status, 200, saved.text)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "review if :amount: > 1000\n")
        let versions = await console.get("/rules/versions", ["cookie": mia.cookie])
        XCTAssertTrue(versions.text.contains("review more") && versions.text.contains("/rules/versions/1/restore"), versions.text)
        let audit = try await console.actionAudit()
        XCTAssertTrue(audit.contains { $0.event == "rules_saved" && $0.actor == "mia" }, "\(audit)")
    }

    /// A backtest longer than the request's wait (docs/MAPPING.md, "Cost"): the page answers with its progress and reloads
    /// itself (the JSON twin carries the progress too) until the backtest is done, then shows it.
    func testABacktestStillRunningShowsItsProgressAndThePageReloadsUntilItIsDone() async throws {
        let mapping = try await MappingFixture.start()
        defer { Task { await mapping.stop() } }
        let path = mapping.folder.appendingPathComponent("rules.txt").path
        try "review if :amount: > 100000\n".write(toFile: path, atomically: true, encoding: .utf8)
        var configured = RulesWorkbench(rulesPath: path, versions: nil, mappingPath: mapping.mappingPath, historyPath: mapping.inboxPath, modelPath: nil)
        configured.checkWait = .zero
        let workbench = configured
        let console = try ConsoleFixture.make { $0.rules = workbench }
        let mia = try await console.login("mia", "map-secret")
        let text = "review if :amount: > 1000\n"
        // The page's job, held back once it has read the window (the console's copy of the workbench shares its jobs).
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let held: @Sendable (@escaping @Sendable (Int, Int) -> Void) async throws -> RulesCheck = { progress in
            let check = try await workbench.check(text, days: 30, progress: progress)
            for await _ in release { break }
            return check
        }
        let input = try await workbench.input(text, days: 30)
        try await eventually("the held backtest has read the window") {
            await workbench.checks.status(of: input, wait: .zero, run: held) == .running(tried: 1, total: 1)
        }
        let query = ["check": "1", "days": "30", "text": text]
        let running = await console.get("/rules", ["cookie": mia.cookie], query: query)
        XCTAssertEqual(running.status, 200, running.text)
        XCTAssertTrue(running.text.contains("id=\"rules-running\"") && running.text.contains("1 of 1 closed batches read so far"), running.text)
        XCTAssertTrue(running.text.contains("<meta http-equiv=\"refresh\" content=\"2\">"), running.text)
        XCTAssertFalse(running.text.contains("id=\"rules-verdict\""), running.text)
        let json = try decodeJSON(RulesProbe.self, await console.get("/api/rules", ["cookie": mia.cookie], query: query))
        XCTAssertEqual(json.checkRunning?.tried, 1)
        XCTAssertEqual(json.checkRunning?.total, 1)
        XCTAssertNil(json.check)

        releaser.yield()
        releaser.finish()
        var page = running
        try await eventually("the page shows the backtest once it is done") {
            page = await console.get("/rules", ["cookie": mia.cookie], query: query)
            return page.text.contains("id=\"rules-verdict\"")
        }
        XCTAssertTrue(page.text.contains("Backtest on 1 card sale(s) of 1 closed batch(es) in the last 30 day(s)"), page.text)
        XCTAssertFalse(page.text.contains("id=\"rules-running\"") || page.text.contains("http-equiv=\"refresh\""), page.text)
    }
}

/// The parts of `/api/rules` the tests read.
private struct RulesProbe: Decodable {
    struct Progress: Decodable { var tried, total: Int }
    var checkRunning: Progress?
    var check: RulesCheck?
}
