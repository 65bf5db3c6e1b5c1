import BridgeClock
import Foundation
import GRDB
import SimulatorKit
import Synchronization

/// Sage state: every entity is kept as the JSON the API returns, keyed by resource and entity key.
/// GL entry references get their own table, indexed, for look-ups by reference (and for the strict
/// duplicate check, which real Sage 300 does not make).
public enum SageDatabase {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerSimulatorKitMigrations()
        migrator.registerMigration("sage-v1") { db in
            try db.create(table: "sage_record") { t in
                t.column("resource", .text).notNull()
                t.column("key", .text).notNull()
                t.column("json", .blob).notNull()
                t.column("date_last_edited", .text).notNull()
                t.primaryKey(["resource", "key"])
            }
            try db.create(table: "gl_entry_reference") { t in
                t.column("source_ledger", .text).notNull()
                t.column("source_type", .text).notNull()
                t.column("reference", .text).notNull()
                t.column("batch_number", .text).notNull()
                t.column("entry_number", .integer).notNull()
                t.primaryKey(["source_ledger", "source_type", "reference"])
            }
            try db.create(table: "counter") { t in
                t.primaryKey("name", .text)
                t.column("value", .integer).notNull()
            }
        }
        migrator.registerMigration("sage-v2-reference-index") { db in
            // The loaders look journals up by external reference alone.
            try db.create(index: "gl_entry_reference_by_reference", on: "gl_entry_reference", columns: ["reference"])
        }
        migrator.registerMigration("sage-v3-references-without-key") { db in
            // Sage 300 keeps no unique key on an entry's reference: one row per entry, any number per reference.
            try db.create(table: "gl_entry_reference_v3") { t in
                t.column("source_ledger", .text).notNull()
                t.column("source_type", .text).notNull()
                t.column("reference", .text).notNull()
                t.column("batch_number", .text).notNull()
                t.column("entry_number", .integer).notNull()
                t.primaryKey(["batch_number", "entry_number"])
            }
            try db.execute(sql: "INSERT INTO gl_entry_reference_v3 SELECT source_ledger, source_type, reference, batch_number, entry_number FROM gl_entry_reference")
            try db.drop(table: "gl_entry_reference")
            try db.rename(table: "gl_entry_reference_v3", to: "gl_entry_reference")
            try db.create(index: "gl_entry_reference_by_reference", on: "gl_entry_reference", columns: ["reference"])
            try db.create(index: "gl_entry_reference_by_source", on: "gl_entry_reference", columns: ["source_ledger", "source_type", "reference"])
        }
        migrator.registerMigration("sage-v3-last-edited-index") { db in
            // Change polling (`DateLastMaintained ge …`) reads only what changed, as Sage's database does.
            try db.create(index: "sage_record_by_last_edited", on: "sage_record", columns: ["resource", "date_last_edited"])
        }
        return migrator
    }

    /// Migrated and seeded: the default chart (once) and the inventory locations.
    public static func open(path: String?) throws -> DatabasePool {
        try SimDatabase.open(path: path, migrator: migrator) { db in
            try seedChart(db)
            try ICResources.seedLocations(db)
        }
    }

    /// Inserts the default chart once; accounts created later through the API are left alone. A company seeded before AR's
    /// control account joined the default chart gets it once (`chart-seeded-ar`), if it has none by that number.
    static func seedChart(_ db: Database) throws {
        let now = Timestamps.iso8601(Date())
        if try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'chart-seeded'") != nil {
            guard try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'chart-seeded-ar'") == nil else { return }
            for account in ChartOfAccounts.defaultAccounts where account.number == "1200" {
                guard try !SageRecords.exists(db, resource: GLAccounts.resource, key: account.number) else { continue }
                let json = GLAccounts.render(number: account.number, description: account.description, type: account.type,
                                             normalBalance: account.normalBalance, now: now)
                try SageRecords.insert(db, resource: GLAccounts.resource, key: account.number, json: json, now: now)
            }
            try db.execute(sql: "INSERT INTO counter (name, value) VALUES ('chart-seeded-ar', 1)")
            return
        }
        try db.execute(sql: "INSERT INTO counter (name, value) VALUES ('chart-seeded-ar', 1)")
        for account in ChartOfAccounts.defaultAccounts {
            let json = GLAccounts.render(
                number: account.number, description: account.description, type: account.type,
                normalBalance: account.normalBalance, now: now)
            try SageRecords.insert(db, resource: GLAccounts.resource, key: account.number, json: json, now: now)
        }
        try db.execute(sql: "INSERT INTO counter (name, value) VALUES ('chart-seeded', 1)")
    }
}

