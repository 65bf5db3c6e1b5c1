import Foundation
import FraudScoring
@testable import MappingEditor
import MappingTestSupport
import Synchronization
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

    /// The fixture's kept day and another (BAT_LA_1127, a Mastercard sale): two closed batches, one card sale of 12.80 each.
    func twoDays() async throws -> (MappingFixture, RulesWorkbench) {
        let fixture = try await MappingFixture.start()
        try await fixture.keep(MappingFixture.storeDay(batch: "BAT_LA_1127", date: "2026-11-27", brand: "MC"))
        return (fixture, try make(fixture))
    }

    /// A backtest's job is keyed by what it reads: a model retrained into the same file is a new input, as is a rule
    /// file or mapping changed on disk; the same files give the same input.
    @Test func aModelRewrittenInPlaceIsANewInput() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        var workbench = try make(fixture)
        let model = fixture.folder.appendingPathComponent("model.json")
        try "{\"version\": 1}".write(to: model, atomically: true, encoding: .utf8)
        workbench.modelPath = model.path
        let text = "review if :amount: > 1000\n"
        let first = try await workbench.input(text, days: 30)
        #expect(try await workbench.input(text, days: 30) == first)
        try "{\"version\": 2}".write(to: model, atomically: true, encoding: .utf8)
        let retrained = try await workbench.input(text, days: 30)
        #expect(retrained != first)
        #expect(retrained.model == "{\"version\": 2}")
        try (Self.inForce + "block if :amount: > 900000\n").write(toFile: workbench.rulesPath, atomically: true, encoding: .utf8)
        #expect(try await workbench.input(text, days: 30) != retrained)
    }

    @Test func aCandidateIsBacktestedOnTheKeptDaysCardSalesBesideTheRulesInForce() async throws {
        let (fixture, workbench) = try await twoDays()
        defer { Task { await fixture.stop() } }
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

    /// The console's backtest (a job, off the request): the check a request used to wait for, the window read a page at a time.
    @Test func theBackgroundBacktestGivesTheSameCheckReadingTheWindowPageByPage() async throws {
        let (fixture, workbench) = try await twoDays()
        defer { Task { await fixture.stop() } }
        let text = "review if :amount: > 1000\nblock if :amount: > 5000\n"
        let awaited = try await workbench.check(text, days: 30)
        #expect(awaited.batches == 2 && awaited.events == 2 && awaited.candidateRules.map(\.matched) == [2, 0])
        #expect(try await workbench.checkInBackground(text, days: 30, wait: .seconds(60)) == .finished(awaited))

        // A batch a page: the same check, its progress batch by batch of the window's count.
        var paged = workbench
        paged.batchPageSize = 1
        let progress = Mutex<[String]>([])
        #expect(try await paged.check(text, days: 30) { tried, total in progress.withLock { $0.append("\(tried) of \(total)") } } == awaited)
        #expect(progress.withLock { $0 } == ["0 of 2", "1 of 2", "2 of 2"])

        // A text that does not parse: its syntax error at once, without a job (no wait at all).
        guard case .finished(let broken) = try await workbench.checkInBackground("review if :amount >\n", days: 7, wait: .zero) else {
            Issue.record("a syntax error is answered at once")
            return
        }
        #expect(broken.syntaxError?.contains("rules.txt:1:") == true && broken.batches == 0)
    }

    /// The window is replayed as it is read, a few store-days at a time, in business-date order whatever order the batches
    /// were kept in: the same check as reading the whole window before replaying it, no sale lost or counted twice.
    @Test func replayingAsTheWindowIsReadGivesTheCheckOfTheWholeWindow() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        var workbench = try make(fixture)
        // Kept out of date order (a late batch, a store's days kept apart), two stores, five more days.
        for (date, store) in [("2026-11-29", "S-SF"), ("2026-11-27", "S-LA"), ("2026-11-30", "S-LA"), ("2026-11-28", "S-SF"),
                              ("2026-11-27", "S-SF")] {
            try await fixture.keep(MappingFixture.storeDay(batch: "BAT_\(store)_\(date)", date: date, brand: "VISA", store: store))
        }
        let text = "review if :amount: > 1000 and :card_velocity_1h: >= 1\nblock if :amount: > 5000\n"
        workbench.batchPageSize = 1000
        let whole = try await workbench.check(text, days: 30)
        #expect(whole.batches == 6 && whole.events == 6)
        workbench.batchPageSize = 1
        #expect(try await workbench.check(text, days: 30) == whole)
        workbench.batchPageSize = 2
        #expect(try await workbench.check(text, days: 30) == whole)
        #expect(RulesWorkbench.dayBefore("2026-12-01") == "2026-11-30" && RulesWorkbench.dayBefore("") == nil)
    }

    /// Asking again (the page reloading) finds the same job, running with its progress, then done; another input is another job.
    @Test func askingAgainFindsTheSameJobWithItsProgressAndAChangedInputIsANewJob() async throws {
        let (fixture, workbench) = try await twoDays()
        defer { Task { await fixture.stop() } }
        let text = "review if :amount: > 1000\n"
        // The job of this exact input, started as the workbench would, but held back once it has read the window; its
        // result is marked so that the answer shows which job gave it.
        let runs = Mutex(0)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let held: @Sendable (@escaping @Sendable (Int, Int) -> Void) async throws -> RulesCheck = { progress in
            runs.withLock { $0 += 1 }
            var check = try await workbench.check(text, days: 30, progress: progress)
            for await _ in release { break }
            check.candidateRules.append(.init(label: "from the held job", matched: 0))
            return check
        }
        let input = try await workbench.input(text, days: 30)
        _ = await workbench.checks.status(of: input, wait: .zero, run: held)
        var status = try await workbench.checkInBackground(text, days: 30, wait: .zero)
        let deadline = ContinuousClock.now + .seconds(30)
        while status != .running(tried: 2, total: 2), ContinuousClock.now < deadline {
            status = try await workbench.checkInBackground(text, days: 30, wait: .milliseconds(50))
        }
        #expect(status == .running(tried: 2, total: 2))
        releaser.yield()
        releaser.finish()
        guard case .finished(let done) = try await workbench.checkInBackground(text, days: 30, wait: .seconds(60)) else {
            Issue.record("the held job finishes once released")
            return
        }
        #expect(done.candidateRules.last?.label == "from the held job" && done.events == 2)
        #expect(runs.withLock { $0 } == 1)

        // Other days, or a batch kept since: new jobs, not the held one's result.
        guard case .finished(let week) = try await workbench.checkInBackground(text, days: 7, wait: .seconds(60)) else {
            Issue.record("the check of 7 days finishes")
            return
        }
        #expect(week.days == 7 && !week.candidateRules.contains { $0.label == "from the held job" })
        try await fixture.keep(MappingFixture.storeDay(batch: "BAT_LA_1128", date: "2026-11-28"))
        guard case .finished(let more) = try await workbench.checkInBackground(text, days: 30, wait: .seconds(60)) else {
            Issue.record("the check with the new batch finishes")
            return
        }
        #expect(more.batches == 3 && more.events == 3 && !more.candidateRules.contains { $0.label == "from the held job" })
        #expect(runs.withLock { $0 } == 1)
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
