import Accounting
import Foundation
import GRDB
import Messaging
import Synchronization

/// The scorer's memory: every event it has seen (bounded by age and count) and running amount
/// baselines per store and terminal, in SQLite. `observe` records a batch of events and returns each
/// event's features, computed from the history around it.
///
/// Windows are centred on the event (`±1 h`), over what the store knows: when a whole settlement
/// batch is observed at once, the first card test of a burst already sees the ones after it; when
/// events arrive one by one, the same window only sees the past.
public final class FeatureStore: Sendable {
    public struct Limits: Sendable {
        /// Events older than this (relative to the newest event) are pruned. 120 days covers the
        /// refund window of linked refunds.
        public var maxAge: TimeInterval
        public var maxEvents: Int

        public init(maxAge: TimeInterval = 120 * 86_400, maxEvents: Int = 2_000_000) {
            self.maxAge = maxAge
            self.maxEvents = maxEvents
        }
    }

    /// Authorisations under this amount count as "tiny" (card testing probes with cents).
    public static let smallAuthCents: Int64 = 200
    /// Baselines ignore z-scores until they have seen this many amounts.
    static let baselineWarmUp = 20
    static let baselineAlpha = 0.01
    /// Voids per clerk per shift assumed before a store has history.
    static let defaultVoidRate = 0.25

    /// Calls to `observe` with at least this many events count their windows in memory (`EventWindows`).
    public static let inMemoryWindowsFrom = 16

    /// Pruning runs after this many new events (counting the table on every batch would cost more than scoring).
    static let pruneEvery = 1_000

    private let database: any DatabaseWriter
    /// The recorded events as a person (or the scorer, for a flagged event's run) looks at them, on this store's connection.
    public let history: EventHistory
    private let insertsSincePrune = Mutex(0)
    private let limits: Limits
    private let hours: [StoreID: StoreHours]
    private let defaultHours: StoreHours
    private let inMemoryWindowsFrom: Int

