import Foundation
import GRDB

public struct Customer: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "customer"
    public var id: Int64
    public var publicId: String
    public var firstName: String
    public var lastName: String
    public var email: String?
    public var active: Bool
    /// Phone numbers live on addresses, as in Heartland Retail.
    public var addresses: [CustomerAddress]
    public var createdAt: Date
    public var updatedAt: Date
}

public struct CustomerAddress: Codable, Sendable, Equatable {
    public var id: Int64
    public var firstName: String?
    public var lastName: String?
    public var address1: String?
    public var address2: String?
    public var city: String?
    public var state: String?
    public var zip: String?
    public var country: String?
    public var phone: String?
}

public struct Item: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "item"
    public var id: Int64
    public var publicId: String
    public var description: String
    public var longDescription: String?
    public var priceCents: Int64
    public var originalPriceCents: Int64
    public var costCents: Int64
    public var active: Bool
    public var taxable: Bool
    public var updatedAt: Date
}

public struct InventoryValue: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "inventory_value"
    public var itemId: Int64
    public var locationId: Int64
    public var qtyOnHand: Int64
    public var qtyCommitted: Int64
    public var unitCostCents: Int64
    public var updatedAt: Date
}
