import HeartlandSimulator

/// What the books should say, worked out a second time, apart from the product.
///
/// This is an oracle for tests: it reads ACCOUNTING.md's "Sales day" rules straight off the
/// simulator's own records (integer cents, no JSON, no mapping file) and the default chart of
/// accounts written out below. It shares no code with `Sources/Accounting`, `Sources/Transformer`
/// or `Config/mapping.yaml`, so that a mistake in one is not silently repeated in the other.
public enum ExpectedBooks {
    /// The default chart of accounts of ACCOUNTING.md, as far as a sales day touches it.
    public enum Account {
        public static let cashOnHand = "1100"
        public static let clearingVisa = "1210"
        public static let clearingMastercard = "1211"
        public static let clearingAmex = "1212"
        public static let clearingDiscover = "1213"
        public static let clearingOtherBrands = "1219"
        public static let salesTaxPayable = "2200"
        public static let tipsPayable = "2210"
        public static let giftCardLiability = "2300"
        public static let salesRevenue = "4000"
        public static let salesDiscounts = "4100"
        public static let salesReturns = "4200"
        public static let cardProcessingFees = "6100"
    }

    /// Net cents per GL account (debit positive, credit negative) that ACCOUNTING.md's sales-day rules give for one store's business day,
    /// computed straight from the simulator's fixture records (integer cents), with the default chart of accounts.
    ///
    /// - Tickets: those of `locationID` whose `businessDay` (the store's local date) is `businessDay` and whose status is
    ///   `complete`; a voided ticket posts nothing. Per ticket, each line and tender is posted by itself:
    ///   - an item line sold (`qty * unitPrice >= 0`) credits 4000 with `qty * unitPrice` (the price before discount) and
    ///     debits 4100 with its line discount; a returned item line (negative quantity) debits 4200 with the price before
    ///     discount and credits 4100 with the discount given on it back, since a refund reverses the sale's accounts;
    ///   - a ticket discount line (negative value on a sale) debits 4100; a tax line credits 2200 (a refunded one, negative,
    ///     debits it); a gift card sold credits 2300;
    ///   - a cash tender debits 1100, a gift card tender debits 2300, a card tender debits its brand's clearing account
    ///     with the whole amount (tip included) and its tip credits 2210; refunded tenders are negative and so credit.
    /// - Fees: for every batch of `locationID` whose business day is `businessDay` (whatever its status in the fixture:
    ///   an open batch is the one that will be closed), each of its card transactions of type `SALE` that is not
    ///   `REVERSED` carries the simulator's processing fee, AMEX 3.00 %, every other brand 2.60 % of the transaction's
    ///   amount (tip included) rounded half up, plus 10 cents. Refunds carry none. Fees debit 6100 and credit the
    ///   clearing account of the transaction's brand.
    /// - Brands: VISA 1210, MASTERCARD / MC 1211, AMEX / AMERICAN EXPRESS 1212, DISCOVER 1213, anything else 1219,
    ///   compared ignoring case, spaces and punctuation. A card tender without a brand takes the brand of its gateway
    ///   transaction.
    ///
    /// Accounts whose net is zero are omitted, whichever they are: 1219 with the simulator's four brands, 4100 or 4200 on a
    /// day without discounts or returns, 2300 when gift cards sold and redeemed cancel out, and so on. A well-formed day
    /// nets to zero over all accounts; the oracle does not force it to (an unbalanced fixture shows as a non-zero sum).
    public static func settlement(fixture: StoreDayFixture, locationID: Int64, businessDay: String) -> [String: Int64] {
        var books = Books()
        let transactionBrands = Dictionary(fixture.transactions.map { ($0.id, $0.brand) }, uniquingKeysWith: { first, _ in first })
        for ticket in fixture.tickets
        where ticket.locationId == locationID && ticket.businessDay == businessDay && ticket.status == "complete" {
            post(ticket, into: &books, transactionBrands: transactionBrands)
        }
        let batchIDs = Set(fixture.batches.filter { $0.locationId == locationID && $0.businessDay == businessDay }.map(\.id))
        for transaction in fixture.transactions
        where batchIDs.contains(transaction.batchId) && transaction.type == "SALE" && transaction.status != "REVERSED" {
            let fee = processingFee(transaction)
            books.debit(Account.cardProcessingFees, fee)
            books.credit(clearingAccount(brand: transaction.brand), fee)
        }
        return books.net.filter { $0.value != 0 }
    }

    /// The simulator's processing fee on one card sale: 300 basis points of the amount when the brand is spelled
    /// `AMEX` (exactly, as the simulator tests it), 260 for every other brand, rounded half up to the cent, plus a
    /// fixed 10 cents. Sale amounts are positive, so "half up" and "half away from zero" agree.
    public static func processingFee(_ transaction: CardTransaction) -> Int64 {
        let basisPoints: Int64 = transaction.brand == "AMEX" ? 300 : 260
        return (transaction.amountCents * basisPoints + 5_000) / 10_000 + 10
    }

    /// The clearing account of a card brand in the default chart.
    public static func clearingAccount(brand: String?) -> String {
        switch normalized(brand ?? "") {
        case "VISA": Account.clearingVisa
        case "MASTERCARD", "MC": Account.clearingMastercard
        case "AMEX", "AMERICANEXPRESS": Account.clearingAmex
        case "DISCOVER": Account.clearingDiscover
        default: Account.clearingOtherBrands
        }
    }

    private static func normalized(_ brand: String) -> String {
        String(brand.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
    }

    private static func post(_ ticket: Ticket, into books: inout Books, transactionBrands: [String: String]) {
        for line in ticket.lines {
            switch line.type {
            case TicketLine.item:
                let beforeDiscount = line.qty * line.unitPriceCents
                if beforeDiscount >= 0 {
                    books.credit(Account.salesRevenue, beforeDiscount)
                    books.debit(Account.salesDiscounts, line.discountCents)
                } else {
                    // Returned: the line's amounts are negative, so each sign flips back to the sale's.
                    books.debit(Account.salesReturns, -beforeDiscount)
                    books.credit(Account.salesDiscounts, -line.discountCents)
                }
            case TicketLine.discount:
                books.debit(Account.salesDiscounts, -line.valueCents)
            case TicketLine.tax:
                books.credit(Account.salesTaxPayable, line.valueCents)
            case TicketLine.giftCard:
                books.credit(Account.giftCardLiability, line.valueCents)
            default:
                // An unknown line type has no rule; leaving it out makes the day unbalanced, which the tests see.
                continue
            }
        }
        for payment in ticket.payments {
            switch payment.paymentType {
            case TicketPayment.cash:
                books.debit(Account.cashOnHand, payment.amountCents)
            case TicketPayment.giftCard:
                books.debit(Account.giftCardLiability, payment.amountCents)
            case TicketPayment.card:
                let brand = payment.cardBrand ?? payment.gatewayTransactionId.flatMap { transactionBrands[$0] }
                books.debit(clearingAccount(brand: brand), payment.amountCents)
                books.credit(Account.tipsPayable, payment.tipCents)
            default:
                continue
            }
        }
    }

    /// Signed cents per account; amounts may be negative (a credit of -5 is a debit of 5).
    private struct Books {
        var net: [String: Int64] = [:]
        mutating func debit(_ account: String, _ cents: Int64) { net[account, default: 0] += cents }
        mutating func credit(_ account: String, _ cents: Int64) { net[account, default: 0] -= cents }
    }
}
