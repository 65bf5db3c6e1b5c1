import AMQP
import BridgeClock
import Foundation
import GRDB
import Messaging
import SyncContracts

/// An ingest's memory of the other side's records, in SQLite: a watermark per source collection
/// (the newest `DateLastMaintained` / `updated_at` seen) and, per record, the fingerprint of the fields
/// this side owns when it was last published. A record is published again only when that fingerprint
/// changes: a change to fields the side does not own — every change the bridge itself writes here —
/// is not published (echo suppression), nor is a record seen again at the watermark's edge.
public final class SyncState: Sendable {
    private let database: DatabasePool

    public init(path: String) throws {
        database = try SQLiteFile.pool(path: path)
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // `IF NOT EXISTS`: a file the store wrote before it had a migrator is taken as it is.
        migrator.registerMigration("sync-state-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS sync_watermark (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS sync_record (
                    entity TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, version TEXT NOT NULL,
                    published_at TEXT NOT NULL, PRIMARY KEY (entity, key)
                );
                """)
        }
        return migrator
    }()

    public func watermark(_ name: String) async throws -> String? {
        try await database.read { try String.fetchOne($0, sql: "SELECT value FROM sync_watermark WHERE name = ?", arguments: [name]) }
    }

    public func fingerprint(_ entity: String, _ key: String) async throws -> String? {
        try await database.read {
            try String.fetchOne($0, sql: "SELECT fingerprint FROM sync_record WHERE entity = ? AND key = ?", arguments: [entity, key])
        }
    }

    /// Records a sweep's outcome in one transaction, after its messages were confirmed by the broker.
    public func commit(records: [(entity: String, key: String, fingerprint: String, version: String)], watermarks: [String: String]) async throws {
        let now = Timestamps.iso8601(Date())
        try await database.write { db in
            for record in records {
                try db.execute(sql: """
                    INSERT INTO sync_record (entity, key, fingerprint, version, published_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(entity, key) DO UPDATE SET fingerprint = excluded.fingerprint, version = excluded.version,
                        published_at = excluded.published_at
                    """, arguments: [record.entity, record.key, record.fingerprint, record.version, now])
            }
            for (name, value) in watermarks {
                try db.execute(sql: "INSERT INTO sync_watermark (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                               arguments: [name, value])
            }
        }
    }

    /// The fingerprint of some field values: a pure function of the values, in order.
    public static func fingerprint(_ values: [String?]) -> String {
        MessageID.derived(values.map { $0.map { "=" + $0 } ?? "∅" }.joined(separator: "\u{1E}"))
    }
}

/// One sweep's results: the messages to publish and the state to commit once they are confirmed.
struct SweepBatch {
    var messages: [OutgoingMessage] = []
    var records: [(entity: String, key: String, fingerprint: String, version: String)] = []
    var watermarks: [String: String] = [:]
    var unchanged = 0

    /// Adds a record whose owned fields changed, unless the state already has this fingerprint.
    /// `changedElsewhere` (fields this side does not own that changed here) is published even when no owned field changed.
    mutating func add<Record>(_ state: SyncState, entity: String, key: String, fingerprint: String, version: String,
                              routingKey: String, record: Record, fields: [String], idempotencyKey: String, exchange: String,
                              changedElsewhere: [String] = []) async throws
        where Record: Sendable & Codable & Equatable
    {
        guard try await state.fingerprint(entity, key) != fingerprint || !changedElsewhere.isEmpty,
              !records.contains(where: { $0.entity == entity && $0.key == key }) else {
            unchanged += 1
            return
        }
        let schema = SyncRoute.schema(routingKey)
        let document = SyncMessage(schema: schema, record: record, fields: fields, idempotencyKey: idempotencyKey,
                                   changedElsewhere: changedElsewhere.isEmpty ? nil : changedElsewhere)
        let output = try OutboundMessage(exchange: exchange, routingKey: routingKey, json: document, idempotencyKey: idempotencyKey, schema: schema)
        // The message id is a function of the record version: a sweep repeated after a crash republishes the same ids.
        messages.append(output.amqpMessage(correlationID: idempotencyKey, messageID: MessageID.derived("sync", idempotencyKey), traceparent: nil))
        records.append((entity, key, fingerprint, version))
    }

    /// Publishes the sweep's messages with confirms, then commits its fingerprints and watermarks (a crash
    /// in between repeats the sweep, republishing the same message ids), then counts.
    func complete(source: String, publisher: any MessagePublisher, state: SyncState) async throws -> SweepReport {
        if !messages.isEmpty { try await publisher.publish(messages) }
        try await state.commit(records: records, watermarks: watermarks)
        SyncMetrics.published(source, messages.count)
        SyncMetrics.unchanged(source, unchanged)
        return SweepReport(published: messages.count, unchanged: unchanged)
    }

    mutating func advance(_ name: String, to value: String?) {
        guard let value else { return }
        if let current = watermarks[name], current >= value { return }
        watermarks[name] = value
    }
}
