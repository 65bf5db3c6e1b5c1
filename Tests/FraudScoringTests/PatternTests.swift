import Foundation
import Testing
@testable import FraudScoring

/// Each injected pattern: the injector labels it, the features show it, and a model trained on one
/// seed catches it on another.
@Suite struct PatternTests {
    static let training = FraudInjector(incidentsPerStoreDay: 1, seed: 11).inject(into: Traffic.legitimate(seed: 11))

    @Test func injectorIsDeterministicAndLabelsEveryPattern() {
        let again = FraudInjector(incidentsPerStoreDay: 1, seed: 11).inject(into: Traffic.legitimate(seed: 11))
        #expect(again == Self.training)
        let patterns = Set(Self.training.compactMap(\.fraud))
        #expect(patterns == Set(FraudPattern.allCases))
        // Scenery of an incident is neither fraud nor counted as legitimate.
        #expect(Self.training.contains { $0.incident != nil && $0.fraud == nil && !$0.isLegitimate })
    }

    @Test func historyFileRoundTrips() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.jsonl").path
        let sample = Array(Self.training.prefix(200))
        try HistoryFile.write(sample, path: path)
        #expect(try HistoryFile.read(path: path) == sample)
        try "{not json}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: HistoryFile.HistoryError.self) { try HistoryFile.read(path: path) }
    }

    @Test(arguments: FraudPattern.allCases)
    func trainedModelCatchesThePatternOnAHeldOutSeed(pattern: FraudPattern) async throws {
        let history = Self.training
        let samples = try await HistoryReplay.features(history).filter { $0.0.fraud != nil || $0.0.isLegitimate }
            .map { LogisticRegression.Sample(features: $0.1, fraud: $0.0.fraud != nil) }
        let (model, _) = try LogisticRegression.train(samples, hyperparameters: .init(epochs: 15, seed: 1))
        let heldOut = FraudInjector(patterns: [pattern], incidentsPerStoreDay: 1, seed: 77).inject(into: Traffic.legitimate(seed: 77))
        let row = PatternEvaluation.row(pattern.rawValue, try await HistoryReplay.assess(heldOut, model: model))
        #expect(row.counts.positives > 0)
        #expect(row.counts.recall >= 0.7, "\(pattern): \(row.counts)")
        #expect(row.counts.falsePositiveRate <= 0.03, "\(pattern): \(row.counts)")
    }

    @Test func decisionsCarryTheirReasons() async throws {
        let samples = try await HistoryReplay.features(Self.training).filter { $0.0.fraud != nil || $0.0.isLegitimate }
            .map { LogisticRegression.Sample(features: $0.1, fraud: $0.0.fraud != nil) }
        let (model, _) = try LogisticRegression.train(samples, hyperparameters: .init(epochs: 10, seed: 1))
        let rules = try RuleParser.parse("review if :refund_unlinked: and :amount: > 40000")
        let scorer = FraudScorer(store: try FeatureStore(path: nil), model: model, ruleSet: rules)
        let refund = Traffic.event("r", .refund, at: Traffic.local("2026-03-03", 12), amount: 45_000)
        let small = Traffic.event("r2", .refund, at: Traffic.local("2026-03-03", 12, 30), amount: 4_500)
        let assessments = try await scorer.assess([refund, small])
        #expect(assessments[0].decision.action == .review)
        #expect(assessments[0].decision.decidedBy == "line 1")
        #expect(assessments[0].decision.reasons.first == "rule line 1: review if :refund_unlinked: and :amount: > 40000")
        #expect(assessments[0].decision.reasons.contains("refund with no original sale (model)"))
        #expect(assessments[0].score.value > 30)
        #expect(assessments[1].decision.action == .allow)
    }

    @Test func batchCheckFlagsAnUnusualBatch() async throws {
        let history = try BatchHistory(path: nil)
        for d in 2...8 {
            let usual = BatchSummary(store: "S01", batchId: "B\(d)", businessDay: "2026-03-0\(d)", salesCents: 1_000_000 + Int64(d) * 10_000,
                                     refundCents: 20_000, transactionCount: 300, cardMix: ["VISA": 0.55, "MASTERCARD": 0.3, "AMEX": 0.15])
            #expect(try await history.check(usual).isEmpty)
        }
        let odd = BatchSummary(store: "S01", batchId: "B9", businessDay: "2026-03-09", salesCents: 1_050_000, refundCents: 400_000,
                               transactionCount: 300, cardMix: ["VISA": 0.1, "MASTERCARD": 0.1, "AMEX": 0.8])
        let reasons = try await history.check(odd)
        #expect(reasons.contains { $0.hasPrefix("refunds are 38.1% of sales") })
        #expect(reasons.contains { $0.hasPrefix("card brand mix differs") })
    }
}
