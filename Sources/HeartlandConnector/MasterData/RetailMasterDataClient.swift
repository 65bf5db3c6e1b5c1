import Foundation
import Logging

/// Heartland Retail master data, read and written with the static API token: items
/// (`/api/items`), stock (`/api/inventory/values`, `/api/inventory/adjustment_sets`), customers and
/// their addresses (`/api/customers`), sales orders (`/api/sales/orders`). Creates answer 201 with a
/// `Location` header (reference §3a); errors are `HeartlandError` (429/5xx transient, 422 permanent).
public struct RetailMasterDataClient: Sendable {
    let retailBaseURL: URL
    let token: String
    let pageSize: Int
    let transport: HTTPTransport
    let logger: Logger

    /// - Parameters:
    ///   - retailBaseURL: Heartland Retail base including `/api`.
    ///   - token: the Retail API token (secret: from the environment or a file).
    public init(retailBaseURL: URL, token: String, pageSize: Int = 500, timeout: Duration = .seconds(30),
                connectionsPerHost: Int = 8, readRetries: Int = HeartlandConfiguration.defaultReadRetries, logger: Logger) {
        self.retailBaseURL = retailBaseURL
        self.token = token
        self.pageSize = max(1, min(pageSize, 5000))
        transport = HTTPTransport(timeout: timeout, connectionsPerHost: connectionsPerHost, readRetries: readRetries, logger: logger)
        self.logger = logger
    }

    public init(configuration: HeartlandConfiguration, logger: Logger) {
        self.init(retailBaseURL: configuration.retailBaseURL, token: configuration.retailToken, pageSize: configuration.retailPageSize,
                  timeout: configuration.requestTimeout, connectionsPerHost: configuration.connectionsPerHost,
                  readRetries: configuration.readRetries, logger: logger)
    }

    // MARK: items and stock

    public func item(publicId: String) async throws -> Item? {
        try await first("items", filter: ["public_id": publicId], what: "Retail item \(publicId)")
    }

    /// Items changed since `stamp` (every item for nil), for the reverse sync of Heartland-owned item fields and new items.
    public func items(updatedSince stamp: String?) async throws -> [Item] {
        try await all("items", try stamp.map { [("_filter", try Self.json(["updated_at": .object(["$gte": .string($0)])]))] } ?? [],
                      what: "Retail items")
    }

    public func item(id: Int64) async throws -> Item {
        try await get("items/\(id)", [], what: "Retail item \(id)")
    }

    public func createItem(_ fields: [String: RetailValue]) async throws -> Item {
        try await send("POST", "items", fields, what: "create Retail item")
    }

    public func updateItem(id: Int64, _ fields: [String: RetailValue]) async throws -> Item {
        try await send("PUT", "items/\(id)", fields, what: "update Retail item \(id)")
    }

    public func inventory(itemId: Int64, locationId: Int64) async throws -> InventoryValue? {
        let page: RetailPage<InventoryValue> = try await get(
            "inventory/values", [("item_id", String(itemId)), ("location_id", String(locationId))], what: "Retail stock of item \(itemId)")
        return page.results.first
    }

    /// One adjustment set: quantity deltas at one location, applied atomically by Heartland.
    public func adjustInventory(locationId: Int64, reason: String, lines: [(itemId: Int64, delta: Int64)]) async throws {
        let body: [String: RetailValue] = [
            "location_id": .int(locationId), "reason": .string(reason),
            "lines": .array(lines.map { .object(["item_id": .int($0.itemId), "qty": .int($0.delta)]) }),
        ]
        _ = try await sendRaw("POST", "inventory/adjustment_sets", body, what: "Retail stock adjustment at location \(locationId)")
    }

    // MARK: customers

    public func customer(publicId: String) async throws -> Customer? {
        try await first("customers", filter: ["public_id": publicId], what: "Retail customer \(publicId)")
    }

    public func customer(id: Int64) async throws -> Customer {
        try await get("customers/\(id)", [], what: "Retail customer \(id)")
    }

    public func customers(updatedSince stamp: String?) async throws -> [Customer] {
        try await all("customers", try stamp.map { [("_filter", try Self.json(["updated_at": .object(["$gte": .string($0)])]))] } ?? [],
                      what: "Retail customers")
    }

    public func allCustomers() async throws -> [Customer] { try await all("customers", [], what: "Retail customers") }

