/// What a ticket puts in Sage AR besides its GL lines: the customer's invoice for what was charged to their house
/// account (a credit note for a return credited to it) and a receipt for a payment on account taken at the POS. The GL
/// side (AR's control account) is in the ticket's day journal; this is the customer's side of the same money.
///
/// Sage 300 refuses a second AR document with a number per customer but has no other duplicate key, so the number is
/// the ticket's (`HL-T<ticket id>`: `DocumentNumber` of an invoice, `CheckReceiptNumber` of a receipt) and the loader
/// looks it up before posting.
public struct ReceivableDocument: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case invoice
        case creditNote = "credit_note"
        case receipt
    }

    public var kind: Kind
    public var ticketID: TicketID
    public var ticketNumber: String
    /// Heartland's id of the ticket's customer.
    public var customerID: String
    /// Positive.
    public var amount: Money
    /// The store's business day of the ticket.
    public var documentDate: BusinessDate
    public var documentNumber: String
    public var description: String

    public init(kind: Kind, ticketID: TicketID, ticketNumber: String, customerID: String, amount: Money, documentDate: BusinessDate,
                documentNumber: String, description: String) {
        self.kind = kind
        self.ticketID = ticketID
        self.ticketNumber = ticketNumber
        self.customerID = customerID
        self.amount = amount
        self.documentDate = documentDate
        self.documentNumber = documentNumber
        self.description = description
    }

    /// `heartland:ar:<kind>:<ticket id>`: one ticket, at most one document of each kind.
    public var idempotencyKey: String { "heartland:ar:\(kind.rawValue):\(ticketID)" }

    /// Sage 300's AR document numbers hold 22 characters.
    public static let maximumNumberLength = 22

    public static func documentNumber(ticket: TicketID) -> String { "HL-T\(ticket)" }

    /// The AR documents of a ticket: an invoice (or credit note) for its on-account tenders, a receipt for its payments
    /// on account. None for a ticket that touches no house account, or a void one.
    public static func documents(for ticket: Ticket, storeID: StoreID, timeZone: StoreTimeZone) throws(PostingError) -> [ReceivableDocument] {
        guard !ticket.isVoid else { return [] }
        let record = "ticket \(ticket.id) (\(ticket.number))"
        var charged: Int64 = 0
        var paid: Int64 = 0
        var touchesAccount = false
        for tender in ticket.tenders {
            guard case .onAccount(let amount) = tender else { continue }
            touchesAccount = true
            let (sum, overflow) = charged.addingReportingOverflow(amount.minorUnits)
            guard !overflow else { throw .overflow(record: record, detail: "on-account tenders exceed 64-bit cents") }
            charged = sum
        }
        for line in ticket.lines {
            guard case .accountPayment(_, let value) = line else { continue }
            touchesAccount = true
            let (sum, overflow) = paid.addingReportingOverflow(value.minorUnits)
            guard !overflow else { throw .overflow(record: record, detail: "payments on account exceed 64-bit cents") }
            paid = sum
        }
        guard touchesAccount else { return [] }
        guard let customer = ticket.customerID else {
            throw .invalidData(record: record, problem: "is charged to (or pays down) a house account but names no customer (customer_id)")
        }
        guard paid >= 0 else {
            throw .invalidData(record: record, problem: "reverses a payment on account (\(Money.decimalString(paid))); Sage AR takes that "
                + "as an adjustment by hand, not from the POS")
        }
        let number = documentNumber(ticket: ticket.id)
        guard number.count <= maximumNumberLength else {
            throw .invalidData(record: record, problem: "has an id too long for a Sage AR document number (\(number))")
        }
        let currency = ticket.tenders.first?.amount.currency ?? ticket.lines.lazy.compactMap(\.money).first?.currency
        guard let currency else { return [] }
        let date = ticket.businessDate(in: timeZone)
        var documents: [ReceivableDocument] = []
        if charged != 0 {
            documents.append(ReceivableDocument(
                kind: charged > 0 ? .invoice : .creditNote, ticketID: ticket.id, ticketNumber: ticket.number, customerID: customer,
                amount: Money(minorUnits: Int64(clamping: charged.magnitude), currency: currency),
                documentDate: date, documentNumber: number,
                description: "Heartland store \(storeID) ticket \(ticket.number) " + (charged > 0 ? "charged to account" : "returned to account")))
        }
        if paid > 0 {
            documents.append(ReceivableDocument(
                kind: .receipt, ticketID: ticket.id, ticketNumber: ticket.number, customerID: customer,
                amount: Money(minorUnits: paid, currency: currency), documentDate: date, documentNumber: number,
                description: "Heartland store \(storeID) ticket \(ticket.number) payment on account"))
        }
        return documents
    }
}

extension TicketLine {
    /// The line's amount, whatever its kind (an item line's unit price).
    var money: Money {
        switch self {
        case .item(_, _, let unitPrice, _): unitPrice
        case .discount(_, let value), .tax(_, let value), .giftCardSale(_, let value), .accountPayment(_, let value): value
        }
    }
}
