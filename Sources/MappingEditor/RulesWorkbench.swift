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

/// The backtests the console runs (`RulesWorkbench.checkInBackground`).
public typealias RulesCheckJobs = CheckJobs<RulesCheckInput, RulesCheck>

/// What a backtest is run on; two equal inputs give the same `RulesCheck`.
public struct RulesCheckInput: Hashable, Sendable {
    public var candidate: String
    /// The rule file's text (nil: it cannot be read).
    public var inForce: String?
    public var days: Int
    /// The model that gives `:risk_score:`, its file's text as it is now (nil: none, every score 0), so that a model
    /// retrained into the same file is a new input.
    public var model: String?
    /// The mapping file's text, with which the transformer's code builds the batches.
    public var mapping: String?
    /// The window's kept batches (`KeptEvents.fingerprint`).
    public var kept: String
}

/// The fraud rules on the mapping page: the file the fraud-scorer reads (`--rules` / `BRIDGE_FRAUD_RULES`, reloaded by
/// `RuleSetFile` when it changes), checked (it must parse) and backtested on the card sales of the last N days before a
/// save, saved as versions like the mapping.
///
/// The backtest replays the sales the fraud-scorer scored in settlement batches: the closed batches heartland-ingest
/// kept, through the transformer (with the mapping in force) to their card activity, each sale as the scorer's event
/// (`SettlementSales.event`), through a fresh in-memory feature store, so velocity and baselines are those of the
/// window only. Gateway-feed events (declines, voids, pre-authorisations) and real-time refunds are not replayed;
/// without a model every `:risk_score:` is 0. The console runs it off the request, as a job, like the mapping check
/// (docs/MAPPING.md, "Cost").
public struct RulesWorkbench: Sendable {
    public var rulesPath: String
    public var versions: MappingVersions?
    public var mappingPath: String
    public var historyPath: String?
    public var modelPath: String?
    public var now: @Sendable () -> Date = { Date() }
    /// How long the console's request waits for a backtest before answering with its progress (the backtest goes on).
    public var checkWait: Duration = .seconds(3)
    /// How many kept batches a backtest reads and builds at a time.
    public var batchPageSize = 32
    /// The backtests run for the console, shared by every copy of this workbench.
    public let checks = RulesCheckJobs()

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

    /// Parses `text` and runs it and the rules in force on the card sales of the last `days` days (1 to 120): the whole
    /// backtest, awaited (the console runs it as a job, `checkInBackground`).
    public func check(_ text: String, days: Int) async throws -> RulesCheck {
        try await check(text, days: days, progress: nil)
    }

    func check(_ text: String, days: Int, progress: (@Sendable (_ tried: Int, _ total: Int) -> Void)?) async throws -> RulesCheck {
        let days = Self.clamped(days: days)
        var check = RulesCheck(days: days, batches: 0, events: 0, candidateRules: [], inForceRules: [], actions: [])
        let candidate: RuleSet
        do {
            candidate = try RuleParser.parse(text, file: rulesPath)
        } catch {
            check.syntaxError = "\(error)"
            return check
        }
        let current = try? RuleParser.parse(try inForce(), file: rulesPath)
        // Reading, building and the replay on a thread of their own: a minute of CPU for a quarter of 40 stores.
        let (reports, read, events) = try await offThePool { () async throws -> ([BacktestReport], Int, Int) in
            let model = try modelPath.map(FraudModel.load(path:)) ?? .unscored
            return try await backtest(days: days, rules: [candidate] + (current.map { [$0] } ?? []), model: model, progress: progress)
        }
        check.batches = read
        check.events = events
        let proposed = reports[0], before = reports.count > 1 ? reports[1] : nil
        check.candidateRules = proposed.perRule.map { .init(label: $0.label, matched: $0.matched) }
        check.inForceRules = before?.perRule.map { .init(label: $0.label, matched: $0.matched) } ?? []
        check.actions = FraudAction.allCases.map { action in
            .init(action: action.rawValue, inForce: before?.perAction[action]?.matched ?? 0, candidate: proposed.perAction[action]?.matched ?? 0)
        }
        return check
    }

