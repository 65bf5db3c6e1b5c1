import Foundation
import Testing
@testable import FraudScoring

@Suite struct RuleTests {
    static func context(_ event: ScoredEvent, score: Int = 10, _ set: (inout FeatureVector) -> Void = { _ in }) -> RuleSet.Context {
        var features = FeatureVector()
        features[.amount] = Double(event.amountCents)
        set(&features)
        return .init(event: event, features: features, score: RiskScore(value: score, probability: Double(score) / 100, reasons: [],
                                                                         modelVersion: "test"))
    }

    static let sale = Traffic.event("t", at: Traffic.local("2026-03-03", 12), amount: 60_000)

    @Test func parsesTheIssueExamples() throws {
        let set = try RuleParser.parse("""
            # loss prevention rules
            allow terminal S01/DEV0001
            block card VISA:411111******0005, 'MASTERCARD:545454******0001'
            review if :refund_unlinked: and :amount: > 50000   # unlinked and large
            block if :risk_score: > 90
            review if (:kind: = 'refund' or :kind: = "void") and not :keyed_entry:
            """)
        #expect(set.lists.count == 2)
        #expect(set.rules.map(\.line) == [4, 5, 6])
        #expect(set.rules[0].text == "review if :refund_unlinked: and :amount: > 50000")
        #expect(set.lists[1].values == ["VISA:411111******0005", "MASTERCARD:545454******0001"])
    }

