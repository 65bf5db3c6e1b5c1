import BridgeClock
import Foundation
import GRDB
import Messaging

/// Which Heartland customer is which Sage customer, when their numbers differ (a record matched by
/// `CustomerMatcher` rather than created by the bridge). A loader's cache, in its ledger's SQLite
/// file: a lost row is found again by the matcher; records the bridge creates share one number
/// (Heartland `public_id` = Sage `CustomerNumber`) and need no row.
public final class CustomerLinks: Sendable {
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
        migrator.registerMigration("customer-link-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS customer_link (
                    heartland_number TEXT PRIMARY KEY, sage_number TEXT NOT NULL, because TEXT NOT NULL, linked_at TEXT NOT NULL
                )
                """)
        }
        return migrator
    }()

    public func link(heartland: String, sage: String, because: String) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO customer_link (heartland_number, sage_number, because, linked_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(heartland_number) DO UPDATE SET sage_number = excluded.sage_number, because = excluded.because
                """, arguments: [heartland, sage, because, Timestamps.iso8601(Date())])
        }
    }

    public func sage(forHeartland number: String) async throws -> String? {
        try await database.read { try String.fetchOne($0, sql: "SELECT sage_number FROM customer_link WHERE heartland_number = ?", arguments: [number]) }
    }

    public func heartland(forSage number: String) async throws -> String? {
        try await database.read { try String.fetchOne($0, sql: "SELECT heartland_number FROM customer_link WHERE sage_number = ?", arguments: [number]) }
    }
}
