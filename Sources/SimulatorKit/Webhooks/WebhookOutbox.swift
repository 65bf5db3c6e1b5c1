import BridgeClock
import Foundation
import GRDB

/// Webhook events waiting to be delivered, kept in SQLite so a restart does not lose them.
public struct WebhookOutbox: Sendable {
    public let database: DatabasePool

    public init(database: DatabasePool) { self.database = database }

    public struct Delivery: Codable, FetchableRecord, PersistableRecord, Sendable {
        public static let databaseTableName = "webhook_delivery"
        public var id: Int64?
        public var eventId: String
        public var event: String
        public var url: String
        public var body: Data
        public var status: String
        public var attempts: Int
        public var nextAttemptAt: Date
        public var lastStatus: Int?
        public var lastError: String?
        public var duplicatesSent: Int

        enum CodingKeys: String, CodingKey {
            case id, event, url, body, status, attempts
            case eventId = "event_id", nextAttemptAt = "next_attempt_at", lastStatus = "last_status"
            case lastError = "last_error", duplicatesSent = "duplicates_sent"
        }

        public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

        public var json: JSONValue {
            [
                "id": .int(id ?? 0), "event_id": .string(eventId), "event": .string(event), "url": .string(url),
                "status": .string(status), "attempts": .int(attempts),
                "next_attempt_at": .string(Timestamps.iso8601(nextAttemptAt)),
                "last_status": lastStatus.map { .int($0) } ?? .null, "last_error": .optional(lastError),
                "duplicates_sent": .int(duplicatesSent),
            ]
        }
    }

    public func addEndpoint(_ url: String, now: Date) async throws {
        try await database.write { db in try Self.addEndpoint(db, url: url, now: now) }
    }

    /// In the caller's transaction (a simulator seeded at start-up).
    public static func addEndpoint(_ db: Database, url: String, now: Date) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO webhook_endpoint (url, created_at) VALUES (?, ?)", arguments: [url, now])
    }

    public func removeEndpoint(_ url: String) async throws {
        try await database.write { db in try db.execute(sql: "DELETE FROM webhook_endpoint WHERE url = ?", arguments: [url]) }
    }

    public func endpoints() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT url FROM webhook_endpoint ORDER BY url") }
    }

    /// Queues one delivery per configured endpoint, inside the caller's transaction so the event
    /// is recorded exactly when the state change that caused it commits.
    public static func enqueue(_ db: Database, eventId: String, event: String, body: JSONValue, now: Date) throws {
        let urls = try String.fetchAll(db, sql: "SELECT url FROM webhook_endpoint")
        let payload = body.serialized()
        for url in urls {
            let delivery = Delivery(
                id: nil, eventId: eventId, event: event, url: url, body: payload, status: "pending", attempts: 0,
                nextAttemptAt: now, lastStatus: nil, lastError: nil, duplicatesSent: 0)
            try delivery.insert(db)
        }
    }

    public func due(now: Date, limit: Int = 50) async throws -> [Delivery] {
        try await database.read { db in
            try Delivery.fetchAll(
                db,
                sql: "SELECT * FROM webhook_delivery WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                arguments: [now, limit])
        }
    }

    public func all(limit: Int = 500) async throws -> [Delivery] {
        try await database.read { db in
            try Delivery.fetchAll(db, sql: "SELECT * FROM webhook_delivery ORDER BY id DESC LIMIT ?", arguments: [limit])
        }
    }

    public func save(_ delivery: Delivery) async throws {
        try await database.write { db in try delivery.update(db) }
    }
}
