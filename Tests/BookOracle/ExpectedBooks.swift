import Foundation
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
        public static let suspenseRefunds = "2900"
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

    /// Which documents of a messy day the oracle counts.
    public enum Documents: Sendable {
        /// The documents as served before any correction: the fixture's normal tickets (a bad ticket is only
        /// raw, so it is not among them; a duplicated ticket's original is) and the transactions that no
        /// bad-document entry names.
        case valid
        /// Every document with each bad one replaced by its valid version (`bad_documents[].ticket` /
        /// `.transaction`), as after `PUT /admin/raw/...` with its `corrected` JSON and a replay.
        case corrected
    }

    /// Net cents per GL account for one store's business day of a fixture that may be messy: several batches,
    /// raw and bad documents, explicit fee statements, gateway-only refunds. Zero nets are omitted.
    ///
    /// - Tickets: as `settlement` (same per-line and per-tender rules), over `documents`.
    /// - Gateway-only refunds: a `REFUND` transaction of the store with no ticket (`ticket_id` absent and no
    ///   ticket's tender names it) whose status moves money (not `DECLINED`, `PREAUTHORIZED`, `REVERSED`),
    ///   counted on the store's local date of its `time_created`: debit 2900, credit its brand's clearing account.
    ///   Under `.valid`, one that a bad-document entry names is left out.
    /// - Fees: every batch of the store whose `business_day` is `businessDay` (whenever it closed), debit 6100 and
    ///   credit each brand's clearing account with `batchFees`.
    public static func messySettlement(
        fixture: StoreDayFixture, locationID: Int64, businessDay: String, documents: Documents
    ) -> [String: Int64] {
        var books = Books()
        let replaced = fixture.badDocuments.filter { $0.kind == .ticket && $0.defect != .duplicateId }
        let replacedIDs = Set(replaced.map(\.id))
        var tickets = fixture.tickets.filter { !replacedIDs.contains(String($0.id)) }
        let validVersions = replaced.compactMap(\.ticket)
        if documents == .corrected { tickets += validVersions }
        let transactionBrands = Dictionary(fixture.transactions.map { ($0.id, $0.brand) }, uniquingKeysWith: { first, _ in first })
        for ticket in tickets
        where ticket.locationId == locationID && ticket.businessDay == businessDay && ticket.status == "complete" {
            post(ticket, into: &books, transactionBrands: transactionBrands)
        }

        let tendered = Set((fixture.tickets + validVersions).flatMap(\.payments).compactMap(\.gatewayTransactionId))
        let badTransactions = Set(fixture.badDocuments.filter { $0.kind == .transaction }.map(\.id))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = fixture.locations.first { $0.id == locationID }?.zone ?? TimeZone(identifier: "UTC")!
        for refund in fixture.transactions
        where refund.locationId == locationID && refund.type == "REFUND" && refund.ticketId == nil && !tendered.contains(refund.id)
            && movesMoney(refund) && !(documents == .valid && badTransactions.contains(refund.id))
        {
            let date = calendar.dateComponents([.year, .month, .day], from: refund.timeCreated)
            guard String(format: "%04d-%02d-%02d", date.year!, date.month!, date.day!) == businessDay else { continue }
            books.debit(Account.suspenseRefunds, refund.amountCents)
            books.credit(clearingAccount(brand: refund.brand), refund.amountCents)
        }

        for batch in fixture.batches where batch.locationId == locationID && batch.businessDay == businessDay {
            for (brand, fee) in batchFees(batch, transactions: fixture.transactions.filter { $0.batchId == batch.id }) {
                books.debit(Account.cardProcessingFees, fee)
                books.credit(clearingAccount(brand: brand), fee)
            }
        }
        return books.net.filter { $0.value != 0 }
    }

    /// A batch's processing fee per brand, as its fee statement says:
    /// - none stated: the simulator's invented fee (`processingFee`) on each of its sales that moves money;
    /// - `per_brand`: the stated cents per brand; `none`: nothing;
    /// - `unsplit`: `total_cents` split by `unsplitFeeShares` over the batch's brands in proportion to their net
    ///   sales (sales minus refunds, tips included, of the transactions that move money: the brand breakdown's
    ///   `amount`).
    public static func batchFees(_ batch: SettlementBatch, transactions: [CardTransaction]) -> [String: Int64] {
        let moving = transactions.filter(movesMoney)
        guard let fees = batch.fees else {
            var perBrand: [String: Int64] = [:]
            for sale in moving where sale.type == "SALE" { perBrand[sale.brand, default: 0] += processingFee(sale) }
            return perBrand
        }
        switch fees.mode {
        case .perBrand: return fees.perBrandCents ?? [:]
        case .noFees: return [:]
        case .unsplit:
            var net: [String: Int64] = [:]
            for t in moving { net[t.brand, default: 0] += t.type == "REFUND" ? -t.amountCents : t.amountCents }
            return unsplitFeeShares(fees.totalCents ?? 0, netSalesByBrand: net)
        }
    }

    /// An unsplit fee shared over brands in proportion to their net sales, to the cent: each brand gets the
    /// floor of its exact share, and the cents left over go one each to the largest remainders, ties to the
    /// brand name first in alphabetical order. A brand with no positive net sales gets nothing; when no brand
    /// has any, the whole fee goes to the first brand by name (to `""`, other brands' clearing, when there is
    /// none).
    public static func unsplitFeeShares(_ total: Int64, netSalesByBrand: [String: Int64]) -> [String: Int64] {
        let weights = netSalesByBrand.mapValues { max($0, 0) }
        let sum = weights.values.reduce(0, +)
        guard sum > 0 else { return [netSalesByBrand.keys.sorted().first ?? "": total] }
        var shares = weights.mapValues { total * $0 / sum }
        let leftover = total - shares.values.reduce(0, +)
        let byRemainder = weights.keys.sorted { a, b in
            let (ra, rb) = (total * weights[a]! % sum, total * weights[b]! % sum)
            return ra != rb ? ra > rb : a < b
        }
        for brand in byRemainder.prefix(Int(leftover)) { shares[brand]! += 1 }
        return shares.filter { $0.value != 0 }
    }

    /// Settles money: not declined, not only pre-authorised, not reversed.
    private static func movesMoney(_ transaction: CardTransaction) -> Bool {
        !["DECLINED", "PREAUTHORIZED", "REVERSED"].contains(transaction.status)
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
