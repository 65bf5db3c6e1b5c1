import Foundation

/// `heartland.ticket.voided` on `bridge.scoring` (schema `bridge.heartland.ticket_voided.v1`): a Heartland Retail ticket
/// listed `void` by heartland-ingest's gateway feed, for the fraud scorer's void-abuse features. Void tickets are in no
/// settlement batch. The clerk is the ticket's `sales_rep`: the ticket shape Heartland documents has no field naming who
/// voided it (reference/heartland-sage-api-shapes.md, 3b), so the clerk who rang it up stands for the one who voided it.
public struct TicketVoidedEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.ticket_voided.v1"
    public static let routingKey = "heartland.ticket.voided"

    public var schema: String
    public var ticketId: Int64
    /// The receipt number.
    public var publicId: String
    public var store: BatchClosedEvent.Store
    /// The Retail station (terminal) it was rung up on.
    public var station: String?
    /// `sales_rep`.
    public var clerk: String?
    /// The ticket's total in cents (positive).
    public var totalCents: Int64
    /// The tender it was paid with: `card`, `gift_card` or `cash` (card or gift card when any payment was one).
    public var tender: String
    /// When it was voided: the ticket's `updated_at`, else `completed_at` (RFC 3339).
    public var voidedAt: String
    /// When heartland-ingest listed it (RFC 3339).
    public var seenAt: String

    public init(ticketId: Int64, publicId: String, store: BatchClosedEvent.Store, station: String?, clerk: String?, totalCents: Int64, tender: String,
                voidedAt: String, seenAt: String) {
        self.schema = Self.schema
        self.ticketId = ticketId
        self.publicId = publicId
        self.store = store
        self.station = station
        self.clerk = clerk
        self.totalCents = totalCents
        self.tender = tender
        self.voidedAt = voidedAt
        self.seenAt = seenAt
    }

    enum CodingKeys: String, CodingKey {
        case schema, store, station, clerk, tender
        case ticketId = "ticket_id", publicId = "public_id", totalCents = "total_cents", voidedAt = "voided_at", seenAt = "seen_at"
    }

    public var idempotencyKey: String { Self.idempotencyKey(ticketId) }
    public static func idempotencyKey(_ ticketId: Int64) -> String { "heartland:ticket:\(ticketId):voided" }
}
