/// A confusion matrix and the three figures the issue asks for.
public struct ClassificationCounts: Codable, Sendable, Hashable {
    public var truePositives = 0
    public var falsePositives = 0
    public var trueNegatives = 0
    public var falseNegatives = 0

    public init() {}

    public mutating func add(flagged: Bool, fraud: Bool) {
        switch (flagged, fraud) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, false): trueNegatives += 1
        case (false, true): falseNegatives += 1
        }
    }

    public var positives: Int { truePositives + falseNegatives }
    public var negatives: Int { trueNegatives + falsePositives }
    /// Of what was flagged, the share that was fraud (1 when nothing was flagged).
    public var precision: Double {
        truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives)
    }
    /// Of the fraud, the share that was flagged (1 when there was none).
    public var recall: Double { positives == 0 ? 1 : Double(truePositives) / Double(positives) }
    /// Of the legitimate events, the share that was flagged.
    public var falsePositiveRate: Double { negatives == 0 ? 0 : Double(falsePositives) / Double(negatives) }
}
