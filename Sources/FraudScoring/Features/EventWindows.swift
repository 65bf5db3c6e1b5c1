import Foundation
import GRDB

/// What `FeatureStore.observe` counts for one event, read the fastest way for the call: a settlement batch of thousands of
/// events loads each terminal's, card's and clerk's events around the batch once, in time order with running totals, and
/// counts any window by two binary searches; a single event from the gateway feed asks SQLite for each window (loading a
/// busy terminal's whole day for one event would cost more than the counts). Both read the same rows inside the same
/// transaction, after the call's events are recorded, so they give the same counts (`FeatureStoreTests` checks that they do).
/// The counts of a store's local day and the amount baselines are read once per call and the baselines written back once.
struct EventWindows {
    /// Events of one key in a time range.
    struct Counts: Equatable {
        var events = 0, keyed = 0, declines = 0, small = 0
    }

    enum Key: Hashable {
        case terminal(String)
        case card(String)
        case clerk(store: String, clerk: String)

        /// How far around an event its widest window reaches (card: ±24 h; terminal and clerk: the day's ±12 h).
        var reach: Double {
            switch self {
            case .card: 86_400
            case .terminal, .clerk: 12 * 3600
            }
        }

        var condition: (sql: String, arguments: StatementArguments) {
            switch self {
            case .terminal(let terminal): ("terminal = ?", [terminal])
            case .card(let card): ("card = ?", [card])
            case .clerk(let store, let clerk): ("store = ? AND clerk = ?", [store, clerk])
            }
        }
    }

    /// One key's events around the call's events, in time order, with running totals (index i: among the first i events).
    struct Series {
        let loaded: ClosedRange<Double>
        var at: [Double] = []
        var keyed: [Int] = [0], declines: [Int] = [0], small: [Int] = [0]

        /// Counts the events with `from <= at <= to` (SQL's BETWEEN).
        func counts(from: Double, to: Double) -> Counts {
            let lower = at.partitioningIndex { $0 >= from }, upper = at.partitioningIndex { $0 > to }
            guard lower < upper else { return Counts() }
            return Counts(events: upper - lower, keyed: keyed[upper] - keyed[lower], declines: declines[upper] - declines[lower],
                          small: small[upper] - small[lower])
        }
    }

    struct Baseline {
        var n: Int
        var mean: Double
        var variance: Double
    }

    /// The time range the call's events span; nil: ask SQLite for every window.
    private let span: ClosedRange<Double>?
    private var series: [Key: Series] = [:]
    private var dayCounts: [String: Row] = [:]
    private var clerkVoids: [String: Double] = [:]
    private var baselines: [String: Baseline?] = [:]
    private var changedBaselines: Set<String> = []

    init(events: [ScoredEvent], inMemory: Bool) {
        let times = events.map(\.occurredAt.timeIntervalSince1970)
        if inMemory, let first = times.min(), let last = times.max() {
            span = first...last
        } else {
            span = nil
        }
    }

    mutating func counts(_ key: Key, from: Double, to: Double, _ db: Database) throws -> Counts {
        if let span, from >= span.lowerBound - key.reach, to <= span.upperBound + key.reach {
            if series[key] == nil { series[key] = try Self.load(key, (span.lowerBound - key.reach)...(span.upperBound + key.reach), db) }
            return series[key]!.counts(from: from, to: to)
        }
        let condition = key.condition
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*) AS events, COALESCE(SUM(keyed), 0) AS keyed, COALESCE(SUM(kind = 'decline'), 0) AS declines,
                   COALESCE(SUM(small), 0) AS small
            FROM event WHERE \(condition.sql) AND at BETWEEN ? AND ?
            """), arguments: condition.arguments + [from, to])
        return Counts(events: row?["events"] ?? 0, keyed: row?["keyed"] ?? 0, declines: row?["declines"] ?? 0, small: row?["small"] ?? 0)
    }

    private static func load(_ key: Key, _ range: ClosedRange<Double>, _ db: Database) throws -> Series {
        var loaded = Series(loaded: range)
        let condition = key.condition
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT at, keyed, kind = 'decline' AS decline, small FROM event WHERE \(condition.sql) AND at BETWEEN ? AND ? ORDER BY at
            """), arguments: condition.arguments + [range.lowerBound, range.upperBound])
        while let row = try rows.next() {
            loaded.at.append(row["at"])
            loaded.keyed.append(loaded.keyed.last! + (row["keyed"] as Bool ? 1 : 0))
            loaded.declines.append(loaded.declines.last! + (row["decline"] as Bool ? 1 : 0))
            loaded.small.append(loaded.small.last! + (row["small"] as Bool ? 1 : 0))
        }
        return loaded
    }

    /// The clerk's voids of a local day at the store.
    mutating func clerkVoids(store: String, clerk: String, day: String, _ db: Database) throws -> Double {
        let key = "\(store)|\(clerk)|\(day)"
        if let known = clerkVoids[key] { return known }
        let voids = try Double.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*) FROM event WHERE store = ? AND clerk = ? AND local_day = ? AND kind = 'void'
            """), arguments: [store, clerk, day]) ?? 0
        clerkVoids[key] = voids
        return voids
    }

    /// A store's local day: its events, its voids and the clerk's events.
    mutating func day(store: String, day: String, clerk: String, _ db: Database) throws -> (events: Double, voids: Double, clerkEvents: Double) {
        let key = "\(store)|\(day)|\(clerk)"
        let row: Row
        if let known = dayCounts[key] {
            row = known
        } else {
            row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT COUNT(*) AS events, COALESCE(SUM(kind = 'void'), 0) AS voids, COALESCE(SUM(clerk = ?), 0) AS clerkEvents
                FROM event WHERE store = ? AND local_day = ?
                """), arguments: [clerk, store, day]) ?? Row()
            dayCounts[key] = row
        }
        return (row["events"] ?? 0, row["voids"] ?? 0, row["clerkEvents"] ?? 0)
    }

    mutating func baseline(_ scope: String, _ db: Database) throws -> Baseline? {
        if let known = baselines[scope] { return known }
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT n, mean, variance FROM baseline WHERE scope = ?"), arguments: [scope])
        let baseline = row.map { Baseline(n: $0["n"], mean: $0["mean"], variance: $0["variance"]) }
        baselines[scope] = baseline
        return baseline
    }

    mutating func setBaseline(_ scope: String, _ baseline: Baseline) {
        baselines[scope] = baseline
        changedBaselines.insert(scope)
    }

    /// Writes the baselines the call moved.
    func flush(_ db: Database) throws {
        for scope in changedBaselines.sorted() {
            guard let baseline = baselines[scope] ?? nil else { continue }
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO baseline (scope, n, mean, variance) VALUES (?, ?, ?, ?)")
                .execute(arguments: [scope, baseline.n, baseline.mean, baseline.variance])
        }
    }
}

extension Array {
    /// The first index whose element satisfies `belongs` (elements that do are all after those that do not).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
