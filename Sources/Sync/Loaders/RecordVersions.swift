import BridgeClock
import Foundation
import GRDB
import Messaging

/// The newest version of each record a loader has applied, so that an older version arriving late (a
/// retry that waited in a tier, a redelivery, a replayed dead letter) is a no-op instead of overwriting a
/// newer one. Kept in the loader's ledger file. Versions of one record come from one source in one format
/// (Sage's `DateLastMaintained`, Heartland's `updated_at`), so they compare as text.
public final class RecordVersions: Sendable {
    private let database: DatabasePool

    public convenience init(path: String) throws {
        try self.init(database: SQLiteFile.pool(path: path))
    }

    /// On the ledger's pool: one pool per file and process.
    public init(database: DatabasePool) throws {
        self.database = database
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // `IF NOT EXISTS`: a file the store wrote before it had a migrator is taken as it is.
        migrator.registerMigration("record-version-v1") { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS record_version (record TEXT PRIMARY KEY, version TEXT NOT NULL, applied_at TEXT NOT NULL)")
        }
        return migrator
    }()

    /// The newest version applied for `record`, if any.
    public func newest(_ record: String) async throws -> String? {
        try await database.read { try String.fetchOne($0, sql: "SELECT version FROM record_version WHERE record = ?", arguments: [record]) }
    }

    /// Records `version` as applied unless a newer one already is.
    public func advance(_ record: String, to version: String) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO record_version (record, version, applied_at) VALUES (?, ?, ?)
                ON CONFLICT(record) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at
                WHERE excluded.version > record_version.version
                """, arguments: [record, version, Timestamps.iso8601(Date())])
        }
    }
}

/// One record's identity and the version a sync command carries.
struct RecordVersion: Sendable {
    let record: String
    let version: String
}
