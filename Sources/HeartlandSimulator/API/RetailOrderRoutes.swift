import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// Heartland Retail `sales/orders`: customer orders and special orders (reference §3b: lines with
/// `item_id`, `qty`, `adjusted_unit_price`; status `open` on creation). Status moves only forward
/// (`SalesOrder.transitions`); any other change is a 422. An open order's lines can be edited (PUT `lines`: a line
/// keeping its `id` is changed, the others are new, the missing ones removed); `custom` fields can be written at any time.
struct RetailOrderRoutes {
    let context: HeartlandContext

    static let fields: [String: (column: String, kind: RetailQuery.Kind)] = [
        "id": ("id", .int), "public_id": ("publicId", .text), "status": ("status", .text), "customer_id": ("customerId", .int),
        "location_id": ("locationId", .int), "created_at": ("createdAt", .date), "updated_at": ("updatedAt", .date),
    ]

    func add(to table: inout RouteTable) {
        table.add("GET", "/api/sales/orders") { request in
            try await context.retail(request) {
                let query = try RetailQuery(request, fields: Self.fields)
                let (total, rows) = try await context.database.read { try query.fetch(SalesOrder.self, $0) }
                return .json(RetailRendering.page(rows.map(Self.render), total: total, paging: query.paging))
            }
        }
        table.add("GET", "/api/sales/orders/{id}") { request in
            try await context.retail(request) { .json(Self.render(try await context.database.read { try order($0, request) })) }
        }
        table.add("GET", "/api/sales/orders/{id}/lines") { request in
            try await context.retail(request) { .json(RetailRendering.wholePage(try await context.database.read { try order($0, request) }.lines.map(Self.line))) }
        }
        table.add("POST", "/api/sales/orders") { request in
            try await context.retail(request) {
                let body = try request.json()
                let now = context.clock.now()
                let created = try await context.database.write { db in try create(db, body, now: now) }
                return .json(Self.render(created), status: 201, headers: ["Location": "/api/sales/orders/\(created.id)"])
            }
        }
        table.add("PUT", "/api/sales/orders/{id}") { request in
            try await context.retail(request) {
                let body = try request.json()
                let now = context.clock.now()
                return .json(Self.render(try await context.database.write { db in
                    var record = try order(db, request)
                    if let status = body["status"]?.stringValue, status != record.status {
                        guard SalesOrder.transitions[record.status]?.contains(status) == true else {
                            throw RetailError.invalid("status", "cannot change from \(record.status) to \(status)")
                        }
                        record.status = status
                    }
                    if let customer = body["customer_id"] { record.customerId = customer.int64Value }
                    if let lines = body["lines"] {
                        guard record.status == "open" else { throw RetailError.invalid("lines", "cannot be changed on a \(record.status) order") }
                        record.lines = try Self.lines(db, lines, replacing: record.lines, orderId: record.id)
                    }
                    for (name, value) in body["custom"]?.objectValue ?? [:] { record.custom[name] = value.stringValue }
                    record.updatedAt = now
                    try record.update(db)
                    return record
                }))
            }
        }
    }

    private func create(_ db: Database, _ body: JSONValue, now: Date) throws -> SalesOrder {
        guard let locationId = body["location_id"]?.int64Value, try Location.exists(db, key: locationId) else {
            throw RetailError.invalid("location_id", "is required and must exist")
        }
        let customerId = body["customer_id"]?.int64Value
        if let customerId, try !Customer.exists(db, key: customerId) { throw RetailError.invalid("customer_id", "does not exist") }
        let id = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM sales_order") ?? 0) + 1
        let lines = try Self.lines(db, body["lines"] ?? .array([]), replacing: [], orderId: id)
        let publicId = body["public_id"]?.stringValue ?? String(format: "SO%06lld", id)
        if try SalesOrder.filter(Column("publicId") == publicId).fetchCount(db) > 0 {
            throw RetailError.invalid("public_id", "has already been taken")
        }
        let record = SalesOrder(id: id, publicId: publicId, status: "open", customerId: customerId, locationId: locationId, lines: lines,
                                custom: [:], createdAt: now, updatedAt: now)
        try record.insert(db)
        return record
    }

    /// An order's lines from a request: a line with the `id` of one of `existing` keeps that id (an edit), any other
    /// line gets a new one; the price defaults to the item's.
    static func lines(_ db: Database, _ body: JSONValue, replacing existing: [SalesOrderLine], orderId: Int64) throws -> [SalesOrderLine] {
        var nextId = max(existing.map(\.id).max() ?? 0, orderId * 100)
        var lines: [SalesOrderLine] = []
        for (index, line) in (body.arrayValue ?? []).enumerated() {
            guard let itemId = line["item_id"]?.int64Value, let qty = line["qty"]?.int64Value, qty > 0,
                  let item = try Item.fetchOne(db, key: itemId)
            else { throw RetailError.invalid("lines[\(index)]", "needs an existing item_id and a positive integer qty") }
            let price = line["adjusted_unit_price"].flatMap { Money.cents(fromDollars: $0) } ?? item.priceCents
            let id: Int64
            if let kept = line["id"]?.int64Value, existing.contains(where: { $0.id == kept }), !lines.contains(where: { $0.id == kept }) {
                id = kept
            } else {
                nextId += 1
                id = nextId
            }
            lines.append(SalesOrderLine(id: id, itemId: itemId, qty: qty, adjustedUnitPriceCents: price, description: item.description))
        }
        guard !lines.isEmpty else { throw RetailError.invalid("lines", "must not be empty") }
        return lines
    }

    private func order(_ db: Database, _ request: SimRequest) throws -> SalesOrder {
        guard let id = Int64(request.parameter("id")), let record = try SalesOrder.fetchOne(db, key: id) else {
            throw RetailError.notFound("Sales order")
        }
        return record
    }

    static func render(_ o: SalesOrder) -> JSONValue {
        let total = o.lines.reduce(Int64(0)) { $0 + $1.qty * $1.adjustedUnitPriceCents }
        return [
            "id": .int(o.id), "public_id": .string(o.publicId), "type": "CustomerOrder", "status": .string(o.status),
            "customer_id": o.customerId.map { .int($0) } ?? .null, "location_id": .int(o.locationId),
            "created_at": .string(Timestamps.iso8601(o.createdAt)), "updated_at": .string(Timestamps.iso8601(o.updatedAt)),
            "total": Money.dollars(total), "lines": .array(o.lines.map(line)),
            "custom": .object(o.custom.mapValues { .string($0) }),
        ]
    }

    static func line(_ l: SalesOrderLine) -> JSONValue {
        [
            "id": .int(l.id), "type": "ItemLine", "item_id": .int(l.itemId), "qty": .int(l.qty), "description": .string(l.description),
            "adjusted_unit_price": Money.dollars(l.adjustedUnitPriceCents),
            "value": Money.dollars(l.qty * l.adjustedUnitPriceCents),
        ]
    }
}
