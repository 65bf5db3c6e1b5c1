import Foundation
import GRDB
import Messaging

/// Every hop of every message (`HopNotice`s from `bridge.audit`), kept by correlation id for
/// `bridgectl trace`: which stage handled it, at which attempt, with what outcome. Bounded: hops older
/// than `retention` are pruned as new ones arrive.
public final class TraceStore: Sendable {
    private let database: DatabasePool
    public let retention: TimeInterval

    public init(path: String, retention: TimeInterval = 14 * 86_400) throws {
        database = try SQLiteFile.pool(path: path)
        self.retention = retention
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // `IF NOT EXISTS`: a file the store wrote before it had a migrator is taken as it is.
        migrator.registerMigration("trace-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS hop (
                    message_id TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    correlation_id TEXT NOT NULL,
                    idempotency_key TEXT,
                    routing_key TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    duration_ms INTEGER NOT NULL,
                    at TEXT NOT NULL,
                    recorded_at REAL NOT NULL,
                    -- A redelivered notice is the same row; a redelivered message handled again (a duplicate) is another.
                    PRIMARY KEY (message_id, stage, attempt, outcome)
                );
                CREATE INDEX IF NOT EXISTS hop_correlation ON hop (correlation_id, at);
                CREATE INDEX IF NOT EXISTS hop_recorded ON hop (recorded_at);
                """)
        }
        return migrator
    }()

    /// Records a hop (a redelivered hop notice is the same row; the same message handled again with
    /// another outcome, e.g. as a duplicate, is a new one).
    public func record(_ hop: HopNotice, now: Date = Date()) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO hop (message_id, stage, attempt, correlation_id, idempotency_key, routing_key, outcome, duration_ms, at, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [hop.messageId, hop.stage, hop.attempt, hop.correlationId, hop.idempotencyKey, hop.routingKey, hop.outcome,
                                 hop.durationMs, hop.at, now.timeIntervalSince1970])
            if db.changesCount == 1, Int.random(in: 0..<1000) == 0 {
                try db.execute(sql: "DELETE FROM hop WHERE recorded_at < ?", arguments: [now.timeIntervalSince1970 - retention])
            }
        }
    }

    /// The hops of one source event, in order; `correlation` may also be an idempotency key.
    public func hops(of correlation: String) async throws -> [HopNotice] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM hop WHERE correlation_id = ? OR idempotency_key = ? ORDER BY at, stage
                """, arguments: [correlation, correlation]).map { row in
                var hop = HopNotice(stage: row["stage"], correlationId: row["correlation_id"], messageId: row["message_id"],
                                    idempotencyKey: row["idempotency_key"], routingKey: row["routing_key"], attempt: row["attempt"],
                                    outcome: row["outcome"], durationMs: row["duration_ms"])
                hop.at = row["at"]
                return hop
            }
        }
    }
}
