import Foundation
import GRDB

/// A card sale of a posted settlement batch that the rules sent to `review`. The money already moved
/// and the journal posted, so nothing is held: the sale is an exception for an analyst, listed by
/// `bridgectl review list` until someone acknowledges it (with who and why on `bridge.audit`).
public struct FraudException: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable { case open, acknowledged }

    public var id: Int64
    /// The batch journal's idempotency key and the transaction id: one exception per sale, however often the batch is redelivered.
    public var key: String
    /// The batch journal's reference (`HL-S01-20261127-BAT_…`).
    public var reference: String
    public var transactionId: String
    public var store: String
    public var amountCents: Int64
    /// The sale in words: amount, card, ticket, local time, terminal, clerk.
    public var summary: String
    public var riskScore: Int
    /// The rule that decided (`line 3`) or the list.
    public var decidedBy: String?
    /// The rule's text and the model's top reasons.
    public var reasons: [String]
    /// The values of the features the deciding rule names, as the scorer saw them (`FraudDecision.ruleFeatures`); empty
    /// for an exception raised before they were kept, or decided by a list or the risk score alone.
    public var features: [String: Double] = [:]
    public var status: Status
    public var raisedAt: Date
    public var acknowledgedBy: String?
    public var acknowledgedWhy: String?
    public var acknowledgedAt: Date?

    /// What the stage knows when it raises one.
    public struct Raised: Sendable, Hashable {
        public var key, reference, transactionId, store: String
        public var amountCents: Int64
        public var summary: String
        public var riskScore: Int
        public var decidedBy: String?
        public var reasons: [String]
        public var features: [String: Double]

        public init(key: String, reference: String, transactionId: String, store: String, amountCents: Int64, summary: String,
                    riskScore: Int, decidedBy: String?, reasons: [String], features: [String: Double] = [:]) {
            self.key = key
            self.reference = reference
            self.transactionId = transactionId
            self.store = store
            self.amountCents = amountCents
            self.summary = summary
            self.riskScore = riskScore
            self.decidedBy = decidedBy
            self.reasons = reasons
            self.features = features
        }
    }

    /// How `bridgectl review` names it, apart from held documents' plain numbers.
    public var label: String { "E\(id)" }

    /// The card as the summary names it (`SettlementSales.summary`: `sale TRN_1 $5.00 on VISA:??????******1111 (…)`):
    /// the card token, or the brand alone when the ticket gave none. Read from the summary because the
    /// table keeps no column of its own for it; nil when the summary is not in that form.
    public var cardToken: String? {
        guard summary.hasPrefix("sale "), let on = summary.range(of: " on ") else { return nil }
        let card = summary[on.upperBound...].prefix { $0 != " " }
        return card.isEmpty ? nil : String(card)
    }

    /// `E12` or `12`.
    public static func id(_ text: String) -> Int64? {
        Int64(text.hasPrefix("E") || text.hasPrefix("e") ? String(text.dropFirst()) : text)
    }
}

public enum FraudExceptionError: Error, CustomStringConvertible, Equatable {
    case notFound(id: Int64)
    case alreadyAcknowledged(id: Int64, by: String?)
    case missingDecider

    public var description: String {
        switch self {
        case .notFound(let id): return "no fraud exception E\(id); `bridgectl review list --exceptions --status all` shows them all"
        case .alreadyAcknowledged(let id, let by): return "fraud exception E\(id) was already acknowledged by \(by ?? "someone")"
        case .missingDecider: return "acknowledging needs who and why"
        }
    }
}

