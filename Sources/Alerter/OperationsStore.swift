import Accounting
import BridgeClock
import Foundation
import GRDB
import Messaging

/// The alerter's SQLite operations store: alert groups, the audit trail, reconciliation reports.
/// Every write is keyed by the message id, so a redelivered message changes nothing.
public final class OperationsStore: Sendable {
    /// Internal: the customer reviews share it (`CustomerReviewStore(sharingFileOf:)`).
    let database: DatabasePool

    public init(path: String) throws {
        database = try SQLiteFile.pool(path: path)
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // The tables as the store made them before it had a migrator (`IF NOT EXISTS`: a file written then is taken as it is).
        migrator.registerMigration("operations-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS seen_message (message_id TEXT PRIMARY KEY);
                CREATE TABLE IF NOT EXISTS alert_group (
                    fingerprint TEXT PRIMARY KEY, kind TEXT NOT NULL, stage TEXT NOT NULL, severity TEXT NOT NULL,
                    reason TEXT NOT NULL, count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
                    notified_count INTEGER NOT NULL DEFAULT 0, acknowledged_by TEXT);
                CREATE TABLE IF NOT EXISTS audit_event (
                    message_id TEXT PRIMARY KEY, event TEXT NOT NULL, stage TEXT NOT NULL, detail TEXT NOT NULL,
                    idempotency_key TEXT, correlation_id TEXT, at TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS reconciliation (
                    reference TEXT PRIMARY KEY, store_id TEXT NOT NULL, business_date TEXT NOT NULL, status TEXT NOT NULL,
                    report TEXT NOT NULL, recorded_at TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS refund_reconciliation (
                    reference TEXT PRIMARY KEY, part_of TEXT, report TEXT NOT NULL, recorded_at TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS audit_event_key ON audit_event (idempotency_key);
                CREATE TABLE IF NOT EXISTS quarantine (
                    store_id TEXT NOT NULL, document_id TEXT NOT NULL, status TEXT NOT NULL, document TEXT NOT NULL,
                    quarantined_at TEXT NOT NULL, times INTEGER NOT NULL DEFAULT 1, resolved_reference TEXT, resolved_at TEXT,
                    PRIMARY KEY (store_id, document_id));
                """)
        }
        // For the operations console (issue 7): who acknowledged an alert group and when, who did an action. Files of the
        // store before its migrator may have them already (it added them by hand).
        migrator.registerMigration("operations-v2-console-actors") { db in
            try db.addColumnIfMissing("acknowledged_at", to: "alert_group", definition: "TEXT")
            try db.addColumnIfMissing("actor", to: "audit_event", definition: "TEXT")
        }
        return migrator
    }()

    public struct AlertGroup: Sendable, Equatable {
        public var fingerprint, kind, stage, severity, reason: String
        public var count: Int
        public var firstSeen, lastSeen: String
        public var notifiedCount: Int
        /// Who acknowledged the group and when; cleared when the alert occurs again.
        public var acknowledgedBy: String? = nil
        public var acknowledgedAt: String? = nil
    }

    /// Records an alert in its group. Returns the group, and whether this message was new.
    public func record(_ alert: AlertNotice, messageID: String) async throws -> (group: AlertGroup, isNew: Bool) {
        let fingerprint = Self.fingerprint(alert)
        return try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO seen_message (message_id) VALUES (?)", arguments: [messageID])
            let isNew = db.changesCount == 1
            if isNew {
                try db.execute(sql: """
                    INSERT INTO alert_group (fingerprint, kind, stage, severity, reason, count, first_seen, last_seen)
                    VALUES (?, ?, ?, ?, ?, 1, ?, ?)
                    ON CONFLICT(fingerprint) DO UPDATE SET count = count + 1, last_seen = excluded.last_seen, acknowledged_by = NULL, acknowledged_at = NULL
                    """, arguments: [fingerprint, alert.kind, alert.stage, alert.severity, alert.reason, alert.at, alert.at])
            } else {
                // A message seen before whose text has changed since (a stage that rebuilt it on redelivery) has no group
                // under its new text: it gets one, counted once, instead of the alerter crashing on every delivery of it.
                try db.execute(sql: """
                    INSERT OR IGNORE INTO alert_group (fingerprint, kind, stage, severity, reason, count, first_seen, last_seen)
                    VALUES (?, ?, ?, ?, ?, 1, ?, ?)
                    """, arguments: [fingerprint, alert.kind, alert.stage, alert.severity, alert.reason, alert.at, alert.at])
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM alert_group WHERE fingerprint = ?", arguments: [fingerprint]) else {
                throw DatabaseError(message: "alert group \(fingerprint) was not written")
            }
            return (Self.group(row), isNew)
        }
    }

    public func markNotified(_ fingerprint: String, count: Int) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE alert_group SET notified_count = ? WHERE fingerprint = ?", arguments: [count, fingerprint])
        }
    }

    /// Marks a group as seen by a person until it occurs again. False when there is no such group.
    @discardableResult
    public func acknowledge(fingerprint: String, by actor: String, at: Date = Date()) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE alert_group SET acknowledged_by = ?, acknowledged_at = ? WHERE fingerprint = ?",
                           arguments: [actor, Timestamps.iso8601(at), fingerprint])
            return db.changesCount == 1
        }
    }

    public func alertGroups() async throws -> [AlertGroup] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM alert_group ORDER BY last_seen DESC").map(Self.group) }
    }

    /// Stores an audit notice once per message.
    public func record(_ audit: AuditNotice, messageID: String, correlationID: String?) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO audit_event (message_id, event, stage, detail, idempotency_key, correlation_id, at, actor)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [messageID, audit.event, audit.stage, audit.detail, audit.idempotencyKey, correlationID, audit.at, audit.actor])
        }
    }

    /// One recorded audit notice, newest first in `auditTrail`.
    public struct AuditEntry: Sendable, Equatable, Codable {
        public var messageId, event, stage, detail, at: String
        public var actor, idempotencyKey: String?
    }

    public func auditTrail(limit: Int = 500) async throws -> [AuditEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_event ORDER BY at DESC, rowid DESC LIMIT ?", arguments: [limit]).map(Self.auditEntry)
        }
    }

    private static func auditEntry(_ row: Row) -> AuditEntry {
        AuditEntry(messageId: row["message_id"], event: row["event"], stage: row["stage"], detail: row["detail"], at: row["at"],
                   actor: row["actor"], idempotencyKey: row["idempotency_key"])
    }

    /// The audit records of one thing (an exception, a held document), oldest first: what its idempotency key names.
    public func auditTrail(idempotencyKey: String, limit: Int = 100) async throws -> [AuditEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_event WHERE idempotency_key = ? ORDER BY at, rowid LIMIT ?",
                             arguments: [idempotencyKey, limit]).map(Self.auditEntry)
        }
    }

    public func auditEvents() async throws -> [(event: String, stage: String, detail: String)] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT event, stage, detail FROM audit_event ORDER BY at").map { ($0["event"], $0["stage"], $0["detail"]) }
        }
    }

    /// The latest report per journal reference. A real-time refund's own report is kept apart and
    /// folded into its batch's report, whichever of the two arrives first; returns the batch report
    /// as it now stands (nil when the batch's report has not arrived yet).
    @discardableResult
    public func record(_ report: ReconciliationReport) async throws -> ReconciliationReport? {
        try await database.write { db in
            let now = Timestamps.iso8601(Date())
            if let batchReference = report.partOf {
                try db.execute(sql: """
                    INSERT INTO refund_reconciliation (reference, part_of, report, recorded_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(reference) DO UPDATE SET part_of = excluded.part_of, report = excluded.report, recorded_at = excluded.recorded_at
                    """, arguments: [report.reference, batchReference, try Self.json(report), now])
                guard let text = try String.fetchOne(db, sql: "SELECT report FROM reconciliation WHERE reference = ?", arguments: [batchReference])
                else { return nil }
                let batch = try JSONDecoder().decode(ReconciliationReport.self, from: Data(text.utf8))
                let merged = batch.applying(report)
                if merged != batch { try Self.upsert(merged, db, now: now) }
                return merged
            }
            var merged = report
            // Everything of the batch posted apart that arrived first: its refunds, other days' journals, supplementary journals.
            let parts = Set((report.refunds ?? []).filter { $0.status == .pending }.map(\.reference))
            let placeholders = parts.isEmpty ? "NULL" : Array(repeating: "?", count: parts.count).joined(separator: ",")
            let sql = "SELECT reference, part_of, report FROM refund_reconciliation WHERE part_of = ? OR reference IN (\(placeholders))"
            for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments([report.reference] + parts.sorted())) {
                let text: String = row["report"]
                merged = merged.applying(try JSONDecoder().decode(ReconciliationReport.self, from: Data(text.utf8)))
            }
            try Self.upsert(merged, db, now: now)
            return merged
        }
    }

    private static func upsert(_ report: ReconciliationReport, _ db: Database, now: String) throws {
        try db.execute(sql: """
            INSERT INTO reconciliation (reference, store_id, business_date, status, report, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(reference) DO UPDATE SET status = excluded.status, report = excluded.report, recorded_at = excluded.recorded_at
            """, arguments: [report.reference, report.storeID.rawValue, report.businessDate.iso, report.status.rawValue, try json(report), now])
    }

    private static func json(_ report: ReconciliationReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    /// Where a refund that is not in Sage is: the latest fraud-scorer or review record about its journal.
    static func whereabouts(_ db: Database, idempotencyKey: String) throws -> String {
        let event = try String.fetchOne(db, sql: """
            SELECT event FROM audit_event WHERE idempotency_key = ? AND stage = 'fraud-scorer' ORDER BY at DESC LIMIT 1
            """, arguments: [idempotencyKey])
        switch event {
        case AuditEvent.heldForReview.rawValue: return "held for fraud review (bridgectl review list)"
        case AuditEvent.blocked.rawValue: return "blocked by the fraud rules, never to be posted"
        case let other?: return "\(other.replacingOccurrences(of: "_", with: " ")) in fraud review"
        case nil: return "retrying or in a dead-letter queue (bridgectl dlq list)"
        }
    }

    /// Reports for a business day (YYYY-MM-DD), or all of them.
    public func reconciliations(businessDate: String? = nil) async throws -> [ReconciliationReport] {
        try await database.read { db in
            let rows = try String.fetchAll(db, sql: """
                SELECT report FROM reconciliation WHERE ?1 IS NULL OR business_date = ?1 ORDER BY business_date, store_id, reference
                """, arguments: [businessDate])
            return try rows.map { text in
                var report = try JSONDecoder().decode(ReconciliationReport.self, from: Data(text.utf8))
                if var refunds = report.refunds {
                    for index in refunds.indices where refunds[index].status == .pending {
                        refunds[index].detail = try Self.whereabouts(db, idempotencyKey: refunds[index].idempotencyKey)
                    }
                    report.refunds = refunds
                }
                return report
            }
        }
    }

    /// Alerts with the same kind, stage and reason (numbers and ids removed) are one group.
    static func fingerprint(_ alert: AlertNotice) -> String {
        let reason = alert.reason.replacingOccurrences(of: "[0-9a-f]{8}-[0-9a-f-]{27}", with: "<id>", options: .regularExpression)
            .replacingOccurrences(of: "gave up after [0-9]+ attempts: ", with: "", options: .regularExpression)
            // Heartland's record ids and the retry counter: one outage is one group, not one per refund or attempt.
            .replacingOccurrences(of: "\\b(TRN|BAT|PR|EVT)_[A-Za-z0-9_]+", with: "<id>", options: .regularExpression)
            .replacingOccurrences(of: " \\(attempt [0-9]+, next in [^)]*\\)", with: "", options: .regularExpression)
        return "\(alert.kind)|\(alert.stage)|\(reason)"
    }

    private static func group(_ row: Row) -> AlertGroup {
        AlertGroup(fingerprint: row["fingerprint"], kind: row["kind"], stage: row["stage"], severity: row["severity"], reason: row["reason"],
                   count: row["count"], firstSeen: row["first_seen"], lastSeen: row["last_seen"], notifiedCount: row["notified_count"],
                   acknowledgedBy: row["acknowledged_by"], acknowledgedAt: row["acknowledged_at"])
    }
}

/// Set-aside documents (issue 14): held until a corrected version posts.
extension OperationsStore {
    public struct Quarantined: Sendable, Equatable {
        public enum Status: String, Sendable { case held, posted }
        public var status: Status
        /// The latest record (a replay that is still invalid replaces the reason).
        public var document: QuarantinedDocumentRecord
        /// How often it was set aside (1 + replays that were still invalid).
        public var times: Int
        public var resolvedReference: String?
        public var resolvedAt: String?
    }

    /// Records a set-aside document (held again if a replay was still invalid). Returns true when it is new.
    @discardableResult
    public func recordQuarantine(_ record: QuarantinedDocumentRecord) async throws -> Bool {
        try await database.write { db in
            let existing = try Row.fetchOne(db, sql: "SELECT status, document FROM quarantine WHERE store_id = ? AND document_id = ?",
                                            arguments: [record.storeID, record.documentID])
            if let existing, existing["document"] as String == record.json {
                return false  // the same record again (a redelivery or the batch processed twice)
            }
            try db.execute(sql: """
                INSERT INTO quarantine (store_id, document_id, status, document, quarantined_at) VALUES (?, ?, 'held', ?, ?)
                ON CONFLICT(store_id, document_id) DO UPDATE SET status = 'held', document = excluded.document,
                    quarantined_at = excluded.quarantined_at, times = times + 1, resolved_reference = NULL, resolved_at = NULL
                """, arguments: [record.storeID, record.documentID, record.json, record.quarantinedAt])
            return existing == nil
        }
    }

    /// A corrected version of the document is in Sage under `reference`.
    public func resolveQuarantine(storeID: String, documentID: String, reference: String) async throws {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE quarantine SET status = 'posted', resolved_reference = ?, resolved_at = ? WHERE store_id = ? AND document_id = ?
                """, arguments: [reference, Timestamps.iso8601(Date()), storeID, documentID])
        }
    }

    public func quarantined(status: Quarantined.Status? = nil) async throws -> [Quarantined] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM quarantine WHERE ?1 IS NULL OR status = ?1 ORDER BY quarantined_at, store_id, document_id
                """, arguments: [status?.rawValue]).map { row in
                Quarantined(status: Quarantined.Status(rawValue: row["status"]) ?? .held,
                            document: QuarantinedDocumentRecord(json: row["document"]), times: row["times"],
                            resolvedReference: row["resolved_reference"], resolvedAt: row["resolved_at"])
            }
        }
    }
}

/// A quarantine record as the operations store keeps it: the JSON of `QuarantinedDocument` and its keys.
public struct QuarantinedDocumentRecord: Sendable, Equatable {
    public var json: String
    public var storeID: String
    public var documentID: String
    public var quarantinedAt: String

    public init(json: String) {
        struct Keys: Decodable {
            struct Store: Decodable { var id: String }
            var store: Store
            var documentId: String
            var quarantinedAt: String
        }
        let keys = try? JSONDecoder().decode(Keys.self, from: Data(json.utf8))
        self.json = json
        self.storeID = keys?.store.id ?? "?"
        self.documentID = keys?.documentId ?? "?"
        self.quarantinedAt = keys?.quarantinedAt ?? ""
    }
}
