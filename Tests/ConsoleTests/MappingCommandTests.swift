import Accounting
import Foundation
import MappingEditor
import MappingTestSupport
import TestPrograms
import XCTest

/// `bridgectl mapping validate|diff|history|restore`, the executable against sage-pro-sim and a kept store day.
final class MappingCommandTests: XCTestCase {
    func bridgectl(_ mapping: MappingFixture, _ arguments: [String]) async throws -> ChildProcess.Result {
        let files = ["--mapping", mapping.mappingPath, "--versions", mapping.versionsPath, "--ingest-inbox", mapping.inboxPath]
        return try await ChildProcess.run(AlerterConsoleTests.binDirectory().appendingPathComponent("bridgectl"),
                                          ["mapping"] + arguments + files, environment: [
                                              "SAGE_MODE": "http", "SAGE_URL": mapping.connection.server.absoluteString, "SAGE_COMPANY": "SAMINC",
                                              "SAGE_USER": MappingFixture.user, "SAGE_PASSWORD": MappingFixture.password,
                                          ], unsetting: ["SAGE_PASSWORD_FILE", "BRIDGE_MAPPING", "BRIDGE_MAPPING_VERSIONS", "BRIDGE_INGEST_INBOX"])
    }

    func testValidateDiffHistoryAndRestoreFromTheCommandLine() async throws {
        let mapping = try await MappingFixture.start()
        defer { Task { await mapping.stop() } }
        try await mapping.addAccount("1215", "Old Visa clearing", active: false)
        let inForce = try mapping.workbench.inForce()
        let good = mapping.folder.appendingPathComponent("good.yaml").path
        try inForce.setting(["tenders.card_brands.visa.account": "1213"]).text.write(toFile: good, atomically: true, encoding: .utf8)
        let bad = mapping.folder.appendingPathComponent("bad.yaml").path
        try inForce.setting(["tenders.card_brands.visa.account": "1215"], names: ["1215": "Old Visa clearing"]).text
            .write(toFile: bad, atomically: true, encoding: .utf8)

        let passes = try await bridgectl(mapping, ["validate", good])
        XCTAssertEqual(passes.status, 0, passes.output + passes.error)
        XCTAssertTrue(passes.output.contains("1 closed batch(es)") && passes.output.contains("the mapping passes"), passes.output)
        let refused = try await bridgectl(mapping, ["validate", bad])
        XCTAssertEqual(refused.status, 1, refused.output + refused.error)
        XCTAssertTrue(refused.output.contains("refused: tenders.card_brands.visa.account: account 1215 (Old Visa clearing) is inactive in Sage"), refused.output)

        let diff = try await bridgectl(mapping, ["diff", good, "--batch", MappingFixture.postedBatch])
        XCTAssertEqual(diff.status, 0, diff.output + diff.error)
        XCTAssertTrue(diff.output.contains("tenders.card_brands.visa.account  1210      1213 Card clearing - Discover"), diff.output)
        XCTAssertTrue(diff.output.contains("HL-S-LA-20261126-BAT_LA_1126") && diff.output.contains("1 difference(s)"), diff.output)
        XCTAssertTrue(diff.output.contains("account changed"), diff.output)

        let empty = try await bridgectl(mapping, ["history"])
        XCTAssertTrue(empty.output.contains("no version saved yet"), empty.output)
        _ = try await mapping.workbench.save(try MappingDocument(yaml: String(contentsOfFile: good, encoding: .utf8), source: mapping.mappingPath),
                                             actor: "mia", why: "Visa through the Discover acquirer")
        let history = try await bridgectl(mapping, ["history"])
        XCTAssertTrue(history.output.contains("mia") && history.output.contains("Visa through the Discover acquirer")
                      && history.output.contains(MappingVersions.foundOnDisk), history.output)
        let original = try await mapping.versions.versions().last!
        let restored = try await bridgectl(mapping, ["restore", "\(original.id)", "--why", "postponed", "--actor", "sam"])
        XCTAssertEqual(restored.status, 0, restored.output + restored.error)
        XCTAssertEqual(try String(contentsOfFile: mapping.mappingPath, encoding: .utf8), original.text)
        let latest = try await mapping.versions.versions().first
        XCTAssertEqual(latest?.actor, "sam")
        XCTAssertEqual(latest?.restoredFrom, original.id)
    }
}

/// `bridgectl rules check`, the executable on a kept store day (one card sale of 12.80).
final class RulesCommandTests: XCTestCase {
    func testCheckBacktestsARuleFileBesideTheRulesInForceAndRefusesOneThatDoesNotParse() async throws {
        let mapping = try await MappingFixture.start()
        defer { Task { await mapping.stop() } }
        let inForce = mapping.folder.appendingPathComponent("rules.txt").path
        try "review if :amount: > 100000\n".write(toFile: inForce, atomically: true, encoding: .utf8)
        let candidate = mapping.folder.appendingPathComponent("candidate.txt").path
        try "review if :amount: > 1000\n".write(toFile: candidate, atomically: true, encoding: .utf8)
        let broken = mapping.folder.appendingPathComponent("broken.txt").path
        try "review when :amount: > 1000\n".write(toFile: broken, atomically: true, encoding: .utf8)
        func bridgectl(_ arguments: [String]) async throws -> ChildProcess.Result {
            try await ChildProcess.run(AlerterConsoleTests.binDirectory().appendingPathComponent("bridgectl"),
                                       ["rules", "check", "--rules", inForce, "--mapping", mapping.mappingPath, "--ingest-inbox", mapping.inboxPath]
                                           + arguments,
                                       unsetting: ["BRIDGE_FRAUD_RULES", "BRIDGE_FRAUD_MODEL", "BRIDGE_MAPPING", "BRIDGE_INGEST_INBOX"])
        }

        let checked = try await bridgectl([candidate])
        XCTAssertEqual(checked.status, 0, checked.output + checked.error)
        XCTAssertTrue(checked.output.contains("backtested on 1 card sale(s) of 1 closed batch(es) of the last 30 day(s)"), checked.output)
        XCTAssertTrue(checked.output.range(of: #"review +0 +1"#, options: .regularExpression) != nil, checked.output)
        XCTAssertTrue(checked.output.range(of: #"line 1: review if :amount: > 1000 +1"#, options: .regularExpression) != nil, checked.output)

        let json = try await bridgectl([candidate, "--json", "--days", "7"])
        XCTAssertEqual(json.status, 0, json.output + json.error)
        let decoded = try JSONDecoder().decode(RulesCheck.self, from: Data(json.output.utf8))
        XCTAssertEqual(decoded.days, 7)

        let refused = try await bridgectl([broken])
        XCTAssertEqual(refused.status, 1, refused.output + refused.error)
        XCTAssertTrue(refused.output.contains("\(broken) does not parse"), refused.output)
        let noDays = try await bridgectl([candidate, "--days", "0"])
        XCTAssertNotEqual(noDays.status, 0)
        XCTAssertTrue(noDays.error.contains("--days must be 1 to 120"), noDays.error)
    }
}
