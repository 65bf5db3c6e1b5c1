import Foundation

/// A Heartland Retail sales order (`sales/orders`): a customer order or special order taken at the
/// POS and fulfilled later. Status: `open` → `shipped` → `invoiced` (or `cancelled` while open); an open order's
/// lines can be edited. `custom` holds the merchant's custom fields (the bridge writes `sage_fulfilment` there).
public struct RetailOrder: Sendable, Hashable, Decodable {
    public var id: Int64
    public var publicId: String
    public var status: String
    public var customerId: Int64?
    public var locationId: Int64?
    public var createdAt: String?
    public var updatedAt: String?
    public var lines: [RetailOrderLine]
    public var custom: [String: String]

    /// The custom field where the bridge shows what Sage has shipped of the order.
    public static let fulfilmentField = "sage_fulfilment"

    enum CodingKeys: String, CodingKey {
        case id, status, lines, custom
        case publicId = "public_id", customerId = "customer_id", locationId = "location_id"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        publicId = try c.decodeIfPresent(String.self, forKey: .publicId) ?? String(id)
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? "open"
        customerId = try c.decodeIfPresent(Int64.self, forKey: .customerId)
        locationId = try c.decodeIfPresent(Int64.self, forKey: .locationId)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt)
        lines = try c.decodeIfPresent([RetailOrderLine].self, forKey: .lines) ?? []
        custom = (try? c.decodeIfPresent([String: String].self, forKey: .custom)) ?? [:]
    }
}

public struct RetailOrderLine: Sendable, Hashable, Decodable {
    public var id: Int64?
    public var itemId: Int64
    public var qty: Int64
    /// `adjusted_unit_price` in cents (Heartland sends dollars as JSON decimals).
    public var unitPriceCents: Int64
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case id, itemId = "item_id", qty, description
        case adjustedUnitPrice = "adjusted_unit_price", unitPrice = "unit_price"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(Int64.self, forKey: .id)
        itemId = try c.decode(Int64.self, forKey: .itemId)
        qty = try c.decode(Int64.self, forKey: .qty)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        let price = try c.decodeIfPresent(Decimal.self, forKey: .adjustedUnitPrice) ?? c.decodeIfPresent(Decimal.self, forKey: .unitPrice)
        guard let price, let cents = RetailAmount.cents(price) else {
            throw DecodingError.dataCorruptedError(forKey: .adjustedUnitPrice, in: c, debugDescription: "order line price missing or not whole cents")
        }
        unitPriceCents = cents
    }
}

/// Dollars as JSON decimals ⇄ Int64 cents, through decimal text (never `Double`).
public enum RetailAmount {
    public static func cents(_ amount: Decimal) -> Int64? {
        var value = amount * 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .plain)
        guard rounded == value, let cents = Int64(exactly: NSDecimalNumber(decimal: rounded).int64Value),
              Decimal(cents) == rounded else { return nil }
        return cents
    }

    /// `1999` → the exact decimal 19.99 for a JSON body.
    public static func decimal(cents: Int64) -> Decimal {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return Decimal(string: "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)", locale: Locale(identifier: "en_US_POSIX"))!
    }
}