extension ReviewStore {
    static func createExceptionTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS fraud_exception (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL UNIQUE,
                reference TEXT NOT NULL,
                transaction_id TEXT NOT NULL,
                store TEXT NOT NULL,
                amount_cents INTEGER NOT NULL,
                summary TEXT NOT NULL,
                risk_score INTEGER NOT NULL,
                decided_by TEXT,
                reasons TEXT NOT NULL,
                status TEXT NOT NULL,
                raised_at REAL NOT NULL,
                acknowledged_by TEXT,
                acknowledged_why TEXT,
                acknowledged_at REAL
            );
            CREATE INDEX IF NOT EXISTS fraud_exception_status ON fraud_exception(status, id);
            """)
    }

    /// Records exceptions in one transaction, in order; a key recorded before (a redelivered batch)
    /// returns the first record.
    @discardableResult
    public func recordExceptions(_ raised: [FraudException.Raised], at: Date = Date()) async throws -> [FraudException] {
        let reasons = try raised.map { String(decoding: try JSONEncoder().encode($0.reasons), as: UTF8.self) }
        let features = try raised.map { String(decoding: try JSONEncoder().encode($0.features), as: UTF8.self) }
        return try await database.write { db in
            try zip(raised, zip(reasons, features)).map { raised, json in
                try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO fraud_exception
                        (key, reference, transaction_id, store, amount_cents, summary, risk_score, decided_by, reasons, status, raised_at, features)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
                    """).execute(arguments: [raised.key, raised.reference, raised.transactionId, raised.store, raised.amountCents, raised.summary,
                                             raised.riskScore, raised.decidedBy, json.0, at.timeIntervalSince1970, json.1])
                let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM fraud_exception WHERE key = ?"), arguments: [raised.key])!
                return try Self.exception(row)
            }
        }
    }

    /// Exceptions with this status (all when nil), oldest first.
    public func exceptions(status: FraudException.Status? = nil) async throws -> [FraudException] {
        try await database.read { db in
            let rows = if let status {
                try Row.fetchAll(db, sql: "SELECT * FROM fraud_exception WHERE status = ? ORDER BY id", arguments: [status.rawValue])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM fraud_exception ORDER BY id")
            }
            return try rows.map(Self.exception)
        }
    }

    /// The exceptions one rule, list or flag decided (`FeedRun.decidedBy`), oldest first.
    public func exceptions(decidedBy: String) async throws -> [FraudException] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM fraud_exception WHERE decided_by = ? ORDER BY id", arguments: [decidedBy]).map(Self.exception)
        }
    }

    /// The exception recorded under an idempotency key, if any.
    public func exception(key: String) async throws -> FraudException? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM fraud_exception WHERE key = ?", arguments: [key]).map(Self.exception)
        }
    }

    /// The exceptions recorded under these idempotency keys, by key (one query).
    public func exceptions(keys: [String]) async throws -> [String: FraudException] {
        guard !keys.isEmpty else { return [:] }
        return try await database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM fraud_exception WHERE key IN (\(databaseQuestionMarks(count: keys.count)))",
                                        arguments: StatementArguments(keys))
            return Dictionary(try rows.map(Self.exception).map { ($0.key, $0) }) { first, _ in first }
        }
    }

    public func exception(id: Int64) async throws -> FraudException {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM fraud_exception WHERE id = ?", arguments: [id]) else {
                throw FraudExceptionError.notFound(id: id)
            }
            return try Self.exception(row)
        }
    }

    /// Marks an open exception as seen and dealt with; only the first acknowledgement counts.
    public func acknowledge(exception id: Int64, by: String, why: String, at: Date = Date()) async throws -> FraudException {
        guard !by.trimmingCharacters(in: .whitespaces).isEmpty, !why.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw FraudExceptionError.missingDecider
        }
        return try await database.write { db in
            try db.execute(sql: """
                UPDATE fraud_exception SET status = 'acknowledged', acknowledged_by = ?, acknowledged_why = ?, acknowledged_at = ?
                WHERE id = ? AND status = 'open'
                """, arguments: [by, why, at.timeIntervalSince1970, id])
            let changed = db.changesCount == 1
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM fraud_exception WHERE id = ?", arguments: [id]) else {
                throw FraudExceptionError.notFound(id: id)
            }
            let exception = try Self.exception(row)
            guard changed else { throw FraudExceptionError.alreadyAcknowledged(id: id, by: exception.acknowledgedBy) }
            return exception
        }
    }

    private static func exception(_ row: Row) throws -> FraudException {
        let reasonsText: String = row["reasons"]
        let raisedAt: Double = row["raised_at"]
        let acknowledgedAt: Double? = row["acknowledged_at"]
        let featuresText: String? = row["features"]
        return FraudException(
            id: row["id"], key: row["key"], reference: row["reference"], transactionId: row["transaction_id"], store: row["store"],
            amountCents: row["amount_cents"], summary: row["summary"], riskScore: row["risk_score"], decidedBy: row["decided_by"],
            reasons: try JSONDecoder().decode([String].self, from: Data(reasonsText.utf8)),
            features: try featuresText.map { try JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) } ?? [:],
            status: FraudException.Status(rawValue: row["status"]) ?? .open, raisedAt: Date(timeIntervalSince1970: raisedAt),
            acknowledgedBy: row["acknowledged_by"], acknowledgedWhy: row["acknowledged_why"],
            acknowledgedAt: acknowledgedAt.map(Date.init(timeIntervalSince1970:)))
    }
}
