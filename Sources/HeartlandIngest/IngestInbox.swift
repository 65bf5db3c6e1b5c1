import BridgeClock
import Foundation
import GRDB
import GRDBSQLite
import Messaging

/// heartland-ingest's inbox: every Heartland source record it has heard of, under its idempotency
/// key (`heartland:batch:<id>`), whether a webhook or the poller saw it first. A record is inserted
/// once (`accept`), so a duplicate webhook and the poller's overlap add a sighting, not a second
/// publish. A record stays `pending` until its event is confirmed by the broker; a crash in between
/// means it is fetched and published again on restart (same message id), never lost.
public final class IngestInbox: Sendable {
    public enum Status: String, Sendable, Codable { case pending, published, failed, ignored }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var kind: String
        public var sourceID: String
        public var firstSeenBy: String
        public var sightings: Int
        public var status: Status
        public var attempts: Int
        public var lastError: String?
        public var messageID: String?
        /// When the first sighting was recorded (RFC 3339).
        public var receivedAt: String = ""
    }

    private let database: DatabasePool
    /// Rung whenever a new pending record is written: the forwarder publishes it at once instead of at its next scan.
    public let recorded = Doorbell()

    public init(path: String) throws {
        database = try SQLiteFile.pool(path: path)
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // `IF NOT EXISTS`: a file the store wrote before it had a migrator is taken as it is.
        migrator.registerMigration("ingest-inbox-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS inbox (
                    idempotency_key TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    source_id TEXT NOT NULL,
                    first_seen_by TEXT NOT NULL,
                    sightings INTEGER NOT NULL DEFAULT 1,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    last_error TEXT,
                    message_id TEXT,
                    received_at TEXT NOT NULL,
                    published_at TEXT
                );
                CREATE INDEX IF NOT EXISTS inbox_due ON inbox (status, next_attempt_at);
                CREATE TABLE IF NOT EXISTS poll_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS document_claim (
                    store TEXT NOT NULL, document_id TEXT NOT NULL, batch_id TEXT NOT NULL, claimed_at TEXT NOT NULL,
                    PRIMARY KEY (store, document_id));
                CREATE TABLE IF NOT EXISTS batch_event (batch_id TEXT PRIMARY KEY, body BLOB NOT NULL, built_at TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS feed_event (idempotency_key TEXT PRIMARY KEY, body BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS payroll_event (run_id TEXT PRIMARY KEY, body BLOB NOT NULL, built_at TEXT NOT NULL);
                """)
        }
        // A kept event's body becomes the last column: SQLite then stores the zeroblob `keepBatchEvent` inserts without
        // building it in memory. With `built_at` after it, SQLite expanded it and copied the record: 193 MB more at once for
        // a 100 MB body, 2 MB with the body last (measured).
        migrator.registerMigration("ingest-inbox-v2-batch-event-body-last") { db in
            try db.execute(sql: """
                CREATE TABLE batch_event_v2 (batch_id TEXT PRIMARY KEY, built_at TEXT NOT NULL, body BLOB NOT NULL);
                INSERT INTO batch_event_v2 (batch_id, built_at, body) SELECT batch_id, built_at, body FROM batch_event;
                DROP TABLE batch_event;
                ALTER TABLE batch_event_v2 RENAME TO batch_event;
                """)
        }
        return migrator
    }()

    /// Records a source record; true when it is new (and now pending), false for a repeat sighting.
    @discardableResult
    public func accept(key: String, kind: String, sourceID: String, seenBy: String, status: Status = .pending, now: Date = Date()) async throws -> Bool {
        let new = try await database.write { db in
            try db.execute(sql: """
                INSERT INTO inbox (idempotency_key, kind, source_id, first_seen_by, status, next_attempt_at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(idempotency_key) DO UPDATE SET sightings = sightings + 1
                """, arguments: [key, kind, sourceID, seenBy, status.rawValue, now.timeIntervalSince1970, Self.stamp(now)])
            return try Int.fetchOne(db, sql: "SELECT sightings FROM inbox WHERE idempotency_key = ?", arguments: [key]) == 1
        }
        if new && status == .pending { recorded.ring() }
        return new
    }

    /// Records a gateway feed event with its body, built from the listing, in one transaction (the forwarder never sees
    /// the record without its body); true when it is new, false for a repeat sighting.
    @discardableResult
    public func acceptFeedEvent(key: String, kind: String, sourceID: String, body: Data) async throws -> Bool {
        let now = Date()  // the machine's clock, which the forwarder reads: never the business clock (`--clock`)
        let new = try await database.write { db in
            try db.execute(sql: """
                INSERT INTO inbox (idempotency_key, kind, source_id, first_seen_by, status, next_attempt_at, received_at)
                VALUES (?, ?, ?, 'gateway_feed', 'pending', ?, ?)
                ON CONFLICT(idempotency_key) DO UPDATE SET sightings = sightings + 1
                """, arguments: [key, kind, sourceID, now.timeIntervalSince1970, Self.stamp(now)])
            try db.execute(sql: "INSERT OR IGNORE INTO feed_event (idempotency_key, body) VALUES (?, ?)", arguments: [key, body])
            return try Int.fetchOne(db, sql: "SELECT sightings FROM inbox WHERE idempotency_key = ?", arguments: [key]) == 1
        }
        if new { recorded.ring() }
        return new
    }

    /// The body kept with a gateway feed record.
    public func feedEvent(_ key: String) async throws -> Data? {
        try await database.read { db in try Data.fetchOne(db, sql: "SELECT body FROM feed_event WHERE idempotency_key = ?", arguments: [key]) }
    }

    /// The keys among these that the inbox has never recorded (one read instead of a write per repeat sighting).
    public func unknownKeys(_ keys: [String]) async throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return try await database.read { db in
            var unknown = Set(keys)
            for chunk in stride(from: 0, to: keys.count, by: 500).map({ Array(keys[$0..<min($0 + 500, keys.count)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for known in try String.fetchAll(db, sql: "SELECT idempotency_key FROM inbox WHERE idempotency_key IN (\(marks))",
                                                 arguments: StatementArguments(chunk)) {
                    unknown.remove(known)
                }
            }
            return unknown
        }
    }

    /// Which kinds of record `due` reads.
    public enum KindFilter: Sendable {
        case all
        case only([String])
        case otherThan([String])
    }

    /// The pending records whose next attempt is due, oldest first.
    public func due(now: Date = Date(), kinds: KindFilter = .all, limit: Int = 20) async throws -> [Entry] {
        try await database.read { db in
            var sql = "SELECT * FROM inbox WHERE status = 'pending' AND next_attempt_at <= ?"
            var arguments: StatementArguments = [now.timeIntervalSince1970]
            switch kinds {
            case .all:
                break
            case .only(let listed), .otherThan(let listed):
                let negation = if case .otherThan = kinds { "NOT " } else { "" }
                sql += " AND kind \(negation)IN (\(databaseQuestionMarks(count: listed.count)))"
                arguments += StatementArguments(listed)
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY received_at, rowid LIMIT ?", arguments: arguments + [limit]).map(Self.entry)
        }
    }

    public func entry(_ key: String) async throws -> Entry? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM inbox WHERE idempotency_key = ?", arguments: [key]).map(Self.entry)
        }
    }

    public func entries() async throws -> [Entry] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM inbox ORDER BY received_at").map(Self.entry) }
    }

    /// Records published (together: in one transaction).
    public func markPublished(_ records: [(key: String, messageID: String)], now: Date = Date()) async throws {
        let publishedAt = Self.stamp(now)
        try await database.write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE inbox SET status = 'published', message_id = ?, published_at = ?, last_error = NULL,
                attempts = attempts + 1 WHERE idempotency_key = ?
                """)
            for record in records {
                try statement.execute(arguments: [record.messageID, publishedAt, record.key])
            }
        }
    }

    /// Another failed attempt; returns the attempt count.
    @discardableResult
    public func markRetry(_ key: String, error: String, nextAttemptAt: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "UPDATE inbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE idempotency_key = ?",
                           arguments: [error, nextAttemptAt.timeIntervalSince1970, key])
            return try Int.fetchOne(db, sql: "SELECT attempts FROM inbox WHERE idempotency_key = ?", arguments: [key]) ?? 0
        }
    }

    public func markFailed(_ key: String, error: String) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE inbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE idempotency_key = ?",
                           arguments: [error, key])
        }
    }

    /// Puts failed records back in the queue (after the cause has been fixed).
    @discardableResult
    public func retryFailed(now: Date = Date()) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "UPDATE inbox SET status = 'pending', next_attempt_at = ? WHERE status = 'failed'",
                           arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func pollState(_ name: String) async throws -> String? {
        try await database.read { db in try String.fetchOne(db, sql: "SELECT value FROM poll_state WHERE name = ?", arguments: [name]) }
    }

    public func setPollState(_ name: String, _ value: String) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO poll_state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                           arguments: [name, value])
        }
    }

    /// Claims documents for a batch: a document belongs to the first batch that claims it, for good. Returns
    /// the candidates that belong to `batchID` (claimed now or before).
    public func claim(store: String, batchID: String, documents: [String], now: Date = Date()) async throws -> Set<String> {
        let stamp = Self.stamp(now)
        return try await database.write { db in
            // Two statements compiled once for the batch's documents (10,000 and more for a store day), not twice a document.
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO document_claim (store, document_id, batch_id, claimed_at) VALUES (?, ?, ?, ?)")
            let owner = try db.cachedStatement(sql: "SELECT batch_id FROM document_claim WHERE store = ? AND document_id = ?")
            var mine: Set<String> = []
            for document in documents {
                try insert.execute(arguments: [store, document, batchID, stamp])
                if try String.fetchOne(owner, arguments: [store, document]) == batchID { mine.insert(document) }
            }
            return mine
        }
    }

    /// Documents of a store claimed by a batch.
    public func claims(store: String, batchID: String) async throws -> Set<String> {
        try await database.read { db in
            Set(try String.fetchAll(db, sql: "SELECT document_id FROM document_claim WHERE store = ? AND batch_id = ?", arguments: [store, batchID]))
        }
    }

    /// The event built for a batch, kept so that publishing it again (after a crash, or a replay) gives the same journals.
    public func batchEvent(_ batchID: String) async throws -> Data? {
        try await database.read { db in try Data.fetchOne(db, sql: "SELECT body FROM batch_event WHERE batch_id = ?", arguments: [batchID]) }
    }

    /// Keeps a batch's event (the first kept stays). Its bytes are written into the row where they are (SQLite's incremental
    /// blob I/O), not bound as a value, which SQLite copies first: 98 MB more at once for a 100,000-ticket day.
    public func keepBatchEvent<Body: ContiguousBytes & Sendable>(_ batchID: String, body: Body, now: Date = Date()) async throws {
        try await database.write { db in
            let count = body.withUnsafeBytes(\.count)
            guard count <= Int(Int32.max) else { throw DatabaseError(resultCode: .SQLITE_TOOBIG, message: "a batch event of \(count) bytes") }
            try db.execute(sql: "INSERT OR IGNORE INTO batch_event (batch_id, built_at, body) VALUES (?, ?, zeroblob(?))",
                           arguments: [batchID, Self.stamp(now), count])
            guard db.changesCount == 1, count > 0 else { return }
            var blob: OpaquePointer?
            let opened = sqlite3_blob_open(db.sqliteConnection, "main", "batch_event", "body", db.lastInsertedRowID, 1, &blob)
            defer { sqlite3_blob_close(blob) }
            let status = opened != SQLITE_OK ? opened : body.withUnsafeBytes { sqlite3_blob_write(blob, $0.baseAddress, Int32(count), 0) }
            guard status == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: status), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }

    /// The pay run's event as last published, kept for the mapping page (the payroll codes in use).
    public func keepPayrollEvent(_ runID: String, body: Data, now: Date = Date()) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO payroll_event (run_id, body, built_at) VALUES (?, ?, ?)",
                           arguments: [runID, body, Self.stamp(now)])
        }
    }

    private static func entry(_ row: Row) -> Entry {
        Entry(key: row["idempotency_key"], kind: row["kind"], sourceID: row["source_id"], firstSeenBy: row["first_seen_by"],
              sightings: row["sightings"], status: Status(rawValue: row["status"]) ?? .pending, attempts: row["attempts"],
              lastError: row["last_error"], messageID: row["message_id"], receivedAt: row["received_at"])
    }

    static func stamp(_ date: Date) -> String { Timestamps.iso8601Millis(date) }
}
