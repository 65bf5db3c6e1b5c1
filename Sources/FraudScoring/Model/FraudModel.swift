import Foundation
import Messaging

/// A trained logistic regression, as stored in the versioned model file the scorer loads.
public struct FraudModel: Codable, Sendable {
    public static let format = "bridge.fraud.model.v1"

    public struct Hyperparameters: Codable, Sendable, Hashable {
        public var l2: Double
        public var learningRate: Double
        public var epochs: Int
        public var batchSize: Int
        public var seed: UInt64
        /// Weight of a fraud example against a legitimate one (balances the classes).
        public var positiveWeight: Double

        public init(l2: Double = 0.001, learningRate: Double = 0.1, epochs: Int = 40, batchSize: Int = 128, seed: UInt64 = 1,
                    positiveWeight: Double = 0) {
            self.l2 = l2
            self.learningRate = learningRate
            self.epochs = epochs
            self.batchSize = batchSize
            self.seed = seed
            self.positiveWeight = positiveWeight
        }
    }

    public var format: String
    /// `lr-<training date>-seed<seed>`, quoted in every assessment so a score can be traced to its model.
    public var version: String
    public var trainedAt: Date
    public var featureNames: [String]
    public var means: [Double]
    public var stds: [Double]
    public var weights: [Double]
    public var bias: Double
    public var hyperparameters: Hyperparameters
    /// The lowest score at which the validation false-positive rate met the training target; the
    /// default rule set reviews from here.
    public var reviewThreshold: Int

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case wrongFormat(path: String, found: String)
        case unknownFeature(path: String, name: String)
        case shapeMismatch(path: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "model file \(path) cannot be read: \(reason)"
            case .wrongFormat(let path, let found):
                return "model file \(path) has format \(found), expected \(FraudModel.format); retrain with `fraud-lab train`"
            case .unknownFeature(let path, let name):
                return "model file \(path) uses feature \(name), which this scorer does not compute; retrain with `fraud-lab train`"
            case .shapeMismatch(let path):
                return "model file \(path) has feature names, means, stds and weights of different lengths; it is damaged, retrain"
            }
        }
    }

    public static func load(path: String) throws -> FraudModel {
        let model: FraudModel
        let text = try ConfigurationFile.text(path, what: "model")
        do {
            model = try decoder.decode(FraudModel.self, from: Data(text.utf8))
        } catch {
            throw LoadError.unreadable(path: path, reason: "not a model file (\(error))")
        }
        guard model.format == format else { throw LoadError.wrongFormat(path: path, found: model.format) }
        if let unknown = model.featureNames.first(where: { FeatureName(rawValue: $0) == nil }) {
            throw LoadError.unknownFeature(path: path, name: unknown)
        }
        let n = model.featureNames.count
        guard model.means.count == n, model.stds.count == n, model.weights.count == n else { throw LoadError.shapeMismatch(path: path) }
        return model
    }

    public func write(path: String) throws {
        try Self.encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    var features: [FeatureName] { featureNames.compactMap(FeatureName.init(rawValue:)) }

    /// Probability of fraud.
    public func probability(_ vector: FeatureVector) -> Double {
        var z = bias
        for (i, name) in features.enumerated() {
            z += weights[i] * (name.modelValue(vector[name]) - means[i]) / stds[i]
        }
        return 1 / (1 + exp(-z))
    }

    /// The 0–100 score and the features that pushed it up most, in words.
    public func assess(_ vector: FeatureVector, topReasons: Int = 3) -> RiskScore {
        var z = bias
        var contributions: [(FeatureName, Double)] = []
        for (i, name) in features.enumerated() {
            let c = weights[i] * (name.modelValue(vector[name]) - means[i]) / stds[i]
            z += c
            contributions.append((name, c))
        }
        let p = 1 / (1 + exp(-z))
        let reasons = contributions.filter { $0.1 > 0.25 }.sorted { $0.1 > $1.1 }.prefix(topReasons).map {
            RiskScore.Reason(feature: $0.0, contribution: $0.1, text: $0.0.reason(vector[$0.0]))
        }
        return RiskScore(value: min(100, max(0, Int((p * 100).rounded()))), probability: p, reasons: Array(reasons),
                         modelVersion: version)
    }
}

/// A model's verdict on one event.
public struct RiskScore: Codable, Sendable, Hashable {
    public struct Reason: Codable, Sendable, Hashable {
        public var feature: FeatureName
        /// Added to the log-odds by this feature (standardised value × weight).
        public var contribution: Double
        public var text: String
    }

    public var value: Int
    public var probability: Double
    public var reasons: [Reason]
    public var modelVersion: String
}

extension FraudModel {
    /// A model that scores everything 0: for backtesting rules that do not use `:risk_score:`.
    public static var unscored: FraudModel {
        let names = FeatureName.modelFeatures.map(\.rawValue)
        return FraudModel(
            format: format, version: "unscored", trainedAt: Date(timeIntervalSince1970: 0), featureNames: names,
            means: names.map { _ in 0 }, stds: names.map { _ in 1 }, weights: names.map { _ in 0 }, bias: -50,
            hyperparameters: .init(), reviewThreshold: 100)
    }
}
