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
    /// `CAPTURED` while the batch is open, `BATCHED` after close, `REVERSED` when voided; `DECLINED` and
    /// `PREAUTHORIZED` (authorised, never captured) are listed like the others but settle nothing.
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

    /// Statuses that move no money: not in batch totals, not closed into a batch, not refundable.
    public static let unsettledStatuses: Set<String> = ["DECLINED", "PREAUTHORIZED", "REVERSED"]
    public var settles: Bool { !Self.unsettledStatuses.contains(status) }
}

/// A settlement batch of a location. The generator makes one per business day (several in a messy day);
/// `POST /ucp/transactions/{id}/refund` and ticket creation open a new one when the location has none open.
public struct SettlementBatch: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "settlement_batch"
    public var id: String
    public var locationId: Int64
    public var businessDay: String
    /// `OPEN` or `CLOSED`.
    public var status: String
    public var timeCreated: Date
    public var timeClosed: Date?
    /// Processing fees as the batch states them; nil: invented from its sales (see `GPRendering.Totals.fee`).
    public var fees: BatchFees? = nil
}

/// The processing fees a batch reports. `per_brand`: each brand breakdown carries its own `fee_amount`
/// (brands not listed carry 0) and the batch the sum; `none`: no `fee_amount` anywhere; `unsplit`: only the
/// batch carries `fee_amount` (`total_cents`), its brand breakdowns none.
public struct BatchFees: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable {
        case perBrand = "per_brand"
        case noFees = "none"
        case unsplit
    }

    public var mode: Mode
    /// `per_brand` only: cents per brand as the batch's brand breakdown spells it (`VISA`, `MASTERCARD`, ...).
    public var perBrandCents: [String: Int64]?
    /// `unsplit` only.
    public var totalCents: Int64?

    public init(mode: Mode, perBrandCents: [String: Int64]? = nil, totalCents: Int64? = nil) {
        self.mode = mode
        self.perBrandCents = perBrandCents
        self.totalCents = totalCents
    }

    public static func perBrand(_ cents: [String: Int64]) -> BatchFees { BatchFees(mode: .perBrand, perBrandCents: cents) }
    public static let none = BatchFees(mode: .noFees)
    public static func unsplit(_ cents: Int64) -> BatchFees { BatchFees(mode: .unsplit, totalCents: cents) }
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
