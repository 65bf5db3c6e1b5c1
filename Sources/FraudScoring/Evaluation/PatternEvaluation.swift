/// Precision, recall and false-positive rate of assessed, labelled events: "flagged" means the
/// decision was review or block.
public struct PatternEvaluation: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var counts: ClassificationCounts
        public var incidents: Int
        public var incidentsDetected: Int
    }

    public var rows: [Row] = []

    public init() {}

    /// Counts one assessed dataset under `name`; injected scenery (events of an incident that are not
    /// fraud themselves) is left out of both classes.
    public static func row(_ name: String, _ assessed: [(LabelledEvent, Assessment)]) -> Row {
        var counts = ClassificationCounts()
        var incidents: [String: Bool] = [:]
        for (labelled, assessment) in assessed {
            let flagged = assessment.decision.action != .allow
            if labelled.fraud != nil {
                counts.add(flagged: flagged, fraud: true)
                if let incident = labelled.incident { incidents[incident] = (incidents[incident] ?? false) || flagged }
            } else if labelled.isLegitimate {
                counts.add(flagged: flagged, fraud: false)
            }
        }
        return Row(name: name, counts: counts, incidents: incidents.count, incidentsDetected: incidents.values.filter { $0 }.count)
    }

    /// A fixed-width table for the terminal and docs/FRAUD.md.
    public func table() -> String {
        var lines = ["| pattern | fraud events | caught | recall | precision | legit events | false pos. | FPR | incidents caught |",
                     "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in rows {
            let c = row.counts
            lines.append("| \(row.name) | \(c.positives) | \(c.truePositives) | \(percent(c.recall)) | \(percent(c.precision)) | "
                         + "\(c.negatives) | \(c.falsePositives) | \(percent(c.falsePositiveRate, digits: 2)) | "
                         + "\(row.incidentsDetected)/\(row.incidents) |")
        }
        return lines.joined(separator: "\n")
    }

    private func percent(_ value: Double, digits: Int = 1) -> String {
        let scale = digits == 2 ? 100.0 : 10.0
        let rounded = (value * 100 * scale).rounded() / scale
        return "\(rounded) %"
    }
}
