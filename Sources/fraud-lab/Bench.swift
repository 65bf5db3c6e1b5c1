import ArgumentParser
import BridgeClock
import FraudScoring
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scoring throughput on one core (features from SQLite, model and rules, per settlement batch); with --stage, the stage's time per settlement document.")

    @Option(help: "Model file (default: one trained on a small generated history first).")
    var model: String?

    @Option(help: "Store days of generated traffic to score.")
    var days: Int = 7

    @Flag(help: "Measure the stage instead: FraudScoringHandler on settlement documents carrying N card sales each (SQLite files, as `serve`).")
    var stage = false

    @Option(name: .customLong("sales"), parsing: .upToNextOption, help: "With --stage: card sales per document.")
    var salesPerDocument: [Int] = [50, 300, 1_000, 3_000]

    @Flag(help: "With --stage: each size also with every window counted by SQL (as before the in-memory windows), for a before/after in one run.")
    var compareSQLWindows = false

    func run() async throws {
        if stage {
            try await runStage()
            return
        }
        let legitimate = try SimulatorTraffic.legitimate(.init(seed: 42, days: days, stores: 4, ticketsPerStore: 300))
        let labelled = FraudInjector(incidentsPerStoreDay: 0.5, seed: 42).inject(into: legitimate)
        let scoringModel: FraudModel
        if let model {
            scoringModel = try FraudModel.load(path: model)
        } else {
            scoringModel = try await TrainingOptions.parse(["--epochs", "5"]).train(labelled).0
        }
        let batches = HistoryFile.batches(labelled).map { $0.map(\.event) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, path) in [("in-memory SQLite", nil), ("SQLite file (WAL)", folder.appendingPathComponent("features.sqlite").path)] {
            let scorer = FraudScorer(store: try FeatureStore(path: path), model: scoringModel)
            let clock = ContinuousClock()
            var count = 0
            let elapsed = try await clock.measure {
                for batch in batches { count += try await scorer.assess(batch).count }
            }
            report(name + ", one batch per store day", count, elapsed)
        }
        let scorer = FraudScorer(store: try FeatureStore(path: folder.appendingPathComponent("single.sqlite").path), model: scoringModel)
        let single = batches.joined().prefix(5_000)
        let elapsed = try await ContinuousClock().measure {
            for event in single { _ = try await scorer.assess([event]) }
        }
        report("SQLite file (WAL), one event at a time", single.count, elapsed)
    }

    /// The stage's time per settlement document (the handler: decode, batch check, scoring every sale, exceptions, encode).
    private func runStage() async throws {
        let scoringModel = if let model { try FraudModel.load(path: model) } else { try await trainedOnTheSide() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-stage-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        print("fraud-scorer stage, one settlement document at a time, \(days) store days per size, model \(scoringModel.version), "
              + "pipeline default rules (review at risk >= \(scoringModel.reviewThreshold)); SQLite files (WAL)")
        for sales in salesPerDocument {
            if compareSQLWindows {
                print("SQL windows: " + (try await StageBench.run(sales: sales, days: days, model: scoringModel, folder: folder, inMemoryWindowsFrom: .max).line()))
            }
            let label = compareSQLWindows ? "in memory:   " : ""
            print(label + (try await StageBench.run(sales: sales, days: days, model: scoringModel, folder: folder).line()))
        }
    }

    private func trainedOnTheSide() async throws -> FraudModel {
        let legitimate = try SimulatorTraffic.legitimate(.init(seed: 42, days: 7, stores: 4, ticketsPerStore: 300))
        return try await TrainingOptions.parse(["--epochs", "5"]).train(FraudInjector(incidentsPerStoreDay: 0.5, seed: 42).inject(into: legitimate)).0
    }

    private func report(_ name: String, _ count: Int, _ elapsed: Duration) {
        let seconds = elapsed.seconds
        print(String(format: "%@: %d events in %.2f s = %.0f events/s", name, count, seconds, Double(count) / seconds))
    }
}
