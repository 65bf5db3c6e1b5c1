import Foundation
import StableHash
import Testing
@testable import FraudScoring

@Suite struct ModelTests {
    /// The model the demo and Compose load (docs/FRAUD-MODEL.md): this scorer computes every feature it names, and
    /// it scores a card-testing probe above its review threshold and an ordinary sale below it.
    @Test func theShippedModelLoadsAndSeparatesAProbeFromASale() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/fraud-model.json").path
        let model = try FraudModel.load(path: path)
        #expect(model.reviewThreshold > 0 && model.reviewThreshold < 100)
        var sale = FeatureVector()
        sale[.logAmount] = log1p(4_250)
        sale[.cardVelocity1h] = 1
        sale[.cardVelocity24h] = 1
        sale[.terminalBusyRatio] = 1
        sale[.clerkBusyRatio] = 3
        var probe = FeatureVector()
        probe[.logAmount] = log1p(99)
        probe[.isDecline] = 1
        probe[.keyedEntry] = 1
        probe[.smallAuth] = 1
        probe[.terminalBusyRatio] = 6
        probe[.terminalDeclinesExcess] = 7.5
        probe[.terminalSmallAuthsExcess] = 10.5
        probe[.terminalKeyedExcess] = 9
        #expect(model.assess(sale).value < model.reviewThreshold)
        #expect(model.assess(probe).value >= model.reviewThreshold)
    }

    /// Legitimate events with a few keyed, out-of-hours ones as fraud: a pattern the model must learn.
    static func samples(seed: UInt64, count: Int = 2_000) -> [LogisticRegression.Sample] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            var f = FeatureVector()
            let fraud = rng.chance(0.1)
            f[.logAmount] = log1p(Double(rng.int(300...20_000)))
            f[.keyedEntry] = fraud ? (rng.chance(0.9) ? 1 : 0) : (rng.chance(0.04) ? 1 : 0)
            f[.outsideHours] = fraud ? (rng.chance(0.8) ? 1 : 0) : 0
            f[.minutesOutsideHours] = f[.outsideHours] * Double(rng.int(30...300))
            f[.cardVelocity1h] = Double(rng.int(1...2))
            return LogisticRegression.Sample(features: f, fraud: fraud)
        }
    }

    @Test func trainingIsDeterministicForASeed() throws {
        let data = Self.samples(seed: 1)
        let date = Date(timeIntervalSince1970: 1_780_000_000)
        let (a, _) = try LogisticRegression.train(data, hyperparameters: .init(epochs: 5, seed: 9), trainedAt: date)
        let (b, _) = try LogisticRegression.train(data, hyperparameters: .init(epochs: 5, seed: 9), trainedAt: date)
        let (c, _) = try LogisticRegression.train(data, hyperparameters: .init(epochs: 5, seed: 10), trainedAt: date)
        #expect(a.weights == b.weights)
        #expect(a.bias == b.bias)
        #expect(a.weights != c.weights)
        #expect(a.version == "lr-2026-05-28-seed9")
    }

    @Test func learnsThePatternAndExplainsTheScore() throws {
        let (model, report) = try LogisticRegression.train(Self.samples(seed: 1), hyperparameters: .init(epochs: 20, seed: 1))
        #expect(report.auc > 0.95)
        let held = Self.samples(seed: 2)
        var counts = ClassificationCounts()
        for sample in held { counts.add(flagged: model.assess(sample.features).value >= model.reviewThreshold, fraud: sample.fraud) }
        #expect(counts.recall > 0.8)
        #expect(counts.falsePositiveRate < 0.03)

        var suspicious = FeatureVector()
        suspicious[.keyedEntry] = 1
        suspicious[.outsideHours] = 1
        suspicious[.minutesOutsideHours] = 200
        suspicious[.logAmount] = log1p(5_000)
        let score = model.assess(suspicious)
        #expect(score.value > 90)
        #expect(Set(score.reasons.map(\.feature)).isSuperset(of: [.keyedEntry]))
        #expect(score.reasons.contains { $0.text == "card number keyed in by hand" })
        var ordinary = FeatureVector()
        ordinary[.logAmount] = log1p(2_500)
        ordinary[.cardVelocity1h] = 1
        // Fraud is weighted up to balance the classes, so an ordinary sale scores low but not near 0.
        #expect(model.assess(ordinary).value < min(30, model.reviewThreshold))
    }

    @Test func modelFileRoundTripsAndRejectsUnknownFeatures() throws {
        let (model, _) = try LogisticRegression.train(Self.samples(seed: 4), hyperparameters: .init(epochs: 2, seed: 1))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.json").path
        try model.write(path: path)
        let loaded = try FraudModel.load(path: path)
        #expect(loaded.weights == model.weights)
        #expect(loaded.featureNames == FeatureName.modelFeatures.map(\.rawValue))

        var damaged = model
        damaged.featureNames[0] = "shoe_size"
        try damaged.write(path: path)
        #expect(throws: FraudModel.LoadError.self) { try FraudModel.load(path: path) }
    }

    @Test func trainingNeedsBothClasses() {
        let legit = Self.samples(seed: 5).filter { !$0.fraud }
        #expect(throws: LogisticRegression.TrainingError.self) { try LogisticRegression.train(legit) }
    }

    @Test func aucOfPerfectAndRandomRankings() {
        #expect(LogisticRegression.auc([(0.1, false), (0.2, false), (0.8, true), (0.9, true)]) == 1)
        #expect(LogisticRegression.auc([(0.5, false), (0.5, true)]) == 0.5)
    }
}
