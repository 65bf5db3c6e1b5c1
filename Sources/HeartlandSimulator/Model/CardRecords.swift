import Foundation
import GRDB

/// A store (Heartland Retail "location"); it has one station and one card batch per business day.
public struct Location: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "location"
    public var id: Int64
    public var publicId: String
    public var name: String
    /// IANA zone, e.g. `America/Los_Angeles`; business days are local dates.
    public var timeZone: String
    /// Sales tax in basis points (887 = 8.87 %).
    public var taxRateBasisPoints: Int64
    public var merchantId: String
    public var deviceId: String

    public var stationId: Int64 { id * 100 + 1 }
    public var zone: TimeZone { TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")! }
}

/// A GP-API card transaction. `amountCents` includes `gratuityCents`.
public struct CardTransaction: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "card_transaction"
    public var id: String
    public var locationId: Int64
    public var batchId: String
    /// `SALE` or `REFUND`.
    public var type: String
    /// `CAPTURED` while the batch is open, `BATCHED` after close, `REVERSED` when voided.
    public var status: String
    public var amountCents: Int64
    public var gratuityCents: Int64
    public var currency: String
    /// `VISA`, `MASTERCARD`, `AMEX`, `DISCOVER`.
    public var brand: String
    public var first6: String
    public var last4: String
    public var entryMode: String
    public var authCode: String
    public var reference: String
    public var parentResourceId: String?
    public var ticketId: Int64?
    public var timeCreated: Date
}

/// A settlement batch: one per location and business day.
public struct SettlementBatch: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "settlement_batch"
    public var id: String
    public var locationId: Int64
    public var businessDay: String
    /// `OPEN` or `CLOSED`.
    public var status: String
    public var timeCreated: Date
    public var timeClosed: Date?
}

public struct GiftCard: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "gift_card"
    public var number: String
    public var balanceCents: Int64
}

public struct AccessToken: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "access_token"
    public var token: String
    public var appId: String
    public var createdAt: Date
    public var expiresAt: Date
}
