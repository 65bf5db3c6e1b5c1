import ArgumentParser
import FraudScoring
import Foundation

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train on one seed, then report precision, recall and false-positive rate per injected pattern on a held-out seed.")

    @Option(help: "Seed of the training data.")
    var seed: UInt64 = 1

    @Option(name: .customLong("holdout-seed"), help: "Seed of the reported data (default: seed + 1000). Never tune on it.")
    var holdoutSeed: UInt64?

    @Option(help: "Rule file to decide with (default: review from the model's threshold).")
    var rules: String?

    @Option(help: "Use this model instead of training one.")
    var model: String?

    @Option(name: .customLong("show-false-positives"), help: "Print this many flagged legitimate events of the last row, with reasons.")
    var showFalsePositives: Int = 0

    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var training: TrainingOptions

    func run() async throws {
        let heldOut = holdoutSeed ?? seed &+ 1000
        guard heldOut != seed else { throw ValidationError("the held-out seed must differ from the training seed") }
        let trained: FraudModel
        if let model {
            trained = try FraudModel.load(path: model)
            print("model \(trained.version) from \(model)")
        } else {
            let (fresh, report) = try await training.train(try dataset.labelled(seed: seed))
            trained = fresh
            print("model \(fresh.version) trained on seed \(seed)")
            print(TrainingOptions.summary(report))
        }
        let ruleSet = try rules.map { try RuleParser.parse(String(contentsOfFile: $0, encoding: .utf8), file: $0) }
        print("reporting on held-out seed \(heldOut): \(dataset.days) days × \(dataset.stores) stores × \(dataset.ticketsPerStore) tickets; "
              + (rules.map { "rules \($0)" } ?? "review when risk score ≥ \(trained.reviewThreshold)"))
        let legitimate = try dataset.legitimate(seed: heldOut)
        var evaluation = PatternEvaluation()
        for pattern in FraudPattern.allCases {
            let data = FraudInjector(patterns: [pattern], incidentsPerStoreDay: dataset.incidentsPerDay, seed: heldOut)
                .inject(into: legitimate)
            evaluation.rows.append(PatternEvaluation.row(pattern.rawValue, try await HistoryReplay.assess(data, model: trained, rules: ruleSet)))
        }
        let all = FraudInjector(incidentsPerStoreDay: dataset.incidentsPerDay, seed: heldOut).inject(into: legitimate)
        let assessed = try await HistoryReplay.assess(all, model: trained, rules: ruleSet)
        evaluation.rows.append(PatternEvaluation.row("all patterns together", assessed))
        print(evaluation.table())
        for (labelled, assessment) in assessed.filter({ $0.0.isLegitimate && $0.1.decision.action != .allow }).prefix(showFalsePositives) {
            let event = labelled.event
            print("false positive \(event.id) \(event.kind.rawValue) \(event.amountCents)c \(event.entryMode.rawValue) "
                  + "score \(assessment.score.value): \(assessment.decision.reasons.joined(separator: "; "))")
        }
    }
}
