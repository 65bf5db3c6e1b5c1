import ArgumentParser
import FraudScoring
import Foundation

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the logistic-regression model on a labelled history; writes MODEL.json and MODEL.metrics.json.")

    @Option(help: "Labelled history (JSON Lines, from `fraud-lab generate`).")
    var data: String

    @Option(help: "Model file to write.")
    var out: String

    @OptionGroup var training: TrainingOptions

    func run() async throws {
        let history = try HistoryFile.read(path: data)
        let (model, report) = try await training.train(history)
        try model.write(path: out)
        let metricsPath = TrainingOptions.metricsPath(for: out)
        try TrainingOptions.write(report, path: metricsPath)
        print("model \(model.version) written to \(out); validation metrics in \(metricsPath)")
        print(TrainingOptions.summary(report))
    }
}

/// Hyperparameters of `train` and `evaluate`.
struct TrainingOptions: ParsableArguments {
    @Option(name: .customLong("training-seed"), help: "Seed of the validation split and the shuffles.")
    var trainingSeed: UInt64 = 1

    @Option(help: "L2 penalty.")
    var l2: Double = 0.001

    @Option(help: "Passes over the training data.")
    var epochs: Int = 40

    @Option(name: .customLong("learning-rate"), help: "Initial learning rate (decays per epoch).")
    var learningRate: Double = 0.1

    @Option(name: .customLong("target-fpr"), help: "False-positive rate the review threshold is chosen for, on the validation share.")
    var targetFPR: Double = 0.005

    func train(_ history: [LabelledEvent]) async throws -> (FraudModel, LogisticRegression.ValidationReport) {
        let samples = try await HistoryReplay.features(history)
            .filter { $0.0.fraud != nil || $0.0.isLegitimate }
            .map { LogisticRegression.Sample(features: $0.1, fraud: $0.0.fraud != nil) }
        return try LogisticRegression.train(
            samples, hyperparameters: .init(l2: l2, learningRate: learningRate, epochs: epochs, seed: trainingSeed),
            targetFalsePositiveRate: targetFPR)
    }

    static func metricsPath(for modelPath: String) -> String {
        (modelPath.hasSuffix(".json") ? String(modelPath.dropLast(5)) : modelPath) + ".metrics.json"
    }

    static func write(_ report: LogisticRegression.ValidationReport, path: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func summary(_ report: LogisticRegression.ValidationReport) -> String {
        let c = report.atThreshold
        return String(format: "validation: %d events (%d fraud), AUC %.4f; review from score %d: recall %.1f %%, precision %.1f %%, FPR %.2f %%",
                      report.validationSamples, report.validationFraud, report.auc, report.reviewThreshold,
                      c.recall * 100, c.precision * 100, c.falsePositiveRate * 100)
    }
}
