import ArgumentParser
import FraudScoring
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scoring throughput on one core: features from SQLite, model and rules, per settlement batch.")

    @Option(help: "Model file (default: one trained on a small generated history first).")
    var model: String?

    @Option(help: "Store days of generated traffic to score.")
    var days: Int = 7

    func run() throws {
        let legitimate = try SimulatorTraffic.legitimate(.init(seed: 42, days: days, stores: 4, ticketsPerStore: 300))
        let labelled = FraudInjector(incidentsPerStoreDay: 0.5, seed: 42).inject(into: legitimate)
        let scoringModel: FraudModel
        if let model {
            scoringModel = try FraudModel.load(path: model)
        } else {
            scoringModel = try TrainingOptions.parse(["--epochs", "5"]).train(labelled).0
        }
        let batches = HistoryFile.batches(labelled).map { $0.map(\.event) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, path) in [("in-memory SQLite", nil), ("SQLite file (WAL)", folder.appendingPathComponent("features.sqlite").path)] {
            let scorer = FraudScorer(store: try FeatureStore(path: path), model: scoringModel)
            let clock = ContinuousClock()
            var count = 0
            let elapsed = try clock.measure {
                for batch in batches { count += try scorer.assess(batch).count }
            }
            report(name + ", one batch per store day", count, elapsed)
        }
        let scorer = FraudScorer(store: try FeatureStore(path: folder.appendingPathComponent("single.sqlite").path), model: scoringModel)
        let single = batches.joined().prefix(5_000)
        let elapsed = try ContinuousClock().measure {
            for event in single { _ = try scorer.assess([event]) }
        }
        report("SQLite file (WAL), one event at a time", single.count, elapsed)
    }

    private func report(_ name: String, _ count: Int, _ elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "%@: %d events in %.2f s = %.0f events/s", name, count, seconds, Double(count) / seconds))
    }
}