/// Row access to `sage_record`.
public enum SageRecords {
    public static func fetch(_ db: Database, resource: String, key: String) throws -> JSONValue? {
        guard let data = try Data.fetchOne(
            db, sql: "SELECT json FROM sage_record WHERE resource = ? AND key = ?", arguments: [resource, key])
        else { return nil }
        return try parsed(data)
    }

    public static func all(_ db: Database, resource: String) throws -> [JSONValue] {
        try Data.fetchAll(db, sql: "SELECT json FROM sage_record WHERE resource = ? ORDER BY key", arguments: [resource])
            .map(parsed)
    }

    /// Records read again are parsed once: a query the stored JSON cannot answer from an index reads every record it may
    /// concern, and parsing them (not SQLite) was the simulator's cost, a quarter of a second for each 100-entry page of a
    /// day's 1,200 refunds (Sage answers from its tables). Keyed by the stored bytes, so an edited record is parsed anew
    /// and nothing is ever stale; at most `parsedLimit` bytes of records are kept, then the cache starts again.
    static func parsed(_ data: Data) throws -> JSONValue {
        let key = StoredBytes(data: data)
        if let known = parsedRecords.withLock({ $0.values[key] }) { return known }
        let value = try JSONValue.parse(data)
        parsedRecords.withLock { cache in
            if cache.bytes + data.count > parsedLimit { cache = ParsedRecords() }
            cache.values[key] = value
            cache.bytes += data.count
        }
        return value
    }

    /// A record's bytes, hashed whole (`Data` hashes its first 80 bytes only, which records of one kind often share).
    struct StoredBytes: Hashable {
        var data: Data
        func hash(into hasher: inout Hasher) {
            data.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    struct ParsedRecords {
        var values: [StoredBytes: JSONValue] = [:]
        var bytes = 0
    }

    static let parsedRecords = Mutex(ParsedRecords())
    static let parsedLimit = 32 << 20

    public static func count(_ db: Database, resource: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sage_record WHERE resource = ?", arguments: [resource]) ?? 0
    }

    /// One page of a collection in key order.
    public static func page(_ db: Database, resource: String, offset: Int, limit: Int) throws -> [JSONValue] {
        try Data.fetchAll(db, sql: "SELECT json FROM sage_record WHERE resource = ? ORDER BY key LIMIT ? OFFSET ?",
                          arguments: [resource, limit, offset]).map(parsed)
    }

    /// The records of a collection last edited at or after a stamp (`Timestamps.iso8601Millis`), in key order.
    public static func edited(_ db: Database, resource: String, since stamp: String) throws -> [JSONValue] {
        try Data.fetchAll(db, sql: "SELECT json FROM sage_record WHERE resource = ? AND date_last_edited >= ? ORDER BY key",
                          arguments: [resource, stamp]).map(parsed)
    }

    public static func exists(_ db: Database, resource: String, key: String) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT 1 FROM sage_record WHERE resource = ? AND key = ?", arguments: [resource, key]) ?? false
    }

    public static func insert(_ db: Database, resource: String, key: String, json: JSONValue, now: String) throws {
        try db.execute(
            sql: "INSERT INTO sage_record (resource, key, json, date_last_edited) VALUES (?, ?, ?, ?)",
            arguments: [resource, key, json.serialized(), now])
    }

    public static func update(_ db: Database, resource: String, key: String, json: JSONValue, now: String) throws {
        try db.execute(
            sql: "UPDATE sage_record SET json = ?, date_last_edited = ? WHERE resource = ? AND key = ?",
            arguments: [json.serialized(), now, resource, key])
    }

    /// Next value of a named sequence, starting at 1.
    public static func nextNumber(_ db: Database, _ name: String) throws -> Int {
        let current = try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = ?", arguments: [name]) ?? 0
        try db.execute(
            sql: "INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            arguments: [name, current + 1])
        return current + 1
    }
}
