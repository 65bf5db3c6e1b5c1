import BridgeClock
import Foundation
import GRDB
import Messaging
import SyncContracts

/// A loader's index of the other side's customers by normalised e-mail, phone and local number, so
/// that finding an incoming customer's twin reads a handful of rows instead of every customer the
/// other side has. Kept up to date by a sweep of what changed there since the last one (Sage's
/// `DateLastMaintained ge W`, Heartland's `updated_at $gte W`) before every search, and by the
/// records the loader writes itself. In the loader's ledger file; a lost index is rebuilt by one full
/// sweep. Also remembers the pairs a person decided are different people, which never match again.
public final class CustomerIndex: Sendable {
    /// The side whose customers are indexed.
    public let side: SyncSide
    private let database: DatabasePool
    /// One search at a time: a customer created by one search is in the index before the next one looks.
    let searches = SerialGates()

    public convenience init(path: String, side: SyncSide) throws {
        try self.init(database: SQLiteFile.pool(path: path), side: side)
    }

    /// On the ledger's pool: one pool per file and process.
    public init(database: DatabasePool, side: SyncSide) throws {
        self.side = side
        self.database = database
        var migrator = DatabaseMigrator()
        migrator.registerMigration("customer-index-v1") { db in
            try db.execute(sql: """
                CREATE TABLE customer_index (
                    side TEXT NOT NULL, id TEXT NOT NULL, number TEXT NOT NULL, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
                    email TEXT, phone TEXT, active INTEGER NOT NULL, version TEXT NOT NULL,
                    email_key TEXT, phone_key TEXT, local_number TEXT, PRIMARY KEY (side, id));
                CREATE INDEX customer_index_email ON customer_index (side, email_key);
                CREATE INDEX customer_index_phone ON customer_index (side, phone_key);
                CREATE INDEX customer_index_local ON customer_index (side, local_number);
                CREATE TABLE customer_index_watermark (side TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE customer_distinct (
                    heartland_number TEXT NOT NULL, sage_number TEXT NOT NULL, decided_by TEXT NOT NULL, decided_at TEXT NOT NULL,
                    PRIMARY KEY (heartland_number, sage_number));
                """)
        }
        try database.migrate(migrator)
    }

    /// Reads what changed on the indexed side since the last sweep (everything, the first time) and
    /// indexes it. Returns the number of records read.
    @discardableResult
    public func refresh(_ changed: @Sendable (_ since: String?) async throws -> [SyncCustomer]) async throws -> Int {
        let side = self.side.rawValue
        let since = try await database.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM customer_index_watermark WHERE side = ?", arguments: [side])
        }
        let records = try await changed(since)
        guard !records.isEmpty else { return 0 }
        let newest = records.map(\.version).max() ?? ""
        try await database.write { db in
            for record in records { try Self.upsert(record, db) }
            try db.execute(sql: """
                INSERT INTO customer_index_watermark (side, value) VALUES (?, ?)
                ON CONFLICT(side) DO UPDATE SET value = max(value, excluded.value)
                """, arguments: [side, newest])
        }
        return records.count
    }

    /// Indexes a record the loader has just written on the indexed side.
    public func remember(_ record: SyncCustomer) async throws {
        try await database.write { db in try Self.upsert(record, db) }
    }

    /// The indexed customers sharing an e-mail, a phone or a local number with `record`.
    public func candidates(for record: SyncCustomer) async throws -> [SyncCustomer] {
        let email = ContactKeys.email(record.email), phone = ContactKeys.phone(record.phone), local = ContactKeys.localNumber(record.phone)
        guard email != nil || phone != nil || local != nil else { return [] }
        let side = self.side.rawValue
        return try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM customer_index WHERE side = ?1 AND (email_key = ?2 OR phone_key = ?3 OR local_number = ?4)
                """, arguments: [side, email, phone, local]).map { row in
                SyncCustomer(side: SyncSide(rawValue: row["side"]) ?? .sage, id: row["id"], number: row["number"], firstName: row["first_name"],
                             lastName: row["last_name"], email: row["email"], phone: row["phone"], active: row["active"], version: row["version"])
            }
        }
    }

    public func count() async throws -> Int {
        let side = self.side.rawValue
        return try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM customer_index WHERE side = ?", arguments: [side]) ?? 0 }
    }

    // MARK: decisions

    /// A person decided that these two are different people.
    public func markDistinct(heartland: String, sage: String, by actor: String) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO customer_distinct (heartland_number, sage_number, decided_by, decided_at) VALUES (?, ?, ?, ?)",
                           arguments: [heartland, sage, actor, Timestamps.iso8601(Date())])
        }
    }

    /// The numbers on the other side that a person decided are not this customer.
    public func distinct(from record: SyncCustomer) async throws -> Set<String> {
        let column = record.side == .heartland ? "heartland_number" : "sage_number"
        let other = record.side == .heartland ? "sage_number" : "heartland_number"
        return try await database.read { db in
            Set(try String.fetchAll(db, sql: "SELECT \(other) FROM customer_distinct WHERE \(column) = ?", arguments: [record.number]))
        }
    }

    private static func upsert(_ record: SyncCustomer, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO customer_index (side, id, number, first_name, last_name, email, phone, active, version, email_key, phone_key, local_number)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(side, id) DO UPDATE SET number = excluded.number, first_name = excluded.first_name, last_name = excluded.last_name,
                email = excluded.email, phone = excluded.phone, active = excluded.active, version = excluded.version,
                email_key = excluded.email_key, phone_key = excluded.phone_key, local_number = excluded.local_number
            """, arguments: [record.side.rawValue, record.id, record.number, record.firstName, record.lastName, record.email, record.phone,
                             record.active, record.version, ContactKeys.email(record.email), ContactKeys.phone(record.phone),
                             ContactKeys.localNumber(record.phone)])
    }
}
