import BridgeClock
import Foundation
import GRDB
import Messaging
import PipelineContracts

/// Uncertain customer matches waiting for a person, in the operations store's file: one item per set
/// of records (`CustomerReviewNotice.reviewId`), whichever loader found it and however often, with
/// every command held for it. The console shows them side by side and records the decision once.
public final class CustomerReviewStore: Sendable {
    private let database: DatabasePool

    public convenience init(path: String) throws {
        try self.init(database: SQLiteFile.pool(path: path))
    }

    /// In the operations store's file, on its pool: one pool per file and process.
    public convenience init(sharingFileOf operations: OperationsStore) throws {
        try self.init(database: operations.database)
    }

    init(database: DatabasePool) throws {
        self.database = database
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("customer-review-v1") { db in
            try db.execute(sql: """
                CREATE TABLE customer_review (
                    review_id TEXT PRIMARY KEY, status TEXT NOT NULL, records TEXT NOT NULL, reasons TEXT NOT NULL, held TEXT NOT NULL,
                    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, decided_by TEXT, decided_at TEXT, verdict TEXT, why TEXT);
                """)
        }
        return migrator
    }()

    /// One review item.
    public struct Item: Sendable, Codable, Equatable {
        public var reviewId: String
        /// `open` or `decided`.
        public var status: String
        /// The customer and its candidates, each once (by side and number).
        public var records: [ReviewedCustomer]
        /// Why each loader could not decide.
        public var reasons: [String]
        /// The commands released with the decision.
        public var held: [HeldCommand]
        public var firstSeen, lastSeen: String
        public var verdict: MatchVerdict?
        public var decidedBy, decidedAt, why: String?
    }

    public enum ReviewError: Error, CustomStringConvertible, Equatable {
        case notFound(String)
        case alreadyDecided(String, by: String)

        public var description: String {
            switch self {
            case .notFound(let id): return "no customer review \(id)"
            case .alreadyDecided(let id, let by): return "customer review \(id) was already decided by \(by)"
            }
        }
    }

    /// Adds a held command to its review item. Returns true when the item is new (tell a person).
    @discardableResult
    public func record(_ notice: CustomerReviewNotice) async throws -> Bool {
        try await database.write { db in
            let now = notice.at
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM customer_review WHERE review_id = ?", arguments: [notice.reviewId]) else {
                try db.execute(sql: """
                    INSERT INTO customer_review (review_id, status, records, reasons, held, first_seen, last_seen) VALUES (?, 'open', ?, ?, ?, ?, ?)
                    """, arguments: [notice.reviewId, try Self.json([notice.customer] + notice.candidates), try Self.json([notice.reason]),
                                     try Self.json([notice.held]), now, now])
                return true
            }
            var item = try Self.item(row)
            for record in [notice.customer] + notice.candidates {
                if let index = item.records.firstIndex(where: { $0.reference == record.reference }) {
                    if item.records[index].evidence == nil { item.records[index].evidence = record.evidence }
                } else {
                    item.records.append(record)
                }
            }
            if !item.reasons.contains(notice.reason) { item.reasons.append(notice.reason) }
            if !item.held.contains(where: { $0.idempotencyKey == notice.held.idempotencyKey }) { item.held.append(notice.held) }
            try db.execute(sql: "UPDATE customer_review SET records = ?, reasons = ?, held = ?, last_seen = ? WHERE review_id = ?",
                           arguments: [try Self.json(item.records), try Self.json(item.reasons), try Self.json(item.held), now, notice.reviewId])
            return false
        }
    }

    /// Review items, open ones first, then the latest decided.
    public func items(status: String? = nil) async throws -> [Item] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM customer_review WHERE ?1 IS NULL OR status = ?1 ORDER BY status = 'decided', first_seen DESC
                """, arguments: [status]).map(Self.item)
        }
    }

    public func item(_ reviewId: String) async throws -> Item {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM customer_review WHERE review_id = ?", arguments: [reviewId]) else {
                throw ReviewError.notFound(reviewId)
            }
            return try Self.item(row)
        }
    }

    /// Records the decision; only the first one counts. Returns the item as decided.
    public func decide(_ reviewId: String, verdict: MatchVerdict, by actor: String, why: String?, at: Date = Date()) async throws -> Item {
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM customer_review WHERE review_id = ?", arguments: [reviewId]) else {
                throw ReviewError.notFound(reviewId)
            }
            let item = try Self.item(row)
            if item.status == "decided" { throw ReviewError.alreadyDecided(reviewId, by: item.decidedBy ?? "?") }
            try db.execute(sql: """
                UPDATE customer_review SET status = 'decided', verdict = ?, decided_by = ?, decided_at = ?, why = ? WHERE review_id = ?
                """, arguments: [verdict.rawValue, actor, Timestamps.iso8601(at), why, reviewId])
            return try Self.item(try Row.fetchOne(db, sql: "SELECT * FROM customer_review WHERE review_id = ?", arguments: [reviewId])!)
        }
    }

    /// Opens a decided item again (its release could not be sent).
    public func reopen(_ reviewId: String) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE customer_review SET status = 'open', verdict = NULL, decided_by = NULL, decided_at = NULL WHERE review_id = ?",
                           arguments: [reviewId])
        }
    }

    private static func item(_ row: Row) throws -> Item {
        func decode<T: Decodable>(_ type: T.Type, _ column: String) throws -> T {
            try JSONDecoder().decode(type, from: Data((row[column] as String).utf8))
        }
        return Item(reviewId: row["review_id"], status: row["status"], records: try decode([ReviewedCustomer].self, "records"),
                    reasons: try decode([String].self, "reasons"), held: try decode([HeldCommand].self, "held"), firstSeen: row["first_seen"],
                    lastSeen: row["last_seen"], verdict: (row["verdict"] as String?).flatMap(MatchVerdict.init(rawValue:)),
                    decidedBy: row["decided_by"], decidedAt: row["decided_at"], why: row["why"])
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
