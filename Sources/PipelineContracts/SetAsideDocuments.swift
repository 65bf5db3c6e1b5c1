import Accounting
import Foundation

/// A Heartland document the transformer set aside (ACCOUNTING.md: validation is per document): a ticket that
/// cannot post as written, with the field and the reason, while the rest of its batch posts. Published on
/// `bridge.audit` (`audit.quarantined.transformer`, schema `bridge.quarantined.v1`); the alerter keeps it in
/// the operations store (`bridgectl quarantine`, the console's Quarantine page) until a corrected version posts.
public struct QuarantinedDocument: Codable, Sendable {
    public static let schema = "bridge.quarantined.v1"
    public static let routingKey = "audit.quarantined.transformer"

    public var schema: String
    public var store: BatchClosedEvent.Store
    /// `ticket`.
    public var kind: String
    /// The record's id as Heartland wrote it (`?<hash>` when it has no readable id).
    public var documentId: String
    /// Its receipt number, when readable.
    public var number: String?
    /// The Retail location the record belongs to, to fetch it again once corrected.
    public var locationId: Int64?
    /// The settlement batch it arrived with, and the reference its batch's reconciliation is filed under.
    public var batchId: String?
    public var batchReference: String?
    public var field: String
    public var reason: String
    /// What the record would post as written, per account (debit positive; need not balance); nil when unreadable.
    public var netByAccount: [String: Int64]?
    /// The record as received, card numbers masked.
    public var raw: RawJSON
    public var quarantinedAt: String

    public init(store: BatchClosedEvent.Store, kind: String = "ticket", documentId: String, number: String?, locationId: Int64?, batchId: String?,
                batchReference: String?, field: String, reason: String, netByAccount: [String: Int64]?, raw: RawJSON, quarantinedAt: String) {
        self.schema = Self.schema
        self.store = store
        self.kind = kind
        self.documentId = documentId
        self.number = number
        self.locationId = locationId
        self.batchId = batchId
        self.batchReference = batchReference
        self.field = field
        self.reason = reason
        self.netByAccount = netByAccount
        self.raw = raw
        self.quarantinedAt = quarantinedAt
    }

    /// The idempotency key of the quarantine record (one per document and batch).
    public var idempotencyKey: String { "heartland:quarantine:\(store.id):\(documentId)" }
}

/// `heartland.ticket.corrected` on `bridge.events` (schema `bridge.heartland.ticket_corrected.v1`): a set-aside
/// ticket as Heartland serves it after a correction at the source, published by `bridgectl quarantine replay`.
/// The transformer posts it in a supplementary journal on its own business day, or sets it aside again.
public struct TicketCorrectedEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.ticket_corrected.v1"
    public static let routingKey = "heartland.ticket.corrected"

    public var schema: String
    public var store: BatchClosedEvent.Store
    public var documentId: String
    public var locationId: Int64?
    public var batchId: String?
    public var batchReference: String?
    /// The ticket record as Heartland now serves it.
    public var ticket: RawJSON
    /// The ticket's customer as Heartland serves it (a JSON array of one), when the ticket is charged to or pays down a
    /// house account: its AR document is in their name.
    public var customers: RawJSON?

    public init(store: BatchClosedEvent.Store, documentId: String, locationId: Int64?, batchId: String?, batchReference: String?, ticket: RawJSON,
                customers: RawJSON? = nil) {
        self.schema = Self.schema
        self.customers = customers
        self.store = store
        self.documentId = documentId
        self.locationId = locationId
        self.batchId = batchId
        self.batchReference = batchReference
        self.ticket = ticket
    }

    public var idempotencyKey: String { "heartland:ticket_corrected:\(documentId):\(RawJSON.fingerprint(ticket.data))" }
}

extension RawJSON {
    /// A short, stable fingerprint of bytes (FNV-1a, base 36): two versions of a record differ in it.
    public static func fingerprint(_ data: Data) -> String { HeartlandJSON.fingerprint(data) }
}
