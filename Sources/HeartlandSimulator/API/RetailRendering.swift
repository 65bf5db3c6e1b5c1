import BridgeClock
import Foundation
import SimulatorKit

/// Heartland Retail JSON. Amounts are dollars as JSON decimals, rendered exactly from cents.
enum RetailRendering {
    /// `cards`: the gateway transactions of the ticket's card tenders by id, for the card's first six digits
    /// and entry mode (the ticket itself keeps brand, last four and auth code).
    static func ticket(_ t: Ticket, zone: TimeZone, cards: [String: CardTransaction] = [:]) -> JSONValue {
        [
            "id": .int(t.id), "public_id": .string(t.publicId), "status": .string(t.status),
            "customer_id": t.customerId.map { .int($0) } ?? .null, "station_id": .int(t.stationId),
            "location_id": .int(t.locationId), "sales_rep": .string(t.salesRep),
            "created_at": .string(Timestamps.iso8601(t.createdAt)), "completed_at": .string(Timestamps.iso8601(t.completedAt)),
            "local_completed_at": .string(Timestamps.iso8601(t.completedAt, in: zone)),
            "updated_at": .string(Timestamps.iso8601(t.updatedAt)), "business_day": .string(t.businessDay),
            "return_of_ticket_id": t.returnOfTicketId.map { .int($0) } ?? .null,
            "subtotal": Money.dollars(t.subtotalCents), "total_discounts": Money.dollars(t.discountCents),
            "tax_total": Money.dollars(t.taxCents), "gift_card_total": Money.dollars(t.giftCardSoldCents),
            "total": Money.dollars(t.totalCents), "tip_total": Money.dollars(t.tipCents),
            "total_paid": Money.dollars(t.paidCents),
            "lines": .array(t.lines.map(line)), "payments": .array(t.payments.map { payment($0, cards: cards) }),
            "notes": .optional(t.notes),
        ]
    }

    static func line(_ l: TicketLine) -> JSONValue {
        [
            "id": .int(l.id), "type": .string(l.type), "description": .string(l.description),
            "item_id": l.itemId.map { .int($0) } ?? .null, "qty": .int(l.qty), "unit_price": Money.dollars(l.unitPriceCents),
            "original_unit_price": Money.dollars(l.originalUnitPriceCents), "discount_amount": Money.dollars(l.discountCents),
            "value": Money.dollars(l.valueCents), "taxable": .bool(l.taxable), "gift_card_number": .optional(l.giftCardNumber),
            "original_ticket_id": l.originalTicketId.map { .int($0) } ?? .null,
            "original_line_id": l.originalLineId.map { .int($0) } ?? .null,
        ]
    }

    static func payment(_ p: TicketPayment, cards: [String: CardTransaction]) -> JSONValue {
        let card = p.gatewayTransactionId.flatMap { cards[$0] }
        return [
            "id": .int(p.id), "type": "Payments::ExternalPayment", "payment_type": .string(p.paymentType),
            "amount": Money.dollars(p.amountCents), "tip_amount": Money.dollars(p.tipCents),
            "card_type": .optional(p.cardBrand), "last4": .optional(p.last4), "auth_code": .optional(p.authCode),
            "gateway_transaction_id": .optional(p.gatewayTransactionId), "gift_card_number": .optional(p.giftCardNumber),
            "first6": .optional(card?.first6), "entry_mode": .optional(card?.entryMode),
        ]
    }

    static func customer(_ c: Customer) -> JSONValue {
        [
            "id": .int(c.id), "public_id": .string(c.publicId), "first_name": .string(c.firstName),
            "last_name": .string(c.lastName), "email": .optional(c.email), "active": .bool(c.active),
            "created_at": .string(Timestamps.iso8601(c.createdAt)), "updated_at": .string(Timestamps.iso8601(c.updatedAt)),
            "addresses": .array(c.addresses.map(address)),
        ]
    }

    static func address(_ a: CustomerAddress) -> JSONValue {
        [
            "id": .int(a.id), "first_name": .optional(a.firstName), "last_name": .optional(a.lastName),
            "address_1": .optional(a.address1), "address_2": .optional(a.address2), "city": .optional(a.city),
            "state": .optional(a.state), "zip": .optional(a.zip), "country": .optional(a.country), "phone": .optional(a.phone),
        ]
    }

    static func item(_ i: Item) -> JSONValue {
        [
            "id": .int(i.id), "public_id": .string(i.publicId), "description": .string(i.description),
            "long_description": .optional(i.longDescription), "price": Money.dollars(i.priceCents),
            "original_price": Money.dollars(i.originalPriceCents), "cost": Money.dollars(i.costCents),
            "active": .bool(i.active), "taxable": .bool(i.taxable), "updated_at": .string(Timestamps.iso8601(i.updatedAt)),
        ]
    }

    static func inventory(_ v: InventoryValue) -> JSONValue {
        [
            "item_id": .int(v.itemId), "location_id": .int(v.locationId), "qty_on_hand": .int(v.qtyOnHand),
            "qty_committed": .int(v.qtyCommitted), "qty_available": .int(v.qtyOnHand - v.qtyCommitted),
            "unit_cost": Money.dollars(v.unitCostCents), "updated_at": .string(Timestamps.iso8601(v.updatedAt)),
        ]
    }

    static func location(_ l: Location) -> JSONValue {
        [
            "id": .int(l.id), "public_id": .string(l.publicId), "name": .string(l.name), "time_zone": .string(l.timeZone),
            "tax_rate": .number(Decimal(l.taxRateBasisPoints) / 100),
            "stations": [["id": .int(l.stationId), "name": "Register 1", "location_id": .int(l.id)]],
        ]
    }

    /// A sub-resource returned whole, in the collection envelope.
    static func wholePage(_ results: [JSONValue]) -> JSONValue {
        [
            "total": .int(results.count), "pages": 1, "per_page": .int(max(results.count, 1)), "page": 1,
            "results": .array(results),
        ]
    }

    /// `{total, pages, per_page, page, results}`.
    static func page(_ results: [JSONValue], total: Int, paging: Paging) -> JSONValue {
        [
            "total": .int(total), "pages": .int(paging.pages(total: total)), "per_page": .int(paging.size),
            "page": .int(paging.page), "results": .array(results),
        ]
    }
}
