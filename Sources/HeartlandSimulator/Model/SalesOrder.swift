import Foundation
import GRDB

/// A Heartland Retail sales order (customer order / special order): taken at the POS, fulfilled later.
public struct SalesOrder: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sales_order"
    public var id: Int64
    public var publicId: String
    public var status: String
    public var customerId: Int64?
    public var locationId: Int64
    public var lines: [SalesOrderLine]
    /// Custom fields (`custom@<name>` in filters; `custom` in the JSON): free text an integration may write, such as
    /// the bridge's note of what Sage has shipped.
    public var custom: [String: String]
    public var createdAt: Date
    public var updatedAt: Date

    /// `open` → `shipped` → `invoiced`; `open` → `invoiced` (picked up and billed at once); `open` → `cancelled`.
    public static let transitions: [String: Set<String>] = [
        "open": ["shipped", "invoiced", "cancelled"], "shipped": ["invoiced"], "invoiced": [], "cancelled": [],
    ]
}

public struct SalesOrderLine: Codable, Sendable, Equatable {
    public var id: Int64
    public var itemId: Int64
    public var qty: Int64
    public var adjustedUnitPriceCents: Int64
    public var description: String
}

extension HeartlandDatabase {
    static func registerOrderMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("heartland-v2-sales-orders") { db in
            try db.create(table: "sales_order") { t in
                t.primaryKey("id", .integer)
                t.column("publicId", .text).notNull().unique()
                t.column("status", .text).notNull()
                t.column("customerId", .integer)
                t.column("locationId", .integer).notNull()
                t.column("lines", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull().indexed()
            }
        }
    }

    static func registerOrderCustomFieldsMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("heartland-v5-order-custom-fields") { db in
            try db.alter(table: "sales_order") { t in t.add(column: "custom", .text).notNull().defaults(to: "{}") }
        }
    }
}
