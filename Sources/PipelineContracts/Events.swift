import Accounting
import Foundation

/// `heartland.batch.closed` on `bridge.events` (schema `bridge.heartland.batch_closed.v1`): what
/// heartland-ingest publishes once a store's batch is closed. The batch and the tickets are Heartland's
/// own JSON, unchanged, so that validation and repair happen in one place (the transformer).
public struct BatchClosedEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.batch_closed.v1"
    public static let routingKey = "heartland.batch.closed"

    public struct Store: Codable, Sendable {
        public var id: String
        public var timeZone: String
        public var currency: String
        public init(id: String, timeZone: String, currency: String) {
            self.id = id
            self.timeZone = timeZone
            self.currency = currency
        }
        enum CodingKeys: String, CodingKey { case id, timeZone = "time_zone", currency }
    }

    public var schema: String
    public var store: Store
    /// Heartland's batch id (also inside `batch`), so that the key is known without parsing it.
    public var batchId: String?
    /// The store's business day, YYYY-MM-DD in its own time zone.
    public var businessDate: String
    /// GP-API batch JSON.
    public var batch: RawJSON
    /// Heartland Retail tickets for the store and day: an array of tickets, or of ticket pages as served.
    public var tickets: RawJSON

    public init(store: Store, businessDate: String, batchId: String? = nil, batch: RawJSON, tickets: RawJSON) {
        self.schema = Self.schema
        self.store = store
        self.batchId = batchId
        self.businessDate = businessDate
        self.batch = batch
        self.tickets = tickets
    }

    enum CodingKeys: String, CodingKey { case schema, store, batchId = "batch_id", businessDate = "business_date", batch, tickets }

    /// The idempotency key of the fact: one batch is one journal (the key heartland-ingest's inbox uses).
    public var idempotencyKey: String { batchId.map { "heartland:batch:\($0)" } ?? "heartland:batch:\(store.id):\(businessDate)" }
}

/// `heartland.payroll.completed` on `bridge.events` (schema `bridge.heartland.payroll_completed.v1`).
public struct PayrollCompletedEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.payroll_completed.v1"
    public static let routingKey = "heartland.payroll.completed"
    public var schema: String
    public var currency: String
    /// Heartland's pay run id (also inside `payRun`).
    public var runId: String?
    /// The pay run JSON as Heartland serves it: the run, or the payroll envelope holding it.
    public var payRun: RawJSON

    public init(currency: String, runId: String? = nil, payRun: RawJSON) {
        self.schema = Self.schema
        self.currency = currency
        self.runId = runId
        self.payRun = payRun
    }

    enum CodingKeys: String, CodingKey { case schema, currency, runId = "run_id", payRun = "pay_run" }

    /// One pay run is one journal (the key heartland-ingest's inbox and the payroll journal use).
    public var idempotencyKey: String? { runId.map { "heartland:pay_run:\($0)" } }
}

/// A journal on its way to Sage (schema `bridge.journal.v1`), on `bridge.scoring` from the transformer
/// and on `bridge.commands` (key `sage.journal.<source>`) once the fraud scorer has passed it.
public struct JournalDocument: Codable, Sendable {
    public static let schema = "bridge.journal.v1"
    public var schema: String
    public var journal: JournalEntry
    /// The store a settlement journal belongs to (nil for payroll).
    public var storeID: String?
    /// Heartland's own batch totals, kept for the reconciliation after posting.
    public var batch: SettlementBatch?
    /// `not_assessed` until the fraud scorer is built; then its decision.
    public var fraudAssessment: String?

    public init(journal: JournalEntry, storeID: String? = nil, batch: SettlementBatch?, fraudAssessment: String? = nil) {
        self.schema = Self.schema
        self.journal = journal
        self.storeID = storeID
        self.batch = batch
        self.fraudAssessment = fraudAssessment
    }

    public var routingKey: String { "sage.journal.\(journal.source.rawValue)" }
}

/// Heartland's JSON carried through byte for byte, as a string: re-parsing it into numbers could
/// turn an amount like 12.30 into a binary double and lose a cent.
public struct RawJSON: Codable, Sendable, Equatable {
    public var data: Data

    public init(_ data: Data) { self.data = data }

    public init(from decoder: any Decoder) throws {
        data = Data(try decoder.singleValueContainer().decode(String.self).utf8)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(decoding: data, as: UTF8.self))
    }
}
