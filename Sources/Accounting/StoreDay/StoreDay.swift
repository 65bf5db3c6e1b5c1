import Foundation

/// Everything the settlement journal of one store and one business day is built from: the card
/// settlement batch (if any card was taken) and every ticket completed that local day.
public struct StoreDay: Hashable, Sendable, Codable {
    public var storeID: StoreID
    public var timeZone: StoreTimeZone
    public var businessDate: BusinessDate
    public var currency: CurrencyCode
    /// Nil for a day without card transactions (cash and gift cards only).
    public var batch: SettlementBatch?
    public var tickets: [Ticket]

    public init(storeID: StoreID, timeZone: StoreTimeZone, businessDate: BusinessDate, currency: CurrencyCode,
                batch: SettlementBatch?, tickets: [Ticket]) {
        self.storeID = storeID
        self.timeZone = timeZone
        self.businessDate = businessDate
        self.currency = currency
        self.batch = batch
        self.tickets = tickets
    }
}

/// A GP-API settlement batch with Heartland's own totals; amounts include tips, exclude fees.
public struct SettlementBatch: Hashable, Sendable, Codable {
    public var id: BatchID
    public var businessDate: BusinessDate
    public var totals: CardTotals
    /// Per card brand as Heartland spells it (`VISA`, `MASTERCARD`, ...).
    public var brands: [BrandTotals]

    public init(id: BatchID, businessDate: BusinessDate, totals: CardTotals, brands: [BrandTotals]) {
        self.id = id
        self.businessDate = businessDate
        self.totals = totals
        self.brands = brands
    }
}

public struct CardTotals: Hashable, Sendable, Codable {
    public var transactionCount: Int
    public var salesCount: Int
    public var sales: Money
    public var refundsCount: Int
    /// Positive: the amount given back.
    public var refunds: Money
    public var tips: Money
    /// Processing fees the batch carries; zero when it carries none.
    public var fees: Money

    public init(transactionCount: Int, salesCount: Int, sales: Money, refundsCount: Int, refunds: Money,
                tips: Money, fees: Money) {
        self.transactionCount = transactionCount
        self.salesCount = salesCount
        self.sales = sales
        self.refundsCount = refundsCount
        self.refunds = refunds
        self.tips = tips
        self.fees = fees
    }
}

public struct BrandTotals: Hashable, Sendable, Codable {
    public var brand: String
    public var totals: CardTotals

    public init(brand: String, totals: CardTotals) {
        self.brand = brand
        self.totals = totals
    }
}

/// A POS ticket: a sale, a return (negative lines and tenders) or both (an exchange).
public struct Ticket: Hashable, Sendable, Codable {
    public var id: TicketID
    /// The receipt number the store prints (`S01-20261127-00001`).
    public var number: String
    public var completedAt: Date
    public var isVoid: Bool
    /// For a return: the sale it returns.
    public var returnOf: TicketID?
    public var lines: [TicketLine]
    public var tenders: [Tender]
    /// Heartland's internal id of the ticket's customer (`customer_id`), when it names one: the customer an
    /// on-account tender charges and a payment on account credits.
    public var customerID: String?

    public init(id: TicketID, number: String, completedAt: Date, isVoid: Bool = false, returnOf: TicketID? = nil,
                lines: [TicketLine], tenders: [Tender], customerID: String? = nil) {
        self.id = id
        self.number = number
        self.completedAt = completedAt
        self.isVoid = isVoid
        self.returnOf = returnOf
        self.lines = lines
        self.tenders = tenders
        self.customerID = customerID
    }
}

public enum TicketLine: Hashable, Sendable, Codable {
    /// Merchandise: `quantity` is negative for a returned item; `discount` is the line discount
    /// (positive on a sale, negative on a return).
    case item(description: String, quantity: Int64, unitPrice: Money, discount: Money)
    /// A ticket-level coupon as Heartland writes it: negative on a sale.
    case discount(description: String, value: Money)
    /// Sales tax on the ticket: positive collected, negative refunded.
    case tax(description: String, value: Money)
    /// A gift card sold (or, negative, a gift card sale refunded).
    case giftCardSale(cardNumber: String?, value: Money)
    /// A payment on account taken at the POS: the customer pays down their house account (positive), which credits
    /// AR's control account and posts an AR receipt in the customer's name.
    case accountPayment(description: String, value: Money)
}

/// One payment on a ticket. Amounts are positive when taken, negative when refunded.
public enum Tender: Hashable, Sendable, Codable {
    case cash(amount: Money)
    /// `amount` includes `tip`, as on the card transaction; `brand` is spelled as received.
    case card(brand: String, amount: Money, tip: Money, transactionID: TransactionID?)
    case giftCard(amount: Money, cardNumber: String?)
    /// Charged to the ticket's customer's house account: AR's control account is debited and Sage AR gets an invoice in
    /// the customer's name (negative: a return credited to the account, a credit note).
    case onAccount(amount: Money)

    public var amount: Money {
        switch self {
        case .cash(let amount), .card(_, let amount, _, _), .giftCard(let amount, _), .onAccount(let amount): amount
        }
    }
}

extension Ticket {
    /// A pure return refunded at least partly to a card (Heartland's `transaction.refunded`): it is
    /// posted on its own as it happens, never in the day's journal. Every line is a returned item or
    /// its refunded tax and every tender gives money back, so the ticket is the refund and nothing
    /// else. An exchange (a sale and a return on one ticket) stays in the day's journal.
    ///
    /// The day's journal and the real-time refund path both decide with this one property, so a
    /// refund is counted in exactly one of them.
    public var postsAsRealTimeRefund: Bool {
        guard !isVoid, !tenders.isEmpty else { return false }
        let refundsToCard = tenders.contains {
            if case .card(_, let amount, _, let transaction) = $0 { return amount.minorUnits < 0 && transaction != nil }
            return false
        }
        // A return credited to a house account needs its AR credit note: it posts with the day's journal.
        let onlyGivesBack = tenders.allSatisfy { tender in
            if case .onAccount = tender { return false }
            return tender.amount.minorUnits <= 0
        }
        let onlyReturns = lines.allSatisfy { line in
            switch line {
            case .item(_, let quantity, _, _): quantity < 0
            case .tax(_, let value): value.minorUnits <= 0
            case .discount(_, let value): value.minorUnits >= 0
            case .giftCardSale, .accountPayment: false
            }
        }
        return refundsToCard && onlyGivesBack && onlyReturns
    }

    /// The money given back on the ticket, positive (0 for a sale).
    public var refundedCents: Int64 { tenders.reduce(Int64(0)) { $0 &- min($1.amount.minorUnits, 0) } }

    /// The card transactions the ticket refunded to.
    public var refundTransactionIDs: [TransactionID] {
        tenders.compactMap {
            if case .card(_, let amount, _, let transaction?) = $0, amount.minorUnits < 0 { return transaction }
            return nil
        }
    }

    /// The store's business day the ticket belongs to: its local completion date.
    public func businessDate(in timeZone: StoreTimeZone) -> BusinessDate {
        BusinessDate(of: completedAt, in: timeZone)
    }
}
