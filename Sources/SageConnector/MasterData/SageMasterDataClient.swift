import Foundation
import Logging

/// Sage 300 master data over the Web API: AR customers, IC items, price-list prices and stock per
/// location (read), OE sales orders (read and create). Every error is a `SageError`, classified like
/// the GL calls (409 → `.duplicateReference`, 429/5xx transient).
public struct SageMasterDataClient: Sendable {
    let api: SageWebAPIClient

    public init(connection: SageConnection, logger: Logger) {
        api = SageWebAPIClient(connection: connection, logger: logger)
    }

    var transport: SageHTTPTransport { api.transport }

    /// `DateLastMaintained ge '<stamp>'`: `ge`, not `gt`, so that a record written in the same
    /// millisecond as the last one seen is not missed; the caller drops what it already has.
    static func since(_ field: String, _ stamp: String?) -> String? {
        stamp.map { "\(field) ge \(ODataQuery.literal($0))" }
    }

    // MARK: AR customers

    public func customers(changedSince stamp: String?) async throws(SageError) -> [SageCustomer] {
        try await api.list("AR/ARCustomers", filter: Self.since("DateLastMaintained", stamp))
    }

    public func customer(number: String) async throws(SageError) -> SageCustomer? {
        let rows: [SageCustomer] = try await api.list("AR/ARCustomers", filter: "CustomerNumber eq \(ODataQuery.literal(number))")
        return rows.first
    }

    public func createCustomer(_ fields: [String: String]) async throws(SageError) -> SageCustomer {
        let answer = try await transport.send("POST", "AR/ARCustomers", body: try Self.encode(fields))
        return try transport.decode(SageCustomer.self, from: answer, what: "created customer")
    }

    public func updateCustomer(number: String, _ fields: [String: String]) async throws(SageError) -> SageCustomer {
        let answer = try await transport.send("PATCH", "AR/ARCustomers(\(ODataQuery.keyLiteral(number)))", body: try Self.encode(fields))
        return try transport.decode(SageCustomer.self, from: answer, what: "customer \(number)")
    }

    // MARK: IC items, prices, stock

    public func items(changedSince stamp: String?) async throws(SageError) -> [SageItem] {
        try await api.list("IC/ICItems", filter: Self.since("DateLastMaintained", stamp))
    }

    public func item(number: String) async throws(SageError) -> SageItem? {
        let rows: [SageItem] = try await api.list("IC/ICItems", filter: "ItemNumber eq \(ODataQuery.literal(number))")
        return rows.first
    }

    public func createItem(_ fields: [String: String]) async throws(SageError) -> SageItem {
        let answer = try await transport.send("POST", "IC/ICItems", body: try Self.encode(fields))
        return try transport.decode(SageItem.self, from: answer, what: "created item")
    }

    public func updateItem(number: String, _ fields: [String: String]) async throws(SageError) -> SageItem {
        let answer = try await transport.send("PATCH", "IC/ICItems(\(ODataQuery.keyLiteral(number)))", body: try Self.encode(fields))
        return try transport.decode(SageItem.self, from: answer, what: "item \(number)")
    }

    /// Sets an item's base price in a price list: PATCH when it has one, POST when it has none.
    public func setPrice(itemNumber: String, priceList: String, currency: String, cents: Int64) async throws(SageError) {
        struct Price: Encodable {
            var ItemNumber: String?, PriceListCode: String?, CurrencyCode: String?
            var BasePrice: Decimal
        }
        let price = SageAmount.decimal(cents: cents)
        if try await prices(priceList: priceList, currency: currency, changedSince: nil, itemNumber: itemNumber).isEmpty {
            let body = try Self.encode(Price(ItemNumber: itemNumber, PriceListCode: priceList, CurrencyCode: currency, BasePrice: price))
            _ = try await transport.send("POST", "IC/ICItemPricing", body: body)
        } else {
            let key = "CurrencyCode=\(ODataQuery.keyLiteral(currency)),ItemNumber=\(ODataQuery.keyLiteral(itemNumber)),"
                + "PriceListCode=\(ODataQuery.keyLiteral(priceList))"
            _ = try await transport.send("PATCH", "IC/ICItemPricing(\(key))", body: try Self.encode(Price(BasePrice: price)))
        }
    }

