import Foundation
import HeartlandWire

/// A Heartland Retail ticket (`GET /api/sales/tickets`), with its lines and tenders embedded.
/// Amounts are cents; `totalCents = subtotal − discounts + tax + gift cards sold`,
/// `totalPaidCents = total + tips`.
public struct Ticket: Sendable, Hashable, Decodable {
    public var id: Int64
    public var publicId: String
    public var status: String
    public var locationId: Int64?
    public var stationId: Int64?
    public var customerId: Int64?
    public var salesRep: String?
    public var createdAt: String?
    public var completedAt: String?
    public var localCompletedAt: String?
    public var updatedAt: String?
    public var businessDay: String?
    public var returnOfTicketId: Int64?
    public var subtotalCents: Int64
    public var totalDiscountsCents: Int64
    public var taxTotalCents: Int64
    public var giftCardTotalCents: Int64
    public var totalCents: Int64
    public var tipTotalCents: Int64
    public var totalPaidCents: Int64
    public var lines: [TicketLine]
    public var payments: [TicketPayment]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientInt(c["id"]) ?? 0
        publicId = try c.decodeLenientString(c["public_id"]) ?? ""
        status = try c.decodeLenientString(c["status"]) ?? ""
        locationId = try c.decodeLenientInt(c["location_id"])
        stationId = try c.decodeLenientInt(c["station_id"])
        customerId = try c.decodeLenientInt(c["customer_id"])
        salesRep = try c.decodeLenientString(c["sales_rep"])
        createdAt = try c.decodeLenientString(c["created_at"])
        completedAt = try c.decodeLenientString(c["completed_at"])
        localCompletedAt = try c.decodeLenientString(c["local_completed_at"])
        updatedAt = try c.decodeLenientString(c["updated_at"])
        businessDay = try c.decodeLenientString(c["business_day"])
        returnOfTicketId = try c.decodeLenientInt(c["return_of_ticket_id"])
        subtotalCents = try c.decodeDollars(c["subtotal"])
        totalDiscountsCents = try c.decodeDollars(c["total_discounts"])
        taxTotalCents = try c.decodeDollars(c["tax_total"])
        giftCardTotalCents = try c.decodeDollars(c["gift_card_total"])
        totalCents = try c.decodeDollars(c["total"])
        tipTotalCents = try c.decodeDollars(c["tip_total"])
        totalPaidCents = try c.decodeDollars(c["total_paid"])
        lines = try c.decodeArray(TicketLine.self, c["lines"])
        payments = try c.decodeArray(TicketPayment.self, c["payments"])
    }
}

/// An item, tax, discount, gift-card or shipping line. Item line `value = qty × unit price − discount`.
public struct TicketLine: Sendable, Hashable, Decodable {
    public var id: Int64
    public var type: TicketLineType
    public var description: String?
    public var itemId: Int64?
    public var qty: Int64
    public var unitPriceCents: Int64
    public var originalUnitPriceCents: Int64?
    public var discountCents: Int64
    public var valueCents: Int64
    public var taxable: Bool?
    public var giftCardNumber: String?
    public var originalTicketId: Int64?
    public var originalLineId: Int64?

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientInt(c["id"]) ?? 0
        type = try c.decodeIfPresent(TicketLineType.self, forKey: c["type"]) ?? ""
        description = try c.decodeLenientString(c["description"])
        itemId = try c.decodeLenientInt(c["item_id"])
        qty = try c.decodeLenientInt(c["qty"]) ?? 1
        unitPriceCents = try c.decodeDollars(c["unit_price"])
        originalUnitPriceCents = try c.decodeOptionalDollars(c["original_unit_price"])
        discountCents = try c.decodeDollars(c["discount_amount"])
        valueCents = try c.decodeDollars(c["value"])
        taxable = try c.decodeLenientBool(c["taxable"])
        giftCardNumber = try c.decodeLenientString(c["gift_card_number"])
        originalTicketId = try c.decodeLenientInt(c["original_ticket_id"])
        originalLineId = try c.decodeLenientInt(c["original_line_id"])
    }
}

/// A tender. Card tenders carry brand, last four and the GP-API transaction they settle through;
/// `amountCents` includes `tipCents`. Negative amounts are refunds.
public struct TicketPayment: Sendable, Hashable, Decodable {
    public var id: Int64
    public var paymentType: TenderType
    public var amountCents: Int64
    public var tipCents: Int64
    public var cardBrand: CardBrand?
    public var last4: String?
    public var authCode: String?
    public var gatewayTransactionId: String?
    public var giftCardNumber: String?

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientInt(c["id"]) ?? 0
        paymentType = try c.decodeIfPresent(TenderType.self, forKey: c["payment_type"]) ?? ""
        amountCents = try c.decodeDollars(c["amount"], defaultZero: false)
        tipCents = try c.decodeDollars(c["tip_amount"])
        cardBrand = try c.decodeIfPresent(CardBrand.self, forKey: c["card_type"])
        last4 = try c.decodeLenientString(c["last4"])
        authCode = try c.decodeLenientString(c["auth_code"])
        gatewayTransactionId = try c.decodeLenientString(c["gateway_transaction_id"])
        giftCardNumber = try c.decodeLenientString(c["gift_card_number"])
    }
}
