import Foundation

// Sage 300 Web API master-data entities, with Sage's own field names (reference §6a): AR customers,
// IC items and their price-list prices, quantities per location, OE sales orders. Only the fields the
// sync reads or writes are modelled; Sage keeps the rest. Money is Int64 cents here and decimal
// dollars on the wire (`SageAmount`), never `Double`.

/// `AR/ARCustomers`.
public struct SageCustomer: Sendable, Hashable, Codable {
    public var CustomerNumber: String
    public var CustomerName: String?
    public var ContactName: String?
    public var Email: String?
    public var PhoneNumber: String?
    /// `Active` or `Inactive`.
    public var Status: String?
    public var DateLastMaintained: String?

    public init(CustomerNumber: String, CustomerName: String? = nil, ContactName: String? = nil, Email: String? = nil,
                PhoneNumber: String? = nil, Status: String? = nil, DateLastMaintained: String? = nil) {
        self.CustomerNumber = CustomerNumber
        self.CustomerName = CustomerName
        self.ContactName = ContactName
        self.Email = Email
        self.PhoneNumber = PhoneNumber
        self.Status = Status
        self.DateLastMaintained = DateLastMaintained
    }

    public var isActive: Bool { (Status ?? "Active").caseInsensitiveCompare("Inactive") != .orderedSame }
}

/// `IC/ICItems`: the item master. Its price is not here but in a price list (`IC/ICItemPricing`).
public struct SageItem: Sendable, Hashable, Codable {
    public var ItemNumber: String
    public var Description: String?
    /// `Active` or `Inactive`.
    public var Status: String?
    public var DateLastMaintained: String?

    public var isActive: Bool { (Status ?? "Active").caseInsensitiveCompare("Inactive") != .orderedSame }
}

/// `IC/ICItemPricing`: an item's base price in one price list and currency.
public struct SageItemPrice: Sendable, Hashable {
    public var itemNumber: String
    public var priceListCode: String
    public var currencyCode: String
    public var basePriceCents: Int64
    public var dateLastMaintained: String?
}

struct SageItemPriceWire: Codable {
    var ItemNumber: String
    var PriceListCode: String
    var CurrencyCode: String?
    var BasePrice: Decimal
    var DateLastMaintained: String?
}

/// `IC/ICLocationDetails`: stock of one item at one location.
public struct SageLocationDetail: Sendable, Hashable, Codable {
    public var ItemNumber: String
    public var Location: String
    public var QuantityOnHand: Decimal
    public var DateLastMaintained: String?
}

/// `OE/OEOrders`: a sales order, its lines, and how far it got (shipped, invoiced).
public struct SageOrder: Sendable, Hashable, Codable {
    public var OrderUniquifier: Int64?
    public var OrderNumber: String
    public var CustomerNumber: String
    public var OrderReference: String?
    public var OrderDescription: String?
    public var OrderDate: String?
    /// Set once the order has a shipment / an invoice.
    public var LastShipmentNumber: String?
    public var LastInvoiceNumber: String?
    public var OrderCompleted: String?
    public var DateLastEdited: String?
    public var OrderDetails: [SageOrderLine]?

    public init(OrderNumber: String, CustomerNumber: String, OrderReference: String?, OrderDescription: String?,
                OrderDetails: [SageOrderLine]) {
        self.OrderNumber = OrderNumber
        self.CustomerNumber = CustomerNumber
        self.OrderReference = OrderReference
        self.OrderDescription = OrderDescription
        self.OrderDetails = OrderDetails
    }

    /// Where the order stands, from Sage's documents: `invoiced`; `shipped` when every line has shipped in full (or a
    /// shipment was recorded without line quantities); `partially_shipped` when some of it has; else `open`.
    public var fulfilment: String {
        if let invoice = LastInvoiceNumber, !invoice.isEmpty { return "invoiced" }
        let lines = OrderDetails ?? []
        let shipped = lines.reduce(Int64(0)) { $0 + ($1.QuantityShippedToDate ?? 0) }
        if shipped > 0 {
            return lines.allSatisfy { ($0.QuantityShippedToDate ?? 0) >= $0.QuantityOrdered } ? "shipped" : "partially_shipped"
        }
        if let shipment = LastShipmentNumber, !shipment.isEmpty { return "shipped" }
        return "open"
    }
}

public struct SageOrderLine: Sendable, Hashable, Codable {
    /// Sage's number of the line within its order (nil on a line not yet in Sage).
    public var LineNumber: Int64?
    public var Item: String
    public var Location: String?
    public var QuantityOrdered: Int64
    public var PricingUnitPrice: Decimal
    /// Units of this line shipped so far (read; Sage keeps it across edits).
    public var QuantityShippedToDate: Int64?

    public init(item: String, location: String?, quantity: Int64, unitPriceCents: Int64, lineNumber: Int64? = nil) {
        LineNumber = lineNumber
        Item = item
        Location = location
        QuantityOrdered = quantity
        PricingUnitPrice = SageAmount.decimal(cents: unitPriceCents)
    }

    public var unitPriceCents: Int64? { SageAmount.cents(PricingUnitPrice) }
}
