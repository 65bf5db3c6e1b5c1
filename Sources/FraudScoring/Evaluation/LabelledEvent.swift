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
        var batches = EventBatches(events)
        return batches.days.map { batches.take($0) }
    }
}

/// Events grouped as the pipeline sees them, one batch per store and local business day, filled as they are read
/// (`add`) and handed over one batch at a time in day order (`days`, `take`), each let go once taken: a replay
/// of many weeks does not hold the grouped events beside a list of them.
public struct EventBatches: Sendable {
    private var groups: [String: [LabelledEvent]] = [:]
    /// Events added.
    public private(set) var count = 0

    public init(_ events: [LabelledEvent] = []) { add(events) }

    public mutating func add(_ events: [LabelledEvent]) {
        for event in events { groups["\(event.event.localTime.day)|\(event.event.store)", default: []].append(event) }
        count += events.count
    }

    /// The batches' keys (day, then store) in the order a replay takes them.
    public var days: [String] { groups.keys.sorted() }

    /// The batch of `key`, in time order, no longer held here.
    public mutating func take(_ key: String) -> [LabelledEvent] {
        (groups.removeValue(forKey: key) ?? []).sorted { ($0.event.occurredAt, $0.event.id) < ($1.event.occurredAt, $1.event.id) }
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

    /// Each rule set's backtest on one replay of `batches` (taken as they are replayed): the same counts as
    /// `BacktestReport.run` on `assess` with each rule set (`BacktestReplay`).
    public static func backtest(_ batches: inout EventBatches, model: FraudModel, rules: [RuleSet]) async throws -> [BacktestReport] {
        var replay = try BacktestReplay(model: model, rules: rules)
        try await replay.replay(&batches)
        return replay.reports
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

/// Several rule sets backtested on one replay through a fresh in-memory feature store: the features and the model's score
/// do not depend on the rules, so they are worked out once for all the sets, and each set's counts are kept as it goes
/// (`BacktestTally`), nothing per event. Batches can be given a few days at a time (`replay(_:before:)`), in day order.
public struct BacktestReplay: Sendable {
    private let store: FeatureStore
    private let model: FraudModel
    private var tallies: [BacktestTally]

    public init(model: FraudModel, rules: [RuleSet]) throws {
        store = try FeatureStore(path: nil)
        self.model = model
        tallies = rules.map(BacktestTally.init)
    }

    /// One report per rule set, in the order given.
    public var reports: [BacktestReport] { tallies.map(\.report) }

    /// Replays the batches of days before `day` (`EventBatches.days`' keys compared as text: `2026-11-26` takes the
    /// batches of the 25th and earlier), or all of them, in day order, letting each go.
    public mutating func replay(_ batches: inout EventBatches, before day: String? = nil) async throws {
        for key in batches.days {
            if let day, key >= day { break }
            let batch = batches.take(key)
            for (labelled, features) in zip(batch, try await store.observe(batch.map(\.event))) {
                let score = model.assess(features)
                for index in tallies.indices { tallies[index].add(labelled, features: features, score: score) }
            }
        }
    }
}
