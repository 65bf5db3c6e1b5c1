import BridgeClock
import Foundation
import StableHash

/// Trains a `FraudModel`: standardised features, L2-regularised log loss, mini-batch gradient descent
/// with a seeded shuffle (same data and seed, same weights), classes balanced by weighting fraud.
public enum LogisticRegression {
    public struct Sample: Sendable {
        public var features: FeatureVector
        public var fraud: Bool

        public init(features: FeatureVector, fraud: Bool) {
            self.features = features
            self.fraud = fraud
        }
    }

    /// What the model scored on the validation share held back from training.
    public struct ValidationReport: Codable, Sendable {
        public var modelVersion: String
        public var trainedAt: Date
        public var trainingSamples: Int
        public var trainingFraud: Int
        public var validationSamples: Int
        public var validationFraud: Int
        /// Area under the ROC curve on the validation share.
        public var auc: Double
        public var reviewThreshold: Int
        /// Validation counts with "score ≥ reviewThreshold" as the flag.
        public var atThreshold: ClassificationCounts
        public var targetFalsePositiveRate: Double
    }

    public enum TrainingError: Error, CustomStringConvertible {
        case needsBothClasses(fraud: Int, legitimate: Int)

        public var description: String {
            switch self {
            case .needsBothClasses(let fraud, let legitimate):
                return "training needs fraud and legitimate examples; got \(fraud) fraud and \(legitimate) legitimate"
            }
        }
    }

    public static func train(
        _ samples: [Sample], hyperparameters: FraudModel.Hyperparameters = .init(), validationShare: Double = 0.2,
        targetFalsePositiveRate: Double = 0.005, trainedAt: Date = Date()
    ) throws -> (FraudModel, ValidationReport) {
        var rng = SeededRandom(seed: hyperparameters.seed)
        let order = Array(samples.indices).shuffled(using: &rng)
        let validationCount = Int(Double(samples.count) * validationShare)
        let validation = order.prefix(validationCount).map { samples[$0] }
        let training = order.dropFirst(validationCount).map { samples[$0] }
        let fraud = training.filter(\.fraud).count
        guard fraud > 0, fraud < training.count else {
            throw TrainingError.needsBothClasses(fraud: fraud, legitimate: training.count - fraud)
        }

        let names = FeatureName.modelFeatures
        let d = names.count
        let rows = training.map { sample in names.map { $0.modelValue(sample.features[$0]) } }
        var means = [Double](repeating: 0, count: d)
        var stds = [Double](repeating: 0, count: d)
        for j in 0..<d {
            let column = rows.map { $0[j] }
            let mean = column.reduce(0, +) / Double(column.count)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count)
            means[j] = mean
            stds[j] = variance > 1e-12 ? variance.squareRoot() : 1
        }
        let x = rows.map { row in (0..<d).map { (row[$0] - means[$0]) / stds[$0] } }
        let y = training.map { $0.fraud ? 1.0 : 0.0 }
        let positiveWeight = hyperparameters.positiveWeight > 0
            ? hyperparameters.positiveWeight : Double(training.count - fraud) / Double(fraud)

        var weights = [Double](repeating: 0, count: d)
        var bias = 0.0
        var indices = Array(x.indices)
        var gradient = [Double](repeating: 0, count: d)
        for epoch in 0..<hyperparameters.epochs {
            indices.shuffle(using: &rng)
            let rate = hyperparameters.learningRate / (1 + 0.05 * Double(epoch))
            var start = 0
            while start < indices.count {
                let batch = indices[start..<min(indices.count, start + hyperparameters.batchSize)]
                for j in 0..<d { gradient[j] = 0 }
                var biasGradient = 0.0
                var totalWeight = 0.0
                for i in batch {
                    var z = bias
                    for j in 0..<d { z += weights[j] * x[i][j] }
                    let p = 1 / (1 + exp(-z))
                    let w = y[i] > 0 ? positiveWeight : 1
                    let error = w * (p - y[i])
                    for j in 0..<d { gradient[j] += error * x[i][j] }
                    biasGradient += error
                    totalWeight += w
                }
                for j in 0..<d { weights[j] -= rate * (gradient[j] / totalWeight + hyperparameters.l2 * weights[j]) }
                bias -= rate * biasGradient / totalWeight
                start += hyperparameters.batchSize
            }
        }

        let day = Timestamps.day(trainedAt)
        var model = FraudModel(
            format: FraudModel.format, version: "lr-\(day)-seed\(hyperparameters.seed)", trainedAt: trainedAt,
            featureNames: names.map(\.rawValue), means: means, stds: stds, weights: weights, bias: bias,
            hyperparameters: hyperparameters, reviewThreshold: 50)
        let scored = validation.map { (model.assess($0.features).value, $0.fraud) }
        model.reviewThreshold = threshold(scored, targetFalsePositiveRate: targetFalsePositiveRate)
        var counts = ClassificationCounts()
        for (score, isFraud) in scored { counts.add(flagged: score >= model.reviewThreshold, fraud: isFraud) }
        let report = ValidationReport(
            modelVersion: model.version, trainedAt: trainedAt, trainingSamples: training.count, trainingFraud: fraud,
            validationSamples: validation.count, validationFraud: validation.filter(\.fraud).count,
            auc: auc(validation.map { (model.probability($0.features), $0.fraud) }), reviewThreshold: model.reviewThreshold,
            atThreshold: counts, targetFalsePositiveRate: targetFalsePositiveRate)
        return (model, report)
    }

    /// The lowest score (1–99) whose false-positive rate on `scored` is at most the target.
    static func threshold(_ scored: [(Int, Bool)], targetFalsePositiveRate: Double) -> Int {
        let negatives = scored.filter { !$0.1 }.map(\.0)
        guard !negatives.isEmpty else { return 50 }
        for t in 1...99 where Double(negatives.filter { $0 >= t }.count) / Double(negatives.count) <= targetFalsePositiveRate {
            return t
        }
        return 99
    }

    /// Rank-based ROC AUC (ties count half).
    static func auc(_ scored: [(Double, Bool)]) -> Double {
        let positives = scored.filter(\.1).count
        let negatives = scored.count - positives
        guard positives > 0, negatives > 0 else { return 1 }
        let sorted = scored.sorted { $0.0 < $1.0 }
        var rankSum = 0.0
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1].0 == sorted[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where sorted[k].1 { rankSum += rank }
            i = j + 1
        }
        return (rankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
    }
}
