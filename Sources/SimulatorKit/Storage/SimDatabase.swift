import Foundation
import GRDB

/// Opens the simulator's SQLite file (WAL, via `DatabasePool`), runs its migrations and seeds it.
public enum SimDatabase {
    /// `path` nil: a fresh file in the temporary directory (state then lasts only for the process).
    /// `seed` writes start-up data (a default chart, a fixture) in one transaction, before anything is
    /// served; every request afterwards reads and writes through GRDB's async API.
    public static func open(path: String?, migrator: DatabaseMigrator, seed: (Database) throws -> Void = { _ in }) throws -> DatabasePool {
        let file = path ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("sim-\(UUID().uuidString).sqlite").path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: file, configuration: configuration)
        try migrator.migrate(pool)
        try pool.write(seed)  // blocking-ok: start-up seeding, before the simulator serves
        return pool
    }
}

extension DatabaseMigrator {
    /// Tables every simulator shares (webhook outbox).
    public mutating func registerSimulatorKitMigrations() {
        registerMigration("simulatorkit-webhooks-v1") { db in
            try db.create(table: "webhook_endpoint") { t in
                t.primaryKey("url", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "webhook_delivery") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("event_id", .text).notNull()
                t.column("event", .text).notNull()
                t.column("url", .text).notNull()
                t.column("body", .blob).notNull()
                t.column("status", .text).notNull()  // pending | delivered | failed
                t.column("attempts", .integer).notNull()
                t.column("next_attempt_at", .datetime).notNull()
                t.column("last_status", .integer)
                t.column("last_error", .text)
                t.column("duplicates_sent", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "webhook_delivery_due", on: "webhook_delivery", columns: ["status", "next_attempt_at"])
        }
    }
}
