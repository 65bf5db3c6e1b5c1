import Foundation
import GRDB
import SimulatorKit

/// Heartland Retail customers, items and inventory, with the write endpoints the reverse sync uses.
/// Creates answer 201 with a `Location` header and the record.
struct RetailCatalogRoutes {
    let context: HeartlandContext

    static let customerFields: [String: (column: String, kind: RetailQuery.Kind)] = [
        "id": ("id", .int), "public_id": ("publicId", .text), "email": ("email", .text), "first_name": ("firstName", .text),
        "last_name": ("lastName", .text), "active": ("active", .bool), "updated_at": ("updatedAt", .date),
    ]
    static let itemFields: [String: (column: String, kind: RetailQuery.Kind)] = [
        "id": ("id", .int), "public_id": ("publicId", .text), "description": ("description", .text),
        "active": ("active", .bool), "updated_at": ("updatedAt", .date),
    ]
    static let inventoryFields: [String: (column: String, kind: RetailQuery.Kind)] = [
        "item_id": ("itemId", .int), "location_id": ("locationId", .int), "updated_at": ("updatedAt", .date),
    ]

    func add(to table: inout RouteTable) {
        table.add("GET", "/api/customers") { request in
            try await context.retail(request) {
                let query = try RetailQuery(request, fields: Self.customerFields)
                let (total, rows) = try await context.database.read { try query.fetch(Customer.self, $0) }
                return .json(RetailRendering.page(rows.map(RetailRendering.customer), total: total, paging: query.paging))
            }
        }
        table.add("GET", "/api/customers/{id}") { request in
            try await context.retail(request) { .json(RetailRendering.customer(try await context.database.read { try customer($0, request) })) }
        }
        table.add("GET", "/api/customers/{id}/addresses") { request in
            try await context.retail(request) {
                .json(RetailRendering.wholePage(try await context.database.read { try customer($0, request) }.addresses.map(RetailRendering.address)))
            }
        }
        table.add("POST", "/api/customers") { request in
            try await context.retail(request) {
                let body = try request.json()
                let now = context.clock.now()
                let created = try await context.database.write { db in
                    let id = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM customer") ?? 0) + 1
                    var record = Customer(
                        id: id, publicId: body["public_id"]?.stringValue ?? String(format: "C%05lld", id), firstName: "",
                        lastName: "", email: nil, active: true, addresses: [], createdAt: now, updatedAt: now)
                    try Self.apply(body, to: &record, requireNames: true)
                    for address in body["addresses"]?.arrayValue ?? [] { record.addresses.append(Self.address(address, id: Int64(record.addresses.count + 1) + id * 100)) }
                    try record.insert(db)
                    return record
                }
                return .json(RetailRendering.customer(created), status: 201, headers: ["Location": "/api/customers/\(created.id)"])
            }
        }
        table.add("PUT", "/api/customers/{id}") { request in
            try await context.retail(request) {
                let body = try request.json()
                let now = context.clock.now()
                return .json(RetailRendering.customer(try await context.database.write { db in
                    var record = try customer(db, request)
                    try Self.apply(body, to: &record, requireNames: false)
                    record.updatedAt = now
                    try record.update(db)
                    return record
                }))
            }
        }
        table.add("POST", "/api/customers/{id}/addresses") { request in
            try await context.retail(request) {
                let body = try request.json()
                let now = context.clock.now()
                let address: CustomerAddress = try await context.database.write { db in
                    var record = try customer(db, request)
                    let address = Self.address(body, id: record.id * 100 + Int64(record.addresses.count + 1))
                    record.addresses.append(address)
                    record.updatedAt = now
                    try record.update(db)
                    return address
                }
                return .json(RetailRendering.address(address), status: 201,
                    headers: ["Location": "/api/customers/\(request.parameter("id"))/addresses/\(address.id)"])
            }
        }
        RetailStockRoutes(context: context).add(to: &table)
    }

    private func customer(_ db: Database, _ request: SimRequest) throws -> Customer {
        guard let id = Int64(request.parameter("id")), let record = try Customer.fetchOne(db, key: id) else {
            throw RetailError.notFound("Customer")
        }
        return record
    }

    static func apply(_ body: JSONValue, to record: inout Customer, requireNames: Bool) throws {
        if let first = body["first_name"]?.stringValue { record.firstName = first }
        if let last = body["last_name"]?.stringValue { record.lastName = last }
        if let email = body["email"] { record.email = email.stringValue }
        if let active = body["active"]?.boolValue { record.active = active }
        if requireNames, record.firstName.isEmpty && record.lastName.isEmpty {
            throw RetailError.invalid("first_name", "or last_name is required")
        }
        if let email = record.email, !email.isEmpty, !email.contains("@") { throw RetailError.invalid("email", "is invalid") }
    }

    static func address(_ body: JSONValue, id: Int64) -> CustomerAddress {
        CustomerAddress(
            id: id, firstName: body["first_name"]?.stringValue, lastName: body["last_name"]?.stringValue,
            address1: body["address_1"]?.stringValue, address2: body["address_2"]?.stringValue,
            city: body["city"]?.stringValue, state: body["state"]?.stringValue, zip: body["zip"]?.stringValue,
            country: body["country"]?.stringValue, phone: body["phone"]?.stringValue)
    }
}
