import BridgeClock
import Foundation
import GRDB

/// The Idempotent Consumer's repository: which idempotency keys a stage has already applied, in a
/// SQLite file (WAL). `record` is atomic: of two deliveries of the same key, exactly one gets true.
public final class IdempotencyStore: Sendable {
    private let database: DatabasePool

    public convenience init(path: String) throws {
        try self.init(database: SQLiteFile.pool(path: path))
    }

    /// On a pool the process already has open on this file (the loaders keep customer links in their ledger).
    public init(database: DatabasePool) throws {
        self.database = database
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // `IF NOT EXISTS`: a file the store wrote before it had a migrator is taken as it is.
        migrator.registerMigration("idempotency-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS processed (
                    idempotency_key TEXT PRIMARY KEY,
                    message_id TEXT NOT NULL,
                    result TEXT,
                    processed_at TEXT NOT NULL
                )
                """)
            // Apart from `processed`: a key can be applied (a journal posted) while what must be said about it
            // (its `posted` audit and reconciliation) has not been confirmed by the broker yet.
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS notices_confirmed (
                    idempotency_key TEXT PRIMARY KEY,
                    confirmed_at TEXT NOT NULL
                )
                """)
        }
        return migrator
    }()

    /// Records the key; false when it was already there (a duplicate).
    public func record(key: String, messageID: String, result: String? = nil) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO processed (idempotency_key, message_id, result, processed_at) VALUES (?, ?, ?, ?)",
                           arguments: [key, messageID, result, Timestamps.iso8601(Date())])
            return db.changesCount == 1
        }
    }

    public func result(for key: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT result FROM processed WHERE idempotency_key = ?", arguments: [key])
        }
    }

    /// Records that the notices about an applied key were published and confirmed.
    public func confirmNotices(key: String) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO notices_confirmed (idempotency_key, confirmed_at) VALUES (?, ?)",
                           arguments: [key, Timestamps.iso8601(Date())])
        }
    }

    public func noticesConfirmed(key: String) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM notices_confirmed WHERE idempotency_key = ?", arguments: [key]) ?? false
        }
    }

    public func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM processed") ?? 0 }
    }

    public func keys() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT idempotency_key FROM processed ORDER BY idempotency_key") }
    }
}
