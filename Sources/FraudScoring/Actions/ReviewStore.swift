import Foundation
import GRDB
import Messaging

/// Documents held for review (the `review` action), in the scorer's SQLite file. A held document is
/// released at most once: `approve` hands it back exactly one time, whoever asks and however often.
/// The same file keeps the fraud exceptions of posted batches (`FraudException.swift`).
public final class ReviewStore: Sendable {
    public enum Status: String, Codable, Sendable { case held, approved, rejected }

    public struct HeldDocument: Codable, Sendable, Hashable {
        public var id: Int64
        public var idempotencyKey: String
        public var document: Data
        public var reasons: [String]
        public var status: Status
        public var heldAt: Date
        public var decidedBy: String?
        public var decidedWhy: String?
        public var decidedAt: Date?
    }

    public enum ReviewError: Error, CustomStringConvertible, Equatable {
        case notFound(id: Int64)
        case alreadyDecided(id: Int64, status: Status, by: String?)
        case missingDecider

        public var description: String {
            switch self {
            case .notFound(let id): return "no held document \(id); `fraud-scorer` review list shows what is held"
            case .alreadyDecided(let id, let status, let by):
                return "held document \(id) was already \(status.rawValue) by \(by ?? "someone"); nothing was released again"
            case .missingDecider: return "a decision needs who made it and why"
            }
        }
    }

    let database: any DatabaseWriter

    /// `path` nil: in memory (tests).
    public init(path: String?) throws {
        database = try path.map { try SQLiteFile.pool(path: $0) } ?? DatabaseQueue()
        try database.migrate(Self.migrator)
    }

    private init(database: DatabasePool) {
        self.database = database
    }

    /// Opens the file from a process that is already serving (the operations console opens the
    /// fraud-scorer's file on first use), migrating it through the async API.
    public static func open(path: String) async throws -> ReviewStore {
        let store = ReviewStore(database: try SQLiteFile.pool(path: path))
        try await store.database.migrate(migrator)
        return store
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // The tables as the store made them before it had a migrator (`IF NOT EXISTS`: a file written then is taken as it is).
        migrator.registerMigration("review-v1") { db in
            try createHeldTable(db)
            try createExceptionTable(db)
        }
        // For the console's exception page (issue 20): the deciding rule's feature values, JSON. Files of the store before
        // its migrator may have it already (it added it by hand).
        migrator.registerMigration("review-v2-exception-features") { db in
            try db.addColumnIfMissing("features", to: "fraud_exception", definition: "TEXT")
        }
        return migrator
    }()

    static func createHeldTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS held_document (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                idempotency_key TEXT NOT NULL UNIQUE,
                document BLOB NOT NULL,
                reasons TEXT NOT NULL,
                status TEXT NOT NULL,
                held_at REAL NOT NULL,
                decided_by TEXT,
                decided_why TEXT,
                decided_at REAL
            )
            """)
    }

    /// Holds a document; holding the same idempotency key again (a redelivery) returns the first hold.
    @discardableResult
    public func hold(document: Data, idempotencyKey: String, reasons: [String], at: Date = Date()) async throws -> HeldDocument {
        let reasonsJSON = String(decoding: try JSONEncoder().encode(reasons), as: UTF8.self)
        return try await database.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO held_document (idempotency_key, document, reasons, status, held_at) VALUES (?, ?, ?, 'held', ?)
                """, arguments: [idempotencyKey, document, reasonsJSON, at.timeIntervalSince1970])
            let row = try Row.fetchOne(db, sql: "SELECT * FROM held_document WHERE idempotency_key = ?", arguments: [idempotencyKey])!
            return try Self.document(row)
        }
    }

    public func list(status: Status? = nil) async throws -> [HeldDocument] {
        try await database.read { db in
            let rows = if let status {
                try Row.fetchAll(db, sql: "SELECT * FROM held_document WHERE status = ? ORDER BY id", arguments: [status.rawValue])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM held_document ORDER BY id")
            }
            return try rows.map(Self.document)
        }
    }

    public func show(id: Int64) async throws -> HeldDocument {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM held_document WHERE id = ?", arguments: [id]) else {
                throw ReviewError.notFound(id: id)
            }
            return try Self.document(row)
        }
    }

    /// Approves a held document and returns it for release. Only the first approval of a document gets
    /// it back; any later approve or reject fails with `alreadyDecided`.
    public func approve(id: Int64, by: String, why: String, at: Date = Date()) async throws -> HeldDocument {
        try await decide(id: id, status: .approved, by: by, why: why, at: at)
    }

    public func reject(id: Int64, by: String, why: String, at: Date = Date()) async throws -> HeldDocument {
        try await decide(id: id, status: .rejected, by: by, why: why, at: at)
    }

    private func decide(id: Int64, status: Status, by: String, why: String, at: Date) async throws -> HeldDocument {
        guard !by.trimmingCharacters(in: .whitespaces).isEmpty, !why.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ReviewError.missingDecider
        }
        return try await database.write { db in
            // The status test in the UPDATE is what makes the release exactly-once: writes are serialised,
            // and only one of two concurrent approvals can still find the document `held`.
            try db.execute(sql: """
                UPDATE held_document SET status = ?, decided_by = ?, decided_why = ?, decided_at = ?
                WHERE id = ? AND status = 'held'
                """, arguments: [status.rawValue, by, why, at.timeIntervalSince1970, id])
            let changed = db.changesCount == 1
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM held_document WHERE id = ?", arguments: [id]) else {
                throw ReviewError.notFound(id: id)
            }
            let document = try Self.document(row)
            guard changed else { throw ReviewError.alreadyDecided(id: id, status: document.status, by: document.decidedBy) }
            return document
        }
    }

    private static func document(_ row: Row) throws -> HeldDocument {
        let reasonsText: String = row["reasons"]
        let heldAt: Double = row["held_at"]
        let decidedAt: Double? = row["decided_at"]
        return HeldDocument(
            id: row["id"], idempotencyKey: row["idempotency_key"], document: row["document"],
            reasons: try JSONDecoder().decode([String].self, from: Data(reasonsText.utf8)),
            status: Status(rawValue: row["status"]) ?? .held, heldAt: Date(timeIntervalSince1970: heldAt),
            decidedBy: row["decided_by"], decidedWhy: row["decided_why"],
            decidedAt: decidedAt.map(Date.init(timeIntervalSince1970:)))
    }
}
