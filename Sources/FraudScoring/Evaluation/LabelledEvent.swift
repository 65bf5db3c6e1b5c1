import Foundation

/// The fraud patterns the evaluation injects (anchors.md §5.2).
public enum FraudPattern: String, Codable, Sendable, CaseIterable {
    case cardTesting = "card_testing"
    case unlinkedRefund = "unlinked_refund"
    case overRefund = "over_refund"
    case refundToDifferentCard = "refund_to_different_card"
    case splitTenderMismatch = "split_tender_mismatch"
    case keyedSpike = "keyed_spike"
    case outOfHours = "out_of_hours"
    case voidAbuse = "void_abuse"
}

/// A line of a labelled history file: an event, and whether (and how) it is fraud.
public struct LabelledEvent: Codable, Sendable, Hashable {
    public var event: ScoredEvent
    /// The pattern when the event is fraud; nil when legitimate.
    public var fraud: FraudPattern?
    /// The injected incident the event belongs to (a burst, an abusive shift); events that set the scene
    /// for an incident but are not themselves fraud (the sales a clerk later voids) carry it with `fraud` nil.
    public var incident: String?

    public init(event: ScoredEvent, fraud: FraudPattern? = nil, incident: String? = nil) {
        self.event = event
        self.fraud = fraud
        self.incident = incident
    }

    /// Legitimate traffic, not scenery of an injected incident: what the false-positive rate counts.
    public var isLegitimate: Bool { fraud == nil && incident == nil }
}

/// Labelled history as JSON Lines (one `LabelledEvent` per line), written by `fraud-lab generate`
/// and read by `train`, `backtest` and `evaluate`.
public enum HistoryFile {
    public static func write(_ events: [LabelledEvent], path: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        var data = Data()
        for event in events {
            data.append(try encoder.encode(event))
            data.append(0x0A)
        }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func read(path: String) throws -> [LabelledEvent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var events: [LabelledEvent] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do {
                events.append(try decoder.decode(LabelledEvent.self, from: Data(line.utf8)))
            } catch {
                throw HistoryError(path: path, line: index + 1, reason: "\(error)")
            }
        }
        return events
    }

    public struct HistoryError: Error, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var reason: String
        public var description: String { "\(path):\(line): not a labelled event (\(FraudScoring.historySchema)): \(reason)" }
    }

    /// Events grouped as the pipeline sees them: one batch per store and local business day, in day order.
    public static func batches(_ events: [LabelledEvent]) -> [[LabelledEvent]] {
        var groups: [String: [LabelledEvent]] = [:]
        for event in events { groups["\(event.event.localTime.day)|\(event.event.store)", default: []].append(event) }
        return groups.keys.sorted().map { key in
            groups[key]!.sorted { ($0.event.occurredAt, $0.event.id) < ($1.event.occurredAt, $1.event.id) }
        }
    }
}

/// Replays labelled history through a fresh in-memory feature store, batch by batch, as the scorer would.
public enum HistoryReplay {
    public static func features(_ events: [LabelledEvent]) async throws
        -> [(LabelledEvent, FeatureVector)]
    {
        let store = try FeatureStore(path: nil)
        var result: [(LabelledEvent, FeatureVector)] = []
        result.reserveCapacity(events.count)
        for batch in HistoryFile.batches(events) {
            result += zip(batch, try await store.observe(batch.map(\.event))).map { ($0, $1) }
        }
        return result
    }

    public static func assess(_ events: [LabelledEvent], model: FraudModel, rules: RuleSet? = nil) async throws
        -> [(LabelledEvent, Assessment)]
    {
        let scorer = FraudScorer(store: try FeatureStore(path: nil), model: model, ruleSet: rules)
        var result: [(LabelledEvent, Assessment)] = []
        result.reserveCapacity(events.count)
        for batch in HistoryFile.batches(events) {
            result += zip(batch, try await scorer.assess(batch.map(\.event))).map { ($0, $1) }
        }
        return result
    }
}
