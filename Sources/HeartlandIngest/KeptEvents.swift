import Foundation
import GRDB
import Messaging
import PipelineContracts
import Synchronization

/// heartland-ingest's inbox read-only: the batch events it built (each closed batch with its tickets, as the
/// transformer received it) and the pay runs it published. The mapping page checks a mapping against them and
/// previews a posted day with them; nothing here writes the inbox.
public final class KeptEvents: Sendable {
    private let database: any DatabaseReader

    private init(database: any DatabaseReader) { self.database = database }

    /// Opens the inbox read-only (it must exist: a reader never creates it), once per file and process: the mapping and
    /// rules pages, and every request of theirs, share one pool.
    public static func open(path: String) throws -> KeptEvents {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "no heartland-ingest inbox at \(path): pass --ingest-inbox or set BRIDGE_INGEST_INBOX to heartland-ingest's file")
        }
        return try opened.withLock { opened in
            if let kept = opened[path] { return kept }
            let kept = KeptEvents(database: try SQLiteFile.readOnlyPool(path: path))
            opened[path] = kept
            return kept
        }
    }

    private static let opened = Mutex<[String: KeptEvents]>([:])

    public struct Missing: Error, CustomStringConvertible { public var description: String }

    /// The batch events built at or after `since`, oldest first (those that do not decode are left out).
    public func batches(since: Date) async throws -> [BatchClosedEvent] {
        let stamp = IngestInbox.stamp(since)
        let bodies = try await database.read { db in
            try Data.fetchAll(db, sql: "SELECT body FROM batch_event WHERE built_at >= ? ORDER BY built_at, batch_id", arguments: [stamp])
        }
        return bodies.compactMap { try? BatchClosedEvent(body: $0) }
    }

    /// Where `batchPage` stopped: the last row it read, in the order `batches(since:)` gives.
    public struct Cursor: Sendable {
        let builtAt: String
        let batchID: String
    }

    /// The next `limit` batch events built at or after `since`, after `cursor` (from the start without one), in the
    /// order `batches(since:)` gives them, and the cursor for the next page (nil: none left). A check over many stores
    /// reads them page by page instead of holding the whole window in memory.
    public func batchPage(since: Date, after cursor: Cursor?, limit: Int) async throws -> (events: [BatchClosedEvent], next: Cursor?) {
        let stamp = IngestInbox.stamp(since)
        let rows = try await database.read { db in
            if let cursor {
                return try Row.fetchAll(db, sql: """
                    SELECT built_at, batch_id, body FROM batch_event WHERE built_at >= ? AND (built_at, batch_id) > (?, ?)
                    ORDER BY built_at, batch_id LIMIT ?
                    """, arguments: [stamp, cursor.builtAt, cursor.batchID, limit])
            }
            return try Row.fetchAll(db, sql: "SELECT built_at, batch_id, body FROM batch_event WHERE built_at >= ? ORDER BY built_at, batch_id LIMIT ?",
                                    arguments: [stamp, limit])
        }
        let events = rows.compactMap { row in try? BatchClosedEvent(body: row["body"] as Data) }
        let next = rows.count < limit ? nil : rows.last.map { Cursor(builtAt: $0["built_at"], batchID: $0["batch_id"]) }
        return (events, next)
    }

    /// Every batch event built at or after `since`, a page of `limit` at a time (`batchPage`), each page given to `body`
    /// in turn: the window is never in memory whole.
    public func forEachBatchPage(since: Date, limit: Int, _ body: ([BatchClosedEvent]) async throws -> Void) async throws {
        var cursor: Cursor?
        repeat {
            let page = try await batchPage(since: since, after: cursor, limit: limit)
            cursor = page.next
            if !page.events.isEmpty { try await body(page.events) }
        } while cursor != nil
    }

    /// How many batch events were built at or after `since`.
    public func batchCount(since: Date) async throws -> Int {
        let stamp = IngestInbox.stamp(since)
        return try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM batch_event WHERE built_at >= ?", arguments: [stamp]) ?? 0 }
    }

    /// The batches kept in the window, without their bodies' tickets: what the mapping page offers to preview.
    public func batchList(since: Date) async throws -> [(batchID: String, store: String, businessDate: String)] {
        let stamp = IngestInbox.stamp(since)
        return try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT batch_id, json_extract(CAST(body AS TEXT), '$.store.id') AS store, json_extract(CAST(body AS TEXT), '$.business_date') AS day
                FROM batch_event WHERE built_at >= ? ORDER BY built_at, batch_id
                """, arguments: [stamp]).map { ($0["batch_id"], $0["store"] ?? "", $0["day"] ?? "") }
        }
    }

    /// One batch's event, whenever it was built.
    public func batch(id: String) async throws -> BatchClosedEvent? {
        let body = try await database.read { db in try Data.fetchOne(db, sql: "SELECT body FROM batch_event WHERE batch_id = ?", arguments: [id]) }
        return try body.map { try BatchClosedEvent(body: $0) }
    }

    /// Which batch events and pay runs were built at or after `since`, without reading them: their counts, first and last
    /// build times and sizes. Equal fingerprints: the same events (an event is never changed in place without its time).
    public func fingerprint(since: Date) async throws -> String {
        let stamp = IngestInbox.stamp(since)
        return try await database.read { db in
            var parts: [String] = []
            for table in ["batch_event", "payroll_event"] where try db.tableExists(table) {
                let row = try Row.fetchOne(db, sql: "SELECT count(*), min(built_at), max(built_at), total(length(body)) FROM \(table) WHERE built_at >= ?",
                                           arguments: [stamp])
                parts.append("\(table): \(row?[0] as Int? ?? 0) \(row?[1] as String? ?? "") \(row?[2] as String? ?? "") \(row?[3] as Double? ?? 0)")
            }
            return parts.joined(separator: "; ")
        }
    }

    /// The pay runs published at or after `since` (an inbox of an earlier release has none).
    public func payRuns(since: Date) async throws -> [PayrollCompletedEvent] {
        let stamp = IngestInbox.stamp(since)
        let bodies = try await database.read { db -> [Data] in
            guard try db.tableExists("payroll_event") else { return [] }
            return try Data.fetchAll(db, sql: "SELECT body FROM payroll_event WHERE built_at >= ? ORDER BY built_at, run_id", arguments: [stamp])
        }
        return bodies.compactMap { try? JSONDecoder().decode(PayrollCompletedEvent.self, from: $0) }
    }
}
