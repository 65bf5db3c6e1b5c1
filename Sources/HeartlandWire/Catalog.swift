import Foundation

/// A Heartland Retail customer; the phone lives on an address.
public struct Customer: Sendable, Hashable, Decodable {
    public var id: Int64
    public var publicId: String
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var active: Bool?
    public var createdAt: String?
    public var updatedAt: String?
    public var addresses: [CustomerAddress]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientInt(c["id"]) ?? 0
        publicId = try c.decodeLenientString(c["public_id"]) ?? ""
        firstName = try c.decodeLenientString(c["first_name"])
        lastName = try c.decodeLenientString(c["last_name"])
        email = try c.decodeLenientString(c["email"])
        active = try c.decodeLenientBool(c["active"])
        createdAt = try c.decodeLenientString(c["created_at"])
        updatedAt = try c.decodeLenientString(c["updated_at"])
        addresses = try c.decodeArray(CustomerAddress.self, c["addresses"])
    }
}

public struct CustomerAddress: Sendable, Hashable, Decodable {
    public var id: Int64?
    public var address1: String?
    public var address2: String?
    public var city: String?
    public var state: String?
    public var zip: String?
    public var country: String?
    public var phone: String?

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientInt(c["id"])
        address1 = try c.decodeLenientString(c["address_1"]) ?? c.decodeLenientString(c["address1"])
        address2 = try c.decodeLenientString(c["address_2"]) ?? c.decodeLenientString(c["address2"])
        city = try c.decodeLenientString(c["city"])
        state = try c.decodeLenientString(c["state"])
        zip = try c.decodeLenientString(c["zip"])
        country = try c.decodeLenientString(c["country"])
        phone = try c.decodeLenientString(c["phone"])
    }
}

/// A Heartland Retail item (prices in cents).
public struct Item: Sendable, Hashable, Decodable {
    public var id: Int64
    public var publicId: String
    public var description: String?
    public var longDescription: String?
    public var priceCents: Int64
    public var originalPriceCents: Int64?
    public var costCents: Int64?
    public var active: Bool?
    public var taxable: Bool?
    public var updatedAt: String?

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientInt(c["id"]) ?? 0
        publicId = try c.decodeLenientString(c["public_id"]) ?? ""
        description = try c.decodeLenientString(c["description"])
        longDescription = try c.decodeLenientString(c["long_description"])
        priceCents = try c.decodeDollars(c["price"])
        originalPriceCents = try c.decodeOptionalDollars(c["original_price"])
        costCents = try c.decodeOptionalDollars(c["cost"])
        active = try c.decodeLenientBool(c["active"])
        taxable = try c.decodeLenientBool(c["taxable"])
        updatedAt = try c.decodeLenientString(c["updated_at"])
    }
}

/// Stock of one item at one location (`GET /api/inventory/values`).
public struct InventoryValue: Sendable, Hashable, Decodable {
    public var itemId: Int64
    public var locationId: Int64
    public var qtyOnHand: Int64
    public var qtyCommitted: Int64
    public var qtyAvailable: Int64
    public var unitCostCents: Int64?
    public var updatedAt: String?

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        itemId = try c.decodeLenientInt(c["item_id"]) ?? 0
        locationId = try c.decodeLenientInt(c["location_id"]) ?? 0
        qtyOnHand = try c.decodeLenientInt(c["qty_on_hand"]) ?? 0
        qtyCommitted = try c.decodeLenientInt(c["qty_committed"]) ?? 0
        qtyAvailable = try c.decodeLenientInt(c["qty_available"]) ?? (qtyOnHand - qtyCommitted)
        unitCostCents = try c.decodeOptionalDollars(c["unit_cost"])
        updatedAt = try c.decodeLenientString(c["updated_at"])
    }
}

/// A Heartland Retail location (`GET /api/locations`): a store, with the time zone its business day is kept in.
public struct Location: Sendable, Hashable, Decodable {
    public var id: Int64
    public var publicId: String
    public var name: String?
    /// IANA time zone, e.g. `America/New_York`.
    public var timeZone: String?

    public init(id: Int64, publicId: String, name: String? = nil, timeZone: String? = nil) {
        self.id = id
        self.publicId = publicId
        self.name = name
        self.timeZone = timeZone
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientInt(c["id"]) ?? 0
        publicId = try c.decodeLenientString(c["public_id"]) ?? ""
        name = try c.decodeLenientString(c["name"])
        timeZone = try c.decodeLenientString(c["time_zone"])
    }
}
