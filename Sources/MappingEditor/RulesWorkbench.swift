import Accounting
import Foundation
import FraudScoring
import HeartlandIngest
import PipelineContracts
import Transformer

/// What a fraud rule text would have done on the last days, next to the rules in force (issue 23 item 3).
public struct RulesCheck: Codable, Sendable, Equatable {
    public struct Count: Codable, Sendable, Equatable {
        public var label: String
        public var matched: Int
    }

    public struct ActionCount: Codable, Sendable, Equatable {
        public var action: String
        public var inForce: Int
        public var candidate: Int
    }

    /// `file:line:column: message` when the text does not parse; then nothing else is filled.
    public var syntaxError: String?
    public var days: Int
    /// Closed batches of the window and the card sales in them (the events the rules were run on).
    public var batches: Int
    public var events: Int
    /// Per rule: the events its condition holds for (not only where it decided).
    public var candidateRules: [Count]
    public var inForceRules: [Count]
    /// Decisions in evaluation order, per action.
    public var actions: [ActionCount]

    public var passed: Bool { syntaxError == nil }
}

/// The fraud rules on the mapping page: the file the fraud-scorer reads (`--rules` / `BRIDGE_FRAUD_RULES`, reloaded by
/// `RuleSetFile` when it changes), checked (it must parse) and backtested on the card sales of the last N days before a
/// save, saved as versions like the mapping.
///
/// The backtest replays the sales the fraud-scorer scored in settlement batches: the closed batches heartland-ingest
/// kept, through the transformer (with the mapping in force) to their card activity, each sale as the scorer's event
/// (`SettlementSales.event`), through a fresh in-memory feature store, so velocity and baselines are those of the
/// window only. Gateway-feed events (declines, voids, pre-authorisations) and real-time refunds are not replayed;
/// without a model every `:risk_score:` is 0.
public struct RulesWorkbench: Sendable {
    public var rulesPath: String
    public var versions: MappingVersions?
    public var mappingPath: String
    public var historyPath: String?
    public var modelPath: String?
    public var now: @Sendable () -> Date = { Date() }

    public init(rulesPath: String, versions: MappingVersions?, mappingPath: String, historyPath: String?, modelPath: String?) {
        self.rulesPath = rulesPath
        self.versions = versions
        self.mappingPath = mappingPath
        self.historyPath = historyPath
        self.modelPath = modelPath
    }

    /// A version store that accepts only rule texts that parse.
    public static func versions(path: String) throws -> MappingVersions {
        try MappingVersions(path: path) { text, source in _ = try RuleParser.parse(text, file: source) }
    }

    /// The rule file as it is on disk.
    public func inForce() throws -> String {
        do {
            return try String(contentsOfFile: rulesPath, encoding: .utf8)
        } catch {
            throw MappingWorkbench.Failure.unavailable("the fraud rule file \(rulesPath) cannot be read: \(error.localizedDescription) "
                                                       + "(the fraud-scorer's --rules / BRIDGE_FRAUD_RULES)")
        }
    }

    /// Parses `text` and runs it and the rules in force on the card sales of the last `days` days.
    public func check(_ text: String, days: Int) async throws -> RulesCheck {
        let days = min(max(days, 1), 120)
        var check = RulesCheck(days: days, batches: 0, events: 0, candidateRules: [], inForceRules: [], actions: [])
        let candidate: RuleSet
        do {
            candidate = try RuleParser.parse(text, file: rulesPath)
        } catch {
            check.syntaxError = "\(error)"
            return check
        }
        let current = try? RuleParser.parse(try inForce(), file: rulesPath)
        let events = try await recentSales(days: days, batches: &check.batches)
        check.events = events.count
        let model = try modelPath.map(FraudModel.load(path:)) ?? .unscored
        let proposed = BacktestReport.run(candidate, on: try await HistoryReplay.assess(events, model: model, rules: candidate))
        check.candidateRules = proposed.perRule.map { .init(label: $0.label, matched: $0.matched) }
        var before: BacktestReport?
        if let current {
            before = BacktestReport.run(current, on: try await HistoryReplay.assess(events, model: model, rules: current))
            check.inForceRules = before?.perRule.map { .init(label: $0.label, matched: $0.matched) } ?? []
        }
        check.actions = FraudAction.allCases.map { action in
            .init(action: action.rawValue, inForce: before?.perAction[action]?.matched ?? 0, candidate: proposed.perAction[action]?.matched ?? 0)
        }
        return check
    }

    /// The card sales of the closed batches kept in the window, as the fraud-scorer's events, oldest first.
    func recentSales(days: Int, batches: inout Int) async throws -> [LabelledEvent] {
        guard let historyPath else { return [] }
        let kept = try await KeptEvents.open(path: historyPath).batches(since: now().addingTimeInterval(-Double(days) * 24 * 3600))
        batches = kept.count
        let transformer = TransformerHandler(rules: try MappingRules.load(path: mappingPath))
        var events: [LabelledEvent] = []
        for event in kept {
            guard let built = try? transformer.settlement(batch: event) else { continue }
            for document in built.documents {
                guard let activity = document.cardActivity else { continue }
                events += try activity.sales.map {
                    LabelledEvent(event: try SettlementSales.event($0, store: document.storeID ?? event.store.id, timeZone: activity.timeZone))
                }
            }
        }
        return events.sorted { ($0.event.occurredAt, $0.event.id) < ($1.event.occurredAt, $1.event.id) }
    }

    /// Saves a text that parses as a new version (the fraud-scorer reads the file again when it changes).
    public func save(_ text: String, actor: String, why: String, restoring: Int64? = nil) async throws -> MappingVersions.Version {
        guard let versions else { throw MappingWorkbench.Failure.unavailable("no version store for the fraud rules") }
        return try await versions.save(text, to: rulesPath, actor: actor, why: why, restoring: restoring, now: now())
    }

    public func restore(_ id: Int64, actor: String, why: String) async throws -> MappingVersions.Version {
        guard let versions else { throw MappingWorkbench.Failure.unavailable("no version store for the fraud rules") }
        return try await versions.restore(id, to: rulesPath, actor: actor, why: why, now: now())
    }
}
