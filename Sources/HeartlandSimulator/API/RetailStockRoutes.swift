import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// Items, `inventory/values` per item and location, and stock adjustments.
struct RetailStockRoutes {
    let context: HeartlandContext

    func add(to table: inout RouteTable) {
        table.add("GET", "/api/items") { request in
            try await context.retail(request) {
                let query = try RetailQuery(request, fields: RetailCatalogRoutes.itemFields)
                let (total, rows) = try await context.database.read { try query.fetch(Item.self, $0) }
                return .json(RetailRendering.page(rows.map(RetailRendering.item), total: total, paging: query.paging))
            }
        }
        table.add("GET", "/api/items/{id}") { request in
            try await context.retail(request) { .json(RetailRendering.item(try await context.database.read { try item($0, request.parameter("id")) })) }
        }
        table.add("POST", "/api/items") { request in
            try await context.retail(request) {
                let body = try request.json()
                let now = context.clock.now()
                let created = try await context.database.write { db in
                    let id = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM item") ?? 0) + 1
                    var record = Item(
                        id: id, publicId: body["public_id"]?.stringValue ?? String(id), description: "", longDescription: nil,
                        priceCents: 0, originalPriceCents: 0, costCents: 0, active: true, taxable: true, updatedAt: now)
                    try Self.apply(body, to: &record, creating: true)
                    try record.insert(db)
                    return record
                }
                return .json(RetailRendering.item(created), status: 201, headers: ["Location": "/api/items/\(created.id)"])
            }
        }
        table.add("PUT", "/api/items/{id}") { request in
            try await context.retail(request) {
                let body = try request.json()
                let now = context.clock.now()
                return .json(RetailRendering.item(try await context.database.write { db in
                    var record = try item(db, request.parameter("id"))
                    try Self.apply(body, to: &record, creating: false)
                    record.updatedAt = now
                    try record.update(db)
                    return record
                }))
            }
        }
        table.add("GET", "/api/inventory/values") { request in
            try await context.retail(request) {
                let query = try RetailQuery(request, fields: RetailCatalogRoutes.inventoryFields, defaultSort: "itemId, locationId")
                let (total, rows) = try await context.database.read { try query.fetch(InventoryValue.self, $0) }
                return .json(RetailRendering.page(rows.map(RetailRendering.inventory), total: total, paging: query.paging))
            }
        }
        table.add("POST", "/api/inventory/adjustment_sets") { request in try await context.retail(request) { try await adjust(request) } }
    }

    /// `{location_id, reason, lines: [{item_id, qty (delta), unit_cost?}]}`, applied atomically.
    private func adjust(_ request: SimRequest) async throws -> SimResponse {
        let body = try request.json()
        guard let locationId = body["location_id"]?.int64Value else { throw RetailError.invalid("location_id", "is required") }
        guard let lines = body["lines"]?.arrayValue, !lines.isEmpty else { throw RetailError.invalid("lines", "must not be empty") }
        let now = context.clock.now()
        let values: [InventoryValue] = try await context.database.write { db in
            guard try Location.exists(db, key: locationId) else { throw RetailError.invalid("location_id", "does not exist") }
            return try lines.enumerated().map { index, line in
                guard let itemId = line["item_id"]?.int64Value, let qty = line["qty"]?.int64Value else {
                    throw RetailError.invalid("lines[\(index)]", "needs item_id and an integer qty")
                }
                let record = try item(db, String(itemId))
                var value = try InventoryValue.fetchOne(db, key: ["itemId": itemId, "locationId": locationId])
                    ?? InventoryValue(itemId: itemId, locationId: locationId, qtyOnHand: 0, qtyCommitted: 0,
                        unitCostCents: record.costCents, updatedAt: now)
                value.qtyOnHand += qty
                if let cost = Money.cents(fromDollars: line["unit_cost"]) { value.unitCostCents = cost }
                value.updatedAt = now
                try value.save(db)
                return value
            }
        }
        return .json([
            "location_id": .int(locationId), "reason": body["reason"] ?? .null, "status": "complete",
            "created_at": .string(Timestamps.iso8601(now)), "values": .array(values.map(RetailRendering.inventory)),
        ], status: 201)
    }

    private func item(_ db: Database, _ idText: String) throws -> Item {
        guard let id = Int64(idText), let record = try Item.fetchOne(db, key: id) else { throw RetailError.notFound("Item \(idText)") }
        return record
    }

    static func apply(_ body: JSONValue, to record: inout Item, creating: Bool) throws {
        if let description = body["description"]?.stringValue { record.description = description }
        if creating, record.description.isEmpty { throw RetailError.invalid("description", "is required") }
        if let text = body["long_description"] { record.longDescription = text.stringValue }
        for (field, apply) in [
            ("price", { (c: Int64, r: inout Item) in r.priceCents = c; if creating { r.originalPriceCents = c } }),
            ("original_price", { (c: Int64, r: inout Item) in r.originalPriceCents = c }),
            ("cost", { (c: Int64, r: inout Item) in r.costCents = c }),
        ] {
            guard let value = body[field] else { continue }
            guard let cents = Money.cents(fromDollars: value), cents >= 0 else {
                throw RetailError.invalid(field, "must be a non-negative amount with at most two decimals")
            }
            apply(cents, &record)
        }
        if let active = body["active"]?.boolValue { record.active = active }
        if let taxable = body["taxable"]?.boolValue { record.taxable = taxable }
    }
}