    /// Prices of one price list and currency changed since `stamp`.
    public func prices(priceList: String, currency: String, changedSince stamp: String?, itemNumber: String? = nil)
        async throws(SageError) -> [SageItemPrice]
    {
        var filter = "PriceListCode eq \(ODataQuery.literal(priceList)) and CurrencyCode eq \(ODataQuery.literal(currency))"
        if let since = Self.since("DateLastMaintained", stamp) { filter += " and \(since)" }
        if let itemNumber { filter += " and ItemNumber eq \(ODataQuery.literal(itemNumber))" }
        let rows: [SageItemPriceWire] = try await api.list("IC/ICItemPricing", filter: filter)
        var prices: [SageItemPrice] = []
        for row in rows {
            guard let cents = SageAmount.cents(row.BasePrice) else {
                throw .unavailable(.malformedResponse("price \(row.BasePrice) of item \(row.ItemNumber) is not whole cents"))
            }
            prices.append(SageItemPrice(itemNumber: row.ItemNumber, priceListCode: row.PriceListCode,
                                        currencyCode: row.CurrencyCode ?? currency, basePriceCents: cents,
                                        dateLastMaintained: row.DateLastMaintained))
        }
        return prices
    }

    public func locationDetails(changedSince stamp: String?) async throws(SageError) -> [SageLocationDetail] {
        try await api.list("IC/ICLocationDetails", filter: Self.since("DateLastMaintained", stamp))
    }

    // MARK: OE orders

    public func orders(changedSince stamp: String?, numberPrefix: String) async throws(SageError) -> [SageOrder] {
        var filter = "startswith(OrderNumber,\(ODataQuery.literal(numberPrefix)))"
        if let since = Self.since("DateLastEdited", stamp) { filter += " and \(since)" }
        return try await api.list("OE/OEOrders", filter: filter)
    }

    public func order(number: String) async throws(SageError) -> SageOrder? {
        let rows: [SageOrder] = try await api.list("OE/OEOrders", filter: "OrderNumber eq \(ODataQuery.literal(number))")
        return rows.first
    }

    /// Creates the order; Sage refuses a second order with the same `OrderNumber` (409).
    public func createOrder(_ order: SageOrder) async throws(SageError) -> SageOrder {
        let body: Data
        do { body = try JSONEncoder().encode(order) } catch {
            throw .validation(message: "order \(order.OrderNumber) could not be encoded: \(error)", account: nil)
        }
        let answer = try await transport.send("POST", "OE/OEOrders", body: body)
        return try transport.decode(SageOrder.self, from: answer, what: "created order \(order.OrderNumber)")
    }

    /// Replaces an order's lines: a line with a `LineNumber` changes that line, a line without one is added, and a
    /// line left out is removed. Sage refuses to go below what a line has shipped.
    public func updateOrderLines(uniquifier: Int64, _ lines: [SageOrderLine]) async throws(SageError) -> SageOrder {
        struct Patch: Encodable { var OrderDetails: [SageOrderLine] }
        let answer = try await transport.send("PATCH", "OE/OEOrders(\(uniquifier))", body: try Self.encode(Patch(OrderDetails: lines)))
        return try transport.decode(SageOrder.self, from: answer, what: "order \(uniquifier)")
    }

    /// Deletes an order; Sage refuses once anything of it has shipped or been invoiced.
    public func deleteOrder(uniquifier: Int64) async throws(SageError) {
        _ = try await transport.send("DELETE", "OE/OEOrders(\(uniquifier))")
    }

    static func encode<T: Encodable>(_ fields: T) throws(SageError) -> Data {
        do { return try JSONEncoder().encode(fields) } catch {
            throw .validation(message: "fields could not be encoded: \(error)", account: nil)
        }
    }
}