    public func createCustomer(_ fields: [String: RetailValue]) async throws -> Customer {
        try await send("POST", "customers", fields, what: "create Retail customer")
    }

    public func updateCustomer(id: Int64, _ fields: [String: RetailValue]) async throws -> Customer {
        try await send("PUT", "customers/\(id)", fields, what: "update Retail customer \(id)")
    }

    /// Phone numbers live on an address in Heartland Retail.
    public func addAddress(customerId: Int64, _ fields: [String: RetailValue]) async throws {
        _ = try await sendRaw("POST", "customers/\(customerId)/addresses", fields, what: "add address to Retail customer \(customerId)")
    }

    // MARK: sales orders

    public func orders(updatedSince stamp: String?) async throws -> [RetailOrder] {
        try await all("sales/orders", try stamp.map { [("_filter", try Self.json(["updated_at": .object(["$gte": .string($0)])]))] } ?? [],
                      what: "Retail sales orders")
    }

    public func order(publicId: String) async throws -> RetailOrder? {
        try await first("sales/orders", filter: ["public_id": publicId], what: "Retail sales order \(publicId)")
    }

    /// Sets an order's status and/or custom fields (nil: unchanged).
    public func updateOrder(id: Int64, status: String? = nil, custom: [String: String] = [:]) async throws -> RetailOrder {
        var fields: [String: RetailValue] = [:]
        if let status { fields["status"] = .string(status) }
        if !custom.isEmpty { fields["custom"] = .object(custom.mapValues { .string($0) }) }
        return try await send("PUT", "sales/orders/\(id)", fields, what: "update Retail sales order \(id)")
    }

    // MARK: requests

    private func first<T: Decodable & Sendable>(_ path: String, filter: [String: String], what: String) async throws -> T? {
        let page: RetailPage<T> = try await get(path, [("_filter", try Self.json(filter.mapValues { .string($0) })), ("per_page", "2")], what: what)
        return page.results.first
    }

    private func all<T: Decodable & Sendable>(_ path: String, _ parameters: [(String, String)], what: String) async throws -> [T] {
        var results: [T] = []
        var page = 1
        let size = pageSize
        while true {
            let answer: RetailPage<T> = try await get(path, parameters + [("page", String(page)), ("per_page", String(size))],
                                                      what: "\(what) page \(page)")
            results += answer.results
            let more = answer.pages.map { page < $0 } ?? (answer.results.count == size)
            guard more, page < 100_000 else { return results }
            page += 1
        }
    }

    private func get<T: Decodable>(_ path: String, _ parameters: [(String, String)], what: String) async throws -> T {
        let answer = try await transport.send("GET", URLSessionHeartlandClient.url(retailBaseURL, path, parameters),
                                              headers: headers, what: what)
        return try decode(try answer.checkedBody(what: what, logger: logger), what: what)
    }

    private func send<T: Decodable>(_ method: String, _ path: String, _ fields: [String: RetailValue], what: String) async throws -> T {
        try decode(try await sendRaw(method, path, fields, what: what), what: what)
    }

    private func sendRaw(_ method: String, _ path: String, _ fields: [String: RetailValue], what: String) async throws -> Data {
        let body = try JSONEncoder().encode(fields)
        let answer = try await transport.send(method, URLSessionHeartlandClient.url(retailBaseURL, path, []),
                                              headers: headers.merging(["Content-Type": "application/json"]) { $1 }, body: body, what: what)
        let data = try answer.checkedBody(what: what, logger: logger)
        logger.debug("heartland write", metadata: ["request": "\(what)", "status": "\(answer.status)"])
        return data
    }

    private var headers: [String: String] { ["Authorization": "Bearer \(token)", "Accept": "application/json"] }

    private func decode<T: Decodable>(_ body: Data, what: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: body) } catch {
            throw HeartlandError.invalidResponse("\(what): \(URLSessionHeartlandClient.describe(error))")
        }
    }

    /// A `_filter` as JSON. It throws rather than send `{}`, which Heartland reads as no filter at all.
    static func json(_ object: [String: RetailValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }
}

/// A JSON value for Retail request bodies (amounts as exact decimals).
public enum RetailValue: Sendable, Hashable, Encodable {
    case string(String), int(Int64), decimal(Decimal), bool(Bool), null
    case array([RetailValue]), object([String: RetailValue])

    public static func dollars(cents: Int64) -> RetailValue { .decimal(RetailAmount.decimal(cents: cents)) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .decimal(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