    /// `path` nil: an in-memory store (backtests, evaluation, tests). `inMemoryWindowsFrom`: the smallest call to `observe`
    /// that counts its windows in memory (`Int.max`: always with SQL, as before issue 21; `fraud-lab bench --stage
    /// --compare-sql-windows` compares the two).
    public init(path: String?, limits: Limits = Limits(), hours: [StoreID: StoreHours] = [:],
                defaultHours: StoreHours = .standard, inMemoryWindowsFrom: Int = FeatureStore.inMemoryWindowsFrom) throws {
        self.inMemoryWindowsFrom = inMemoryWindowsFrom
        database = try path.map { try SQLiteFile.pool(path: $0) } ?? DatabaseQueue()
        history = EventHistory(database: database)
        self.limits = limits
        self.hours = hours
        self.defaultHours = defaultHours
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // `IF NOT EXISTS`: a file the store wrote before it had a migrator is taken as it is.
        migrator.registerMigration("feature-store-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS event (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    store TEXT NOT NULL,
                    terminal TEXT NOT NULL,
                    clerk TEXT,
                    card TEXT,
                    tender TEXT NOT NULL,
                    keyed INTEGER NOT NULL,
                    small INTEGER NOT NULL,
                    amount INTEGER NOT NULL,
                    at REAL NOT NULL,
                    local_day TEXT NOT NULL,
                    original_id TEXT
                );
                CREATE INDEX IF NOT EXISTS event_card ON event(card, at) WHERE card IS NOT NULL;
                CREATE INDEX IF NOT EXISTS event_terminal ON event(terminal, at);
                CREATE INDEX IF NOT EXISTS event_clerk ON event(store, clerk, at);
                CREATE INDEX IF NOT EXISTS event_shift ON event(store, clerk, local_day, kind);
                CREATE INDEX IF NOT EXISTS event_original ON event(original_id) WHERE original_id IS NOT NULL;
                CREATE INDEX IF NOT EXISTS event_at ON event(at);
                CREATE TABLE IF NOT EXISTS baseline (
                    scope TEXT PRIMARY KEY,
                    n INTEGER NOT NULL,
                    mean REAL NOT NULL,
                    variance REAL NOT NULL
                );
                """)
        }
        return migrator
    }()

    /// Records the events (a redelivered event is recorded once) and returns their features, in the
    /// order given. Baselines move in time order, after each event's own features are taken.
    ///
    /// An event whose id is already recorded (a redelivery, or a settled sale the gateway feed recorded when it was
    /// authorised) is not recorded again and moves no baseline; its features are those of the recorded copy, with
    /// what only the later copy knows added (the clerk). So a sale is counted once in every window, under one terminal
    /// and one card token, whichever path saw it first.
    ///
    /// A batch counts its windows in memory (each terminal's, card's and clerk's events around the batch loaded once), a few
    /// events with SQL (`EventWindows`); the baselines are read once and written back once.
    public func observe(_ events: [ScoredEvent]) async throws -> [FeatureVector] {
        try await observe(events, windowsInMemory: nil)
    }

    /// `windowsInMemory` nil: in memory for a call of `inMemoryWindowsFrom` events or more (tests force either way).
    func observe(_ events: [ScoredEvent], windowsInMemory: Bool?) async throws -> [FeatureVector] {
        try await database.write { db in
            var fresh = Set<String>()
            var recorded: [Int: ScoredEvent] = [:]
            for (index, event) in events.enumerated() {
                if try insert(event, db) {
                    fresh.insert(event.id)
                } else {
                    recorded[index] = try merge(event, db)
                }
            }
            var voidRates: [String: Double] = [:]
            var features = [FeatureVector](repeating: FeatureVector(), count: events.count)
            let merged = events.indices.map { recorded[$0] ?? events[$0] }
            var windows = EventWindows(events: merged, inMemory: windowsInMemory ?? (events.count >= inMemoryWindowsFrom))
            let order = events.indices.sorted { (events[$0].occurredAt, events[$0].id) < (events[$1].occurredAt, events[$1].id) }
            for index in order {
                let event = merged[index]
                features[index] = try compute(event, db, &windows, voidRates: &voidRates)
                if fresh.contains(event.id), event.kind == .sale {
                    try updateBaseline("store:\(event.store)", event, &windows, db)
                    try updateBaseline("terminal:\(terminalKey(event))", event, &windows, db)
                }
            }
            try windows.flush(db)
            let due = insertsSincePrune.withLock { count in
                count += fresh.count
                guard count >= Self.pruneEvery else { return false }
                count = 0
                return true
            }
            if due { _ = try prune(db) }
            return features
        }
    }

    /// Whether an event with this id has been recorded.
    public func isRecorded(_ id: String) async throws -> Bool {
        try await database.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM event WHERE id = ?", arguments: [id]) ?? false }
    }

    /// Every recorded event's id and kind: what the scorer has seen (the pipeline evaluation counts its clean events here).
    public func recordedKinds() async throws -> [String: ScoredEvent.Kind] {
        try await database.read { db in
            var kinds: [String: ScoredEvent.Kind] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, kind FROM event") {
                let id: String = row["id"]
                kinds[id] = ScoredEvent.Kind(rawValue: row["kind"]) ?? .sale
            }
            return kinds
        }
    }

    public func eventCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") ?? 0 }
    }

    /// Drops events older than `maxAge` before the newest and then the oldest beyond `maxEvents`.
    @discardableResult
    public func prune() async throws -> Int { try await database.write { db in try prune(db) } }

    private func prune(_ db: Database) throws -> Int {
        guard let newest = try Double.fetchOne(db, sql: "SELECT MAX(at) FROM event") else { return 0 }
        try db.execute(sql: "DELETE FROM event WHERE at < ?", arguments: [newest - limits.maxAge])
        var removed = db.changesCount
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") ?? 0
        if count > limits.maxEvents {
            try db.execute(sql: "DELETE FROM event WHERE rowid IN (SELECT rowid FROM event ORDER BY at LIMIT ?)",
                           arguments: [count - limits.maxEvents])
            removed += db.changesCount
        }
        return removed
    }

    private func terminalKey(_ event: ScoredEvent) -> String { "\(event.store)/\(event.terminal)" }

    /// A sale or decline under `smallAuthCents`: what card testing is made of (`small_auth`, the recorded `small`).
    static func isSmallAuthorisation(_ event: ScoredEvent) -> Bool {
        (event.kind == .sale || event.kind == .decline) && event.amountCents < smallAuthCents
    }

    private func insert(_ event: ScoredEvent, _ db: Database) throws -> Bool {
        let small = Self.isSmallAuthorisation(event)
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO event (id, kind, store, terminal, clerk, card, tender, keyed, small, amount, at, local_day, original_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                event.id, event.kind.rawValue, event.store.rawValue, terminalKey(event), event.clerk, event.cardToken?.rawValue,
                event.tender.rawValue, event.entryMode == .keyed, small, event.amountCents,
                event.occurredAt.timeIntervalSince1970, event.localTime.day, event.originalSale?.id,
            ])
        return db.changesCount == 1
    }

    /// The recorded copy of an event seen before, as `event` with the recorded terminal, card and keyed entry; a clerk the
    /// recorded copy lacks is added to it.
    private func merge(_ event: ScoredEvent, _ db: Database) throws -> ScoredEvent {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT terminal, card, keyed, clerk FROM event WHERE id = ?"),
                                         arguments: [event.id]) else { return event }
        var merged = event
        let terminal: String = row["terminal"]
        let prefix = "\(event.store)/"
        if terminal.hasPrefix(prefix) { merged.terminal = String(terminal.dropFirst(prefix.count)) }
        if let card: String = row["card"] { merged.cardToken = CardToken(card) }
        if row["keyed"] as Bool { merged.entryMode = .keyed }
        if let clerk: String = row["clerk"] {
            merged.clerk = clerk
        } else if let clerk = event.clerk {
            try db.cachedStatement(sql: "UPDATE event SET clerk = ? WHERE id = ?").execute(arguments: [clerk, event.id])
        }
        return merged
    }

    private func compute(_ event: ScoredEvent, _ db: Database, _ windows: inout EventWindows, voidRates: inout [String: Double]) throws
        -> FeatureVector
    {
        var f = FeatureVector()
        let at = event.occurredAt.timeIntervalSince1970
        let local = event.localTime
        f[.amount] = Double(event.amountCents)
        f[.logAmount] = log1p(Double(max(0, event.amountCents)))
        f[.isRefund] = event.kind == .refund ? 1 : 0
        f[.isVoid] = event.kind == .void ? 1 : 0
        f[.isDecline] = event.kind == .decline ? 1 : 0
        f[.keyedEntry] = event.entryMode == .keyed ? 1 : 0
        f[.smallAuth] = Self.isSmallAuthorisation(event) ? 1 : 0

        if let card = event.cardToken {
            f[.cardVelocity1h] = Double(try windows.counts(.card(card.rawValue), from: at - 3600, to: at + 3600, db).events)
            f[.cardVelocity24h] = Double(try windows.counts(.card(card.rawValue), from: at - 86_400, to: at + 86_400, db).events)
        }
        let terminal = EventWindows.Key.terminal(terminalKey(event))
        let tenMinutes = try windows.counts(terminal, from: at - 600, to: at + 600, db)
        let hour = try windows.counts(terminal, from: at - 3600, to: at + 3600, db)
        f[.terminalVelocity10m] = Double(tenMinutes.events)
        f[.terminalKeyed1h] = Double(hour.keyed)
        f[.terminalDeclines10m] = Double(tenMinutes.declines)
        f[.terminalSmallAuths10m] = Double(tenMinutes.small)
        if let clerk = event.clerk {
            let clerkHour = try windows.counts(.clerk(store: event.store.rawValue, clerk: clerk), from: at - 3600, to: at + 3600, db)
            f[.clerkVelocity1h] = Double(clerkHour.events)
            f[.clerkKeyed1h] = Double(clerkHour.keyed)
            if event.kind == .void {
                let voids = try windows.clerkVoids(store: event.store.rawValue, clerk: clerk, day: local.day, db)
                let key = "\(event.store)|\(local.day)"
                let rate: Double
                if let known = voidRates[key] {
                    rate = known
                } else {
                    rate = try voidRate(store: event.store, excludingDay: local.day, before: at, db)
                    voidRates[key] = rate
                }
                f[.clerkVoidsShift] = voids
                f[.clerkVoidExcess] = voids - rate
            }
        }
        try relativeToTheDay(event, at: at, hourEvents: Double(hour.events), &f, &windows, db)
        if event.kind == .sale || event.kind == .decline {
            f[.amountZStore] = try zScore("store:\(event.store)", event, &windows, db)
            f[.amountZTerminal] = try zScore("terminal:\(terminalKey(event))", event, &windows, db)
        }
        if event.kind == .refund {
            if let original = event.originalSale {
                let row = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT COALESCE(SUM(amount), 0) AS total, COALESCE(SUM(CASE WHEN tender = ? THEN amount ELSE 0 END), 0) AS onTender
                    FROM event WHERE original_id = ? AND kind = 'refund' AND id <> ? AND (at < ? OR (at = ? AND id < ?))
                    """), arguments: [event.tender.rawValue, original.id, event.id, at, at, event.id])
                let earlier: Int64 = row?["total"] ?? 0
                let earlierOnTender: Int64 = row?["onTender"] ?? 0
                let over = earlier + event.amountCents > original.amountCents
                f[.refundOverOriginal] = over ? 1 : 0
                if event.tender == .card, let saleCard = original.cardToken, let card = event.cardToken, saleCard != card {
                    f[.refundCardMismatch] = 1
                }
                if !over, earlierOnTender + event.amountCents > original.tenderMix.cents(on: event.tender) {
                    f[.refundTenderMismatch] = 1
                }
            } else {
                f[.refundUnlinked] = 1
            }
        }
        let outside = (hours[event.store] ?? defaultHours).minutesOutside(minuteOfDay: local.minuteOfDay)
        f[.outsideHours] = outside > 0 ? 1 : 0
        f[.minutesOutsideHours] = Double(outside)
        return f
    }

    /// The volume-dependent counts (computed first) against the day's own volume (±12 h): the terminal's and the clerk's pace as a
    /// multiple of their average over the day, and the keyed, declined, tiny and voided events beyond what the day's
    /// share of each would put in the window.
    private func relativeToTheDay(_ event: ScoredEvent, at: Double, hourEvents hour: Double, _ f: inout FeatureVector,
                                  _ windows: inout EventWindows, _ db: Database) throws {
        let day = 12 * 3600.0, span = 2 * day
        let whole = try windows.counts(.terminal(terminalKey(event)), from: at - day, to: at + day, db)
        let events = Double(whole.events)
        let tenMinutes = f[.terminalVelocity10m]
        f[.terminalBusyRatio] = tenMinutes / max(1, events * 1200 / span)
        if events > 0 {
            f[.terminalKeyedExcess] = f[.terminalKeyed1h] - Double(whole.keyed) / events * hour
            f[.terminalDeclinesExcess] = f[.terminalDeclines10m] - Double(whole.declines) / events * tenMinutes
            f[.terminalSmallAuthsExcess] = f[.terminalSmallAuths10m] - Double(whole.small) / events * tenMinutes
        }
        guard let clerk = event.clerk else { return }
        let store = event.store.rawValue
        let clerkDay = Double(try windows.counts(.clerk(store: store, clerk: clerk), from: at - day, to: at + day, db).events)
        f[.clerkBusyRatio] = f[.clerkVelocity1h] / max(1, clerkDay * 7200 / span)
        if event.kind == .void {
            // The clerk's voids of the local day are `clerk_voids_shift`, counted above.
            let counts = try windows.day(store: store, day: event.localTime.day, clerk: clerk, db)
            if counts.events > 0 {
                f[.clerkVoidsExcessDay] = f[.clerkVoidsShift] - counts.voids / counts.events * counts.clerkEvents
            }
        }
    }

    /// The store's voids per clerk per shift over the last 30 days, shifts of `excludingDay` left out.
    private func voidRate(store: StoreID, excludingDay day: String, before at: Double, _ db: Database) throws -> Double {
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT COALESCE(SUM(kind = 'void'), 0) AS voids, COUNT(DISTINCT clerk || '|' || local_day) AS shifts
            FROM event WHERE store = ? AND clerk IS NOT NULL AND local_day <> ? AND at BETWEEN ? AND ?
            """), arguments: [store.rawValue, day, at - 30 * 86_400, at])
        let voids: Double = row?["voids"] ?? 0
        let shifts: Double = row?["shifts"] ?? 0
        // A prior worth ten shifts keeps a store with little history from calling every void unusual.
        return (voids + Self.defaultVoidRate * 10) / (shifts + 10)
    }

    private func zScore(_ scope: String, _ event: ScoredEvent, _ windows: inout EventWindows, _ db: Database) throws -> Double {
        guard let baseline = try windows.baseline(scope, db), baseline.n >= Self.baselineWarmUp else { return 0 }
        return (log1p(Double(max(0, event.amountCents))) - baseline.mean) / max(0.05, baseline.variance.squareRoot())
    }

    /// Exponentially weighted mean and variance of log amounts (West's incremental form); a plain
    /// running mean until 1/alpha amounts have been seen.
    private func updateBaseline(_ scope: String, _ event: ScoredEvent, _ windows: inout EventWindows, _ db: Database) throws {
        let x = log1p(Double(max(0, event.amountCents)))
        let known = try windows.baseline(scope, db)
        var n = known?.n ?? 0
        var mean = known?.mean ?? x
        var variance = known?.variance ?? 0
        let alpha = max(Self.baselineAlpha, 1 / Double(n + 1))
        let delta = x - mean
        mean += alpha * delta
        variance = (1 - alpha) * (variance + alpha * delta * delta)
        n += 1
        windows.setBaseline(scope, EventWindows.Baseline(n: n, mean: mean, variance: variance))
    }
}
