import Foundation
import HeartlandWire

/// A GP-API card transaction (`GET /ucp/transactions`, refund webhooks). Amounts are cents;
/// `amountCents` includes the tip. Card data is reduced to what the pipeline may hold.
public struct CardTransaction: Sendable, Hashable, Decodable {
    public var id: String
    public var timeCreated: String
    /// The location-local rendering of `timeCreated` (`time_created_reference`), when sent.
    public var timeCreatedLocal: String?
    public var type: TransactionType
    public var status: TransactionStatus
    public var channel: String?
    public var amountCents: Int64
    public var gratuityCents: Int64
    public var currency: String
    /// The merchant's reference: the Retail ticket number for POS sales.
    public var reference: String?
    public var description: String?
    public var batchId: String?
    /// For a refund, the sale it refunds.
    public var parentResourceId: String?
    public var locationId: Int64?
    public var merchantId: String?
    public var deviceId: String?
    public var entryMode: String?
    public var resultCode: String?
    public var card: CardSummary?

    enum Keys: String, CodingKey {
        case id, type, status, channel, amount, currency, reference, description, system
        case timeCreated = "time_created", timeCreatedReference = "time_created_reference"
        case gratuityAmount = "gratuity_amount", batchId = "batch_id", parentResourceId = "parent_resource_id"
        case locationId = "location_id", paymentMethod = "payment_method"
    }

    enum SystemKeys: String, CodingKey { case mid, tid }
    enum PaymentMethodKeys: String, CodingKey {
        case result, card, id
        case entryMode = "entry_mode"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decodeLenientString(.id) ?? ""
        timeCreated = try c.decodeLenientString(.timeCreated) ?? ""
        timeCreatedLocal = try c.decodeLenientString(.timeCreatedReference)
        type = try c.decodeIfPresent(TransactionType.self, forKey: .type) ?? ""
        status = try c.decodeIfPresent(TransactionStatus.self, forKey: .status) ?? ""
        channel = try c.decodeLenientString(.channel)
        amountCents = try c.decodeMinorUnits(.amount, defaultZero: false)
        gratuityCents = try c.decodeMinorUnits(.gratuityAmount)
        currency = try c.decodeLenientString(.currency) ?? ""
        reference = try c.decodeLenientString(.reference)
        description = try c.decodeLenientString(.description)
        batchId = try c.decodeLenientString(.batchId).flatMap { $0.isEmpty ? nil : $0 }
        parentResourceId = try c.decodeLenientString(.parentResourceId).flatMap { $0.isEmpty ? nil : $0 }
        locationId = try c.decodeLenientInt(.locationId)
        if c.contains(.system), try !c.decodeNil(forKey: .system) {
            let system = try c.nestedContainer(keyedBy: SystemKeys.self, forKey: .system)
            merchantId = try system.decodeLenientString(.mid)
            deviceId = try system.decodeLenientString(.tid)
        }
        if c.contains(.paymentMethod), try !c.decodeNil(forKey: .paymentMethod) {
            let method = try c.nestedContainer(keyedBy: PaymentMethodKeys.self, forKey: .paymentMethod)
            entryMode = try method.decodeLenientString(.entryMode)
            resultCode = try method.decodeLenientString(.result)
            var card = try method.decodeIfPresent(CardSummary.self, forKey: .card)
            if card?.token == nil { card?.token = try method.decodeLenientString(.id) }
            self.card = card
        }
    }

    /// The tip-free sale amount.
    public var amountExcludingGratuityCents: Int64 { amountCents - gratuityCents }
}

/// All the card data the bridge may hold (ARCHITECTURE.md): brand, first six, last four, a token,
/// and the authorization references. A full number in `masked_number_first6last4` is reduced
/// to its first six and last four here and never stored.
public struct CardSummary: Sendable, Hashable, Decodable {
    public var brand: CardBrand
    public var first6: String?
    public var last4: String?
    public var token: String?
    public var authCode: String?
    public var brandReference: String?

    enum Keys: String, CodingKey {
        case brand, token, authcode
        case masked = "masked_number_first6last4", first6 = "number_first6", last4 = "number_last4"
        case brandReference = "brand_reference"
    }

    public init(brand: CardBrand, first6: String?, last4: String?, token: String? = nil, authCode: String? = nil, brandReference: String? = nil) {
        self.brand = brand
        self.first6 = first6
        self.last4 = last4
        self.token = token
        self.authCode = authCode
        self.brandReference = brandReference
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        brand = try c.decodeIfPresent(CardBrand.self, forKey: .brand) ?? ""
        let masked = try c.decodeLenientString(.masked)
        let parts: (first6: String?, last4: String?) = masked.map(CardDataGuard.firstSixLastFour) ?? (nil, nil)
        first6 = try c.decodeLenientString(.first6) ?? parts.first6
        last4 = try c.decodeLenientString(.last4) ?? parts.last4
        token = try c.decodeLenientString(.token)
        authCode = try c.decodeLenientString(.authcode)
        brandReference = try c.decodeLenientString(.brandReference)
    }
}

/// A transaction of a list decoded on its own (the gateway feed): `transaction` is nil when Heartland served this
/// one malformed, and `id` (when readable) and `problem` say which and why, so the others are not lost with it.
public struct ListedTransaction: Sendable, Decodable {
    public var transaction: CardTransaction?
    public var id: String?
    public var problem: String?

    public init(transaction: CardTransaction) {
        self.transaction = transaction
        id = transaction.id
    }

    public init(from decoder: any Decoder) throws {
        do {
            let decoded = try CardTransaction(from: decoder)
            transaction = decoded
            id = decoded.id
        } catch {
            let c = try? decoder.container(keyedBy: AnyKey.self)
            id = try? c?.decodeLenientString(AnyKey("id"))
            problem = "\(error)"
        }
    }
}
