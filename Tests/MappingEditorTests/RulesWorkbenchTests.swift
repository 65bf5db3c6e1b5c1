import Foundation
import FraudScoring
import MappingEditor
import MappingTestSupport
import Testing

/// The fraud rules on the mapping page's model (issue 23 item 3): a text is checked (it must parse) and backtested on
/// the kept days' card sales next to the rules in force, and saved as versions the fraud-scorer's `RuleSetFile` reads.
@Suite struct RulesWorkbenchTests {
    static let inForce = "review if :amount: > 100000\n"

    func make(_ fixture: MappingFixture) throws -> RulesWorkbench {
        let path = fixture.folder.appendingPathComponent("rules.txt").path
        try Self.inForce.write(toFile: path, atomically: true, encoding: .utf8)
        return RulesWorkbench(rulesPath: path, versions: try RulesWorkbench.versions(path: fixture.folder.appendingPathComponent("rules-versions.sqlite").path),
                              mappingPath: fixture.mappingPath, historyPath: fixture.inboxPath, modelPath: nil)
    }

    @Test func aCandidateIsBacktestedOnTheKeptDaysCardSalesBesideTheRulesInForce() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        try await fixture.keep(MappingFixture.storeDay(batch: "BAT_LA_1127", date: "2026-11-27", brand: "MC"))
        let workbench = try make(fixture)
        let check = try await workbench.check("review if :amount: > 1000\nblock if :amount: > 5000\n", days: 30)
        #expect(check.passed)
        #expect(check.batches == 2 && check.events == 2)  // one card sale of 12.80 in each kept day
        #expect(check.candidateRules.map(\.matched) == [2, 0])
        #expect(check.candidateRules.first?.label == "line 1: review if :amount: > 1000")
        #expect(check.inForceRules.map(\.matched) == [0])
        let review = try #require(check.actions.first { $0.action == "review" })
        #expect(review.inForce == 0 && review.candidate == 2)
        let allow = try #require(check.actions.first { $0.action == "allow" })
        #expect(allow.inForce == 2 && allow.candidate == 0)
    }

    @Test func aTextThatDoesNotParseIsRefusedWithItsLineAndColumnAndNotSaved() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        let workbench = try make(fixture)
        let check = try await workbench.check("review if :amount: > 1000\nreview if :amount >\n", days: 7)
        #expect(!check.passed)
        #expect(check.syntaxError?.contains("rules.txt:2:") == true)
        await #expect(throws: RuleSyntaxError.self) { try await workbench.save("review if :amount >\n", actor: "mia", why: "typo") }
        #expect(try workbench.inForce() == Self.inForce)
    }

    @Test func aSavedVersionIsWhatTheFraudScorersRuleFileReadsAndARestoreBringsTheOldOneBack() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        let workbench = try make(fixture)
        let scorerRules = try RuleSetFile(path: workbench.rulesPath)
        #expect(scorerRules.current().rules.count == 1)
        let saved = try await workbench.save("review if :amount: > 1000\nblock if :amount: > 500000\n", actor: "mia", why: "tighter review")
        #expect(scorerRules.current().rules.count == 2)
        let versions = try await workbench.versions!.versions()
        #expect(versions.map(\.actor) == ["mia", MappingVersions.foundOnDisk])
        let restored = try await workbench.restore(versions[1].id, actor: "mia", why: "too many reviews")
        #expect(restored.id > saved.id && restored.restoredFrom == versions[1].id)
        #expect(scorerRules.current().rules.count == 1)
    }
}