    @Test(arguments: [
        ("review if :refund_unlinkd:", 1, 11, "unknown attribute :refund_unlinkd:"),
        ("allow if :amount: >", 1, 20, "condition ends too early"),
        ("hold if :amount: > 5", 1, 1, "expected allow, review or block"),
        ("review if :amount: > 5\nblock if :kind: > 'refund'", 2, 17, "text can only be compared with = or !="),
        ("block if :kind: = 5", 1, 19, "cannot compare"),
        ("review :amount: > 5", 1, 8, "expected 'if'"),
        ("review if (:amount: > 5", 1, 24, "expected ')'"),
        ("review terminal 7", 1, 1, "there is no review list"),
        ("block if :amount: > 5 5", 1, 23, "unexpected '5'"),
        ("block if :amount: ! 5", 1, 19, "'!' must be followed by '='"),
        ("block if :clerk:", 1, 17, "expected a comparison"),
    ])
    func reportsErrorsWithLineAndColumn(source: String, line: Int, column: Int, message: String) {
        do {
            _ = try RuleParser.parse(source, file: "rules.txt")
            Issue.record("\(source) parsed")
        } catch let error as RuleSyntaxError {
            #expect(error.line == line, "\(error)")
            #expect(error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("rules.txt:\(line):\(column): "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func evaluationOrderIsAllowListBlockListThenFirstMatchingRule() throws {
        let set = try RuleParser.parse("""
            review if :amount: > 50000
            block if :amount: > 10000
            allow clerk Ava
            block terminal DEV0001
            """)
        // Ava is allow-listed: allowed although the terminal is blocked and both rules hold.
        #expect(set.evaluate(Self.context(Self.sale)).action == .allow)
        #expect(set.evaluate(Self.context(Self.sale)).decidedBy == "allow list (line 3)")
        var other = Self.sale
        other.clerk = "Liam"
        #expect(set.evaluate(Self.context(other)).action == .block)
        #expect(set.evaluate(Self.context(other)).decidedBy == "block list (line 4)")
        other.terminal = "DEV0002"
        // Both rules hold; the first one decides.
        let decision = set.evaluate(Self.context(other))
        #expect(decision.action == .review)
        #expect(decision.decidedBy == "line 1")
        #expect(decision.reasons.first == "rule line 1: review if :amount: > 50000")
        other.amountCents = 20_000
        #expect(set.evaluate(Self.context(other)).action == .block)
        other.amountCents = 2_000
        let unmatched = set.evaluate(Self.context(other))
        #expect(unmatched.action == .allow)
        #expect(unmatched.decidedBy == nil)
    }

    @Test func conditionsReadFeaturesScoreAndText() throws {
        let set = try RuleParser.parse("""
            block if :risk_score: >= 90
            review if :refund_unlinked: and :amount: > 50000
            review if :entry_mode: = 'keyed' and not (:terminal_keyed_1h: < 3)
            """)
        #expect(set.evaluate(Self.context(Self.sale, score: 95)).action == .block)
        #expect(set.evaluate(Self.context(Self.sale, score: 89)).action == .allow)
        #expect(set.evaluate(Self.context(Self.sale) { $0[.refundUnlinked] = 1 }).action == .review)
        var keyed = Self.sale
        keyed.entryMode = .keyed
        #expect(set.evaluate(Self.context(keyed) { $0[.terminalKeyed1h] = 3 }).action == .review)
        #expect(set.evaluate(Self.context(keyed) { $0[.terminalKeyed1h] = 2 }).action == .allow)
    }

    @Test func ruleFileReloadsWhenItChanges() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("rules.txt").path
        try "review if :amount: > 50000\n".write(toFile: path, atomically: true, encoding: .utf8)
        let file = try RuleSetFile(path: path)
        #expect(file.current().evaluate(Self.context(Self.sale)).action == .review)

        try "block if :amount: > 50000 and :risk_score: > 5\n".write(toFile: path, atomically: true, encoding: .utf8)
        let deadline = Date().addingTimeInterval(10)
        while file.current().evaluate(Self.context(Self.sale)).action != .block, Date() < deadline {
            // Some file systems keep whole-second times; touch the file forward until the change shows.
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(2)], ofItemAtPath: path)
        }
        #expect(file.current().evaluate(Self.context(Self.sale)).action == .block)

        // A broken edit keeps the last good rules and says why.
        try "block if :amount: >>> 5\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: path)
        #expect(file.current().evaluate(Self.context(Self.sale)).action == .block)
        #expect(file.lastError?.line == 1)
    }

    @Test func backtestCountsPerRuleAndPerAction() throws {
        let set = try RuleParser.parse("""
            review if :refund_unlinked:
            block if :amount: > 10000
            """)
        let events = [
            (LabelledEvent(event: Self.sale), FeatureVector()),
            (LabelledEvent(event: Traffic.event("r", .refund, at: Self.sale.occurredAt, amount: 20_000), fraud: .unlinkedRefund),
             { var f = FeatureVector(); f[.refundUnlinked] = 1; return f }()),
            (LabelledEvent(event: Traffic.event("s", at: Self.sale.occurredAt, amount: 500)), FeatureVector()),
        ].map { labelled, features in
            var f = features
            f[.amount] = Double(labelled.event.amountCents)
            let score = RiskScore(value: 0, probability: 0, reasons: [], modelVersion: "t")
            return (labelled, Assessment(event: labelled.event, features: f, score: score,
                                         decision: set.evaluate(.init(event: labelled.event, features: f, score: score))))
        }
        let report = BacktestReport.run(set, on: events)
        #expect(report.perRule.map(\.matched) == [1, 2])
        #expect(report.perRule.map(\.fraud) == [1, 1])
        #expect(report.perAction[.review]?.matched == 1)
        #expect(report.perAction[.block]?.matched == 1)
        #expect(report.perAction[.allow]?.matched == 1)
        #expect(report.text().contains("line 2: block if :amount: > 10000"))
    }

    /// One replay for several rule sets, counted as it goes (the rules page's backtest), gives each set the counts of its
    /// own replay with every assessment kept (`assess`, then `BacktestReport.run`).
    @Test func oneReplayForSeveralRuleSetsCountsAsAReplayEach() async throws {
        let history = FraudInjector(incidentsPerStoreDay: 1, seed: 5).inject(into: Traffic.legitimate(seed: 5))
        let sets = [try RuleParser.parse("review if :amount: > 5000\nblock if :refund_unlinked:\n"),
                    try RuleParser.parse("review if :card_velocity_1h: >= 2\nreview if :risk_score: >= 1\n")]
        var batches = EventBatches(history)
        #expect(batches.count == history.count)
        let together = try await HistoryReplay.backtest(&batches, model: .unscored, rules: sets)
        #expect(batches.days.isEmpty)  // every batch let go once replayed
        for (set, report) in zip(sets, together) {
            let alone = BacktestReport.run(set, on: try await HistoryReplay.assess(history, model: .unscored, rules: set))
            #expect(report.events == alone.events && report.events == history.count)
            #expect(report.perRule.map(\.matched) == alone.perRule.map(\.matched))
            #expect(report.perRule.map(\.fraud) == alone.perRule.map(\.fraud))
            #expect(FraudAction.allCases.map { report.perAction[$0]?.matched } == FraudAction.allCases.map { alone.perAction[$0]?.matched })
        }
        #expect(together[0].perRule.contains { $0.matched > 0 })  // the history gives the rules something to count
    }
}