    /// The backtest as the console runs it: a job per exact input (`RulesCheckJobs`), awaited at most `wait`; asking again
    /// gives its progress, then its result. A text that does not parse is answered at once with its syntax error.
    public func checkInBackground(_ text: String, days: Int, wait: Duration? = nil) async throws -> RulesCheckJobs.Status {
        guard (try? RuleParser.parse(text, file: rulesPath)) != nil else { return .finished(try await check(text, days: days)) }
        return await checks.status(of: try await input(text, days: days), wait: wait ?? checkWait) { progress in
            try await self.check(text, days: days, progress: progress)
        }
    }

    /// What the backtest of `text` on the last `days` days depends on, as it is now.
    func input(_ text: String, days: Int) async throws -> RulesCheckInput {
        let days = Self.clamped(days: days)
        let kept = try await historyPath.map { try KeptEvents.open(path: $0) }?.fingerprint(since: windowStart(days: days)) ?? ""
        let model = modelPath.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "unreadable: \($0)" }
        return RulesCheckInput(candidate: text, inForce: try? inForce(), days: days, model: model,
                               mapping: try? String(contentsOfFile: mappingPath, encoding: .utf8), kept: kept)
    }

    /// The days a backtest covers: 1 to 120.
    static func clamped(days: Int) -> Int { min(max(days, 1), 120) }

    /// Where the window of the last `days` days starts.
    func windowStart(days: Int) -> Date { now().addingTimeInterval(-Double(days) * 24 * 3600) }

    /// The rule sets backtested on the card sales of the closed batches kept in the window (one replay for all of them,
    /// `BacktestReplay`), how many batches were read and how many sales. The batches are read in business-date order, a
    /// page at a time (a batch's tickets can be megabytes), each built by the transformer's code, only its sales kept,
    /// and the store-days no later batch can add to are replayed as the reading goes: a batch's sales fall on its
    /// business date or after, so once the batches of a date are read, the store-days before the day before it are
    /// complete (a day is kept back for a sale dated before its batch). The order of the replay is that of the whole
    /// window replayed at once; about two days of sales are held instead of the window's (90 days of 40 stores held
    /// 810,000 sales, 320 MiB). Run off the pool (`check`).
    func backtest(days: Int, rules: [RuleSet], model: FraudModel, progress: (@Sendable (_ tried: Int, _ total: Int) -> Void)?) async throws
        -> (reports: [BacktestReport], batches: Int, events: Int)
    {
        var replay = try BacktestReplay(model: model, rules: rules)
        guard let historyPath else { return (replay.reports, 0, 0) }
        let history = try KeptEvents.open(path: historyPath)
        let window = try await history.batchList(since: windowStart(days: days)).sorted { ($0.businessDate, $0.batchID) < ($1.businessDate, $1.batchID) }
        progress?(0, window.count)
        let transformer = TransformerHandler(rules: try MappingRules.load(path: mappingPath))
        var sales = EventBatches()
        var read = 0
        for start in stride(from: 0, to: window.count, by: batchPageSize) {
            let page = window[start..<min(start + batchPageSize, window.count)]
            var batches: [BatchClosedEvent] = []
            for entry in page {
                if let batch = try await history.batch(id: entry.batchID) { batches.append(batch) }
            }
            sales.add(try Self.sales(of: batches, transformer: transformer))
            read += page.count
            progress?(read, window.count)
            if start + batchPageSize < window.count, let complete = Self.dayBefore(window[start + batchPageSize].businessDate) {
                try await replay.replay(&sales, before: complete)
            }
        }
        let events = sales.count
        try await replay.replay(&sales)
        return (replay.reports, read, events)
    }

    /// `2026-11-25` for `2026-11-26`; nil for a text that is not a date (then nothing is replayed early).
    static func dayBefore(_ date: String) -> String? {
        (try? BusinessDate(parsing: date))?.adding(days: -1).iso
    }

    /// The card sales of `batches` as the fraud-scorer scores them (a batch the transformer cannot build is left out).
    static func sales(of batches: [BatchClosedEvent], transformer: TransformerHandler) throws -> [LabelledEvent] {
        var events: [LabelledEvent] = []
        for event in batches {
            guard let built = try? transformer.settlement(batch: event) else { continue }
            for document in built.documents {
                guard let activity = document.cardActivity else { continue }
                events += try activity.sales.map {
                    LabelledEvent(event: try SettlementSales.event($0, store: document.storeID ?? event.store.id, timeZone: activity.timeZone))
                }
            }
        }
        return events
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
