import Foundation
import HeartlandWire

/// A GP-API settlement batch with its totals (`GET /ucp/batches/{id}`, `batch.closed`).
/// `amountCents` is net of refunds and before processing fees.
public struct SettlementBatch: Sendable, Hashable, Decodable {
    public var id: String
    public var batchReference: String?
    public var status: BatchStatus
    public var businessDay: String?
    public var locationId: Int64?
    public var merchantId: String?
    public var deviceReference: String?
    public var currency: String?
    public var timeCreated: String?
    public var timeClosed: String?
    public var transactionCount: Int64
    public var totals: BatchTotals
    public var brandBreakdown: [BrandTotals]
    public var hostBreakdown: HostTotals?
    /// Present on the close answer and the `batch.closed` event.
    public var action: BatchAction?

    enum Keys: String, CodingKey {
        case id, status, currency, action
        case batchId = "batch_id", businessDay = "business_day", locationId = "location_id", merchantId = "merchant_id"
        case deviceReference = "device_reference", timeCreated = "time_created", timeClosed = "time_closed"
        case transactionCount = "transaction_count", brandBreakdown = "brand_breakdown", hostBreakdown = "host_breakdown"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decodeLenientString(.id) ?? c.decodeLenientString(.batchId) ?? ""
        batchReference = try c.decodeLenientString(.batchId)
        status = try c.decodeIfPresent(BatchStatus.self, forKey: .status) ?? ""
        businessDay = try c.decodeLenientString(.businessDay)
        locationId = try c.decodeLenientInt(.locationId)
        merchantId = try c.decodeLenientString(.merchantId)
        deviceReference = try c.decodeLenientString(.deviceReference)
        currency = try c.decodeLenientString(.currency)
        timeCreated = try c.decodeLenientString(.timeCreated)
        timeClosed = try c.decodeLenientString(.timeClosed)
        totals = try BatchTotals(from: decoder)
        transactionCount = try c.decodeLenientInt(.transactionCount) ?? totals.count
        brandBreakdown = try c.decodeArray(BrandTotals.self, .brandBreakdown)
        hostBreakdown = try c.decodeIfPresent(HostTotals.self, forKey: .hostBreakdown)
        action = try c.decodeIfPresent(BatchAction.self, forKey: .action)
    }
}

/// The GP-API totals block, at batch level and per brand.
public struct BatchTotals: Sendable, Hashable, Decodable {
    public var count: Int64
    /// Sales minus refunds.
    public var netCents: Int64
    public var salesCount: Int64
    public var salesCents: Int64
    public var refundsCount: Int64
    public var refundsCents: Int64
    public var gratuityCents: Int64
    public var feeCents: Int64

    enum Keys: String, CodingKey {
        case count, amount, sales, refunds
        case gratuityAmount = "gratuity_amount", feeAmount = "fee_amount"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        count = try c.decodeLenientInt(.count) ?? 0
        netCents = try c.decodeMinorUnits(.amount)
        let sales = try c.decodeIfPresent(CountAndAmount.self, forKey: .sales) ?? CountAndAmount()
        let refunds = try c.decodeIfPresent(CountAndAmount.self, forKey: .refunds) ?? CountAndAmount()
        salesCount = sales.count
        salesCents = sales.amountCents
        refundsCount = refunds.count
        refundsCents = refunds.amountCents
        gratuityCents = try c.decodeMinorUnits(.gratuityAmount)
        feeCents = try c.decodeMinorUnits(.feeAmount)
    }
}

public struct BrandTotals: Sendable, Hashable, Decodable {
    public var brand: CardBrand
    public var totals: BatchTotals

    enum Keys: String, CodingKey { case brand }

    public init(from decoder: any Decoder) throws {
        brand = try decoder.container(keyedBy: Keys.self).decodeIfPresent(CardBrand.self, forKey: .brand) ?? ""
        totals = try BatchTotals(from: decoder)
    }
}

public struct HostTotals: Sendable, Hashable, Decodable {
    public var count: Int64
    public var amountCents: Int64

    enum Keys: String, CodingKey { case count, amount }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        count = try c.decodeLenientInt(.count) ?? 0
        amountCents = try c.decodeMinorUnits(.amount)
    }
}

public struct BatchAction: Sendable, Hashable, Decodable {
    public var type: String?
    public var resultCode: String?
    public var timeCreated: String?

    enum CodingKeys: String, CodingKey {
        case type
        case resultCode = "result_code", timeCreated = "time_created"
    }
}

struct CountAndAmount: Decodable {
    var count: Int64 = 0
    var amountCents: Int64 = 0

    init() {}

    enum Keys: String, CodingKey { case count, amount }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        count = try c.decodeLenientInt(.count) ?? 0
        amountCents = try c.decodeMinorUnits(.amount)
    }
}

/// A batch and the transactions in it, for the settlement journal.
public struct SettlementBatchDetail: Sendable, Hashable {
    public var batch: SettlementBatch
    public var transactions: [CardTransaction]

    public init(batch: SettlementBatch, transactions: [CardTransaction]) {
        self.batch = batch
        self.transactions = transactions
    }
}
