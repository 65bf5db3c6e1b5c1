import Foundation

/// `heartland.gateway.<sighting>` on `bridge.scoring` (schema `bridge.heartland.gateway_transaction.v1`): one GP-API
/// card transaction as heartland-ingest's gateway feed lists it, seconds after it happened, whatever its status
/// (`DECLINED`, `PREAUTHORIZED`, `CAPTURED`, `REVERSED` …). Only the fraud scorer reads it: declines, authorisations
/// that never settle and reversals never reach a settlement batch, and card testing must be seen while it happens.
///
/// A transaction is published once when first listed (`created`, whatever its status then) and once more if it is
/// later listed `REVERSED` (`reversed`: the sale was voided at the gateway). Card data is brand, first six and last
/// four only.
public struct GatewayTransactionEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.gateway_transaction.v1"
    public static let routingKeyPrefix = "heartland.gateway."

    public enum Sighting: String, Codable, Sendable, CaseIterable {
        /// First listed by the feed (any status).
        case created
        /// Listed `REVERSED` after it was first published, or first listed already reversed.
        case reversed
    }

    public var schema: String
    public var sighting: Sighting
    /// GP-API's transaction id (`TRN_…`): the same id a settled sale carries in its batch.
    public var transactionId: String
    /// `SALE` or `REFUND`.
    public var type: String
    /// The status when listed: `DECLINED`, `PREAUTHORIZED`, `CAPTURED`, `BATCHED`, `REVERSED`, …
    public var status: String
    /// Minor units, tip included.
    public var amountCents: Int64
    public var currency: String
    public var brand: String?
    public var first6: String?
    public var last4: String?
    /// GP-API's `payment_method.entry_mode` (`CHIP`, `CONTACTLESS_CHIP`, `SWIPE`, `MANUAL`, …).
    public var entryMode: String?
    /// The terminal: GP-API's `system.tid` (device id).
    public var terminal: String?
    /// Heartland's location id and the store it is (public id, time zone).
    public var locationId: Int64?
    public var store: BatchClosedEvent.Store
    /// `time_created` as Heartland gives it (RFC 3339).
    public var timeCreated: String
    /// Gateway response code (`payment_method.result`), when sent.
    public var resultCode: String?
    /// For a refund, the sale it refunds.
    public var parentResourceId: String?
    /// When heartland-ingest listed it (RFC 3339): with `timeCreated`, the feed's own latency.
    public var seenAt: String

    public init(sighting: Sighting, transactionId: String, type: String, status: String, amountCents: Int64, currency: String,
                brand: String?, first6: String?, last4: String?, entryMode: String?, terminal: String?, locationId: Int64?,
                store: BatchClosedEvent.Store, timeCreated: String, resultCode: String?, parentResourceId: String?, seenAt: String) {
        self.schema = Self.schema
        self.sighting = sighting
        self.transactionId = transactionId
        self.type = type
        self.status = status
        self.amountCents = amountCents
        self.currency = currency
        self.brand = brand
        self.first6 = first6
        self.last4 = last4
        self.entryMode = entryMode
        self.terminal = terminal
        self.locationId = locationId
        self.store = store
        self.timeCreated = timeCreated
        self.resultCode = resultCode
        self.parentResourceId = parentResourceId
        self.seenAt = seenAt
    }

    enum CodingKeys: String, CodingKey {
        case schema, sighting, type, status, currency, brand, first6, last4, terminal, store
        case transactionId = "transaction_id", amountCents = "amount_cents", entryMode = "entry_mode", locationId = "location_id"
        case timeCreated = "time_created", resultCode = "result_code", parentResourceId = "parent_resource_id", seenAt = "seen_at"
    }

    public var routingKey: String { Self.routingKeyPrefix + sighting.rawValue }

    /// One message per transaction and sighting (the key heartland-ingest's inbox uses).
    public var idempotencyKey: String { Self.idempotencyKey(transactionId, sighting) }

    public static func idempotencyKey(_ transactionId: String, _ sighting: Sighting) -> String {
        sighting == .created ? "heartland:gateway:\(transactionId)" : "heartland:gateway:\(transactionId):reversed"
    }
}
