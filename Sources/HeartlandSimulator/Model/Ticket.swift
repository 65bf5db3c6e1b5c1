import Foundation
import GRDB

/// A Heartland Retail ticket (POS sale or return). Lines and payments are stored with it.
public struct Ticket: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "ticket"
    public var id: Int64
    public var publicId: String
    public var locationId: Int64
    public var stationId: Int64
    public var customerId: Int64?
    /// `complete` or `void`.
    public var status: String
    public var createdAt: Date
    public var completedAt: Date
    /// Local date of `completedAt` at the location (`YYYY-MM-DD`).
    public var businessDay: String
    public var salesRep: String
    /// For a return ticket: the sale it returns.
    public var returnOfTicketId: Int64?
    public var lines: [TicketLine]
    public var payments: [TicketPayment]
    public var updatedAt: Date
    /// Free text the cashier typed on the ticket.
    public var notes: String? = nil

    public var itemLines: [TicketLine] { lines.filter { $0.type == TicketLine.item } }
    /// Sum of item lines at their sold price before discounts (negative for returns).
    public var subtotalCents: Int64 { itemLines.reduce(0) { $0 + $1.qty * $1.unitPriceCents } }
    /// Line discounts plus ticket discounts, as a positive amount for a sale.
    public var discountCents: Int64 {
        itemLines.reduce(0) { $0 + $1.discountCents } - lines.filter { $0.type == TicketLine.discount }.reduce(0) { $0 + $1.valueCents }
    }
    public var taxCents: Int64 { lines.filter { $0.type == TicketLine.tax }.reduce(0) { $0 + $1.valueCents } }
    public var giftCardSoldCents: Int64 { lines.filter { $0.type == TicketLine.giftCard }.reduce(0) { $0 + $1.valueCents } }
    /// Payments on account the customer made at the POS (paying down their house account).
    public var accountPaymentCents: Int64 { lines.filter { $0.type == TicketLine.accountPayment }.reduce(0) { $0 + $1.valueCents } }
    /// What the customer owes, before tips.
    public var totalCents: Int64 { subtotalCents - discountCents + taxCents + giftCardSoldCents + accountPaymentCents }
    public var tipCents: Int64 { payments.reduce(0) { $0 + $1.tipCents } }
    public var paidCents: Int64 { payments.reduce(0) { $0 + $1.amountCents } }
}

public struct TicketLine: Codable, Sendable, Equatable {
    public static let item = "ItemLine"
    public static let discount = "DiscountLine"
    public static let tax = "TaxLine"
    public static let giftCard = "GiftCardLine"
    /// A payment on account: the customer pays down their house account at the POS (our name: Heartland Retail's is not public).
    public static let accountPayment = "AccountPaymentLine"

    public var id: Int64
    /// `ItemLine`, `DiscountLine` (ticket-level, negative value), `TaxLine`, `GiftCardLine` (gift card sold).
    public var type: String
    public var description: String
    public var itemId: Int64?
    /// Negative for returned merchandise.
    public var qty: Int64
    public var unitPriceCents: Int64
    public var originalUnitPriceCents: Int64
    /// Discount on this item line (positive on a sale, negative on a return).
    public var discountCents: Int64
    /// The line's amount: item lines `qty * unitPrice - discount`, other lines their value.
    public var valueCents: Int64
    public var taxable: Bool
    public var giftCardNumber: String?
    /// On a returned line: the ticket and line it came from.
    public var originalTicketId: Int64?
    public var originalLineId: Int64?
}

public struct TicketPayment: Codable, Sendable, Equatable {
    public static let cash = "Cash"
    public static let card = "Credit Card"
    public static let giftCard = "Gift Card"
    /// Charged to the ticket's customer's house account (our name: Heartland Retail's built-in tender names are not public).
    public static let onAccount = "On Account"

    public var id: Int64
    /// `Cash`, `Credit Card`, `Gift Card` or `On Account`.
    public var paymentType: String
    /// Tender amount including tip; negative for a refund.
    public var amountCents: Int64
    public var tipCents: Int64
    public var cardBrand: String?
    public var last4: String?
    public var authCode: String?
    /// The GP-API transaction of a card tender, so tickets tie to the batch.
    public var gatewayTransactionId: String?
    public var giftCardNumber: String?
}
