/// The two journals of a card refund keyed on the gateway (the virtual terminal) with no return ticket
/// (ACCOUNTING.md): the money has left the card's clearing account, but what it gave back, merchandise
/// or tax, is unknown. It posts at once to the suspense account; once an operator knows the split, an
/// allocation moves it from suspense to returns and sales tax (`bridgectl refunds allocate`).
public struct GatewayRefundJournalBuilder: Sendable {
    public let rules: MappingRules

    public init(rules: MappingRules) { self.rules = rules }

    /// Debit suspense, credit the clearing account of the refund's brand, dated the store's business day
    /// of the refund (GP-API's `time_created` in the store's time zone).
    public func buildSuspense(_ refund: GatewayTransaction, storeID: StoreID, timeZone: StoreTimeZone, currency: CurrencyCode)
        throws(PostingError) -> JournalEntry
    {
        let record = "gateway refund \(refund.id) of store \(storeID)"
        guard currency == rules.currency else {
            throw .currencyMismatch(record: record, found: currency, expected: rules.currency)
        }
        guard refund.type == "REFUND" else {
            throw .invalidData(record: record, problem: "is a GP-API \(refund.type) transaction, not a REFUND; only a refund posts to suspense")
        }
        guard refund.amount.minorUnits > 0 else {
            throw .invalidData(record: record, problem: "has a zero amount: no money left the merchant's account, there is nothing to post")
        }
        let date = BusinessDate(of: refund.createdAt, in: timeZone)
        let canonical = rules.canonicalBrand(refund.brand)
        let label = canonical == MappingRules.otherBrand ? "other brands" : canonical
        var ledger = JournalLedger(currency: currency)
        try ledger.post(.debit, rules.refundSuspense, "Gateway refund awaiting allocation", refund.amount, record: record)
        try ledger.post(.credit, rules.clearingAccount(forBrand: refund.brand), "Card refunds \(label)", refund.amount, record: record)
        return try JournalEntry.balanced(
            source: .refund, reference: Self.suspenseReference(storeID: storeID, date: date, transaction: refund.id),
            idempotencyKey: Self.suspenseKey(transaction: refund.id), postingDate: date,
            description: "Heartland store \(storeID) gateway refund \(refund.id) \(date.sageFormat), awaiting allocation",
            currency: currency, lines: ledger.lines)
    }

    /// Debit returns (amount − tax) and sales tax (tax), credit suspense (amount): the refund's suspense
    /// entry reclassified. Its reference is the refund's business day and transaction, so Sage holds one
    /// allocation per refund whatever day it posts on.
    public func buildAllocation(_ allocation: RefundAllocation) throws(PostingError) -> JournalEntry {
        let record = "allocation of gateway refund \(allocation.transactionID) of store \(allocation.storeID)"
        guard allocation.amount.currency == rules.currency else {
            throw .currencyMismatch(record: record, found: allocation.amount.currency, expected: rules.currency)
        }
        var ledger = JournalLedger(currency: rules.currency)
        try ledger.post(.debit, allocation.returns, "Merchandise returned", allocation.merchandise, record: record)
        try ledger.post(.debit, rules.salesTax, "Sales tax refunded", allocation.tax, record: record)
        try ledger.post(.credit, rules.refundSuspense, "Gateway refund allocated", allocation.amount, record: record)
        return try JournalEntry.balanced(
            source: .refund,
            reference: Self.allocationReference(storeID: allocation.storeID, date: allocation.businessDate, transaction: allocation.transactionID),
            idempotencyKey: Self.allocationKey(transaction: allocation.transactionID), postingDate: allocation.postingDate,
            description: "Heartland store \(allocation.storeID) gateway refund \(allocation.transactionID) "
                + "\(allocation.businessDate.sageFormat) allocated", currency: rules.currency, lines: ledger.lines)
    }

    /// `HL-<store>-<yyyymmdd>-G<transaction id>`, beside the day's and the return tickets' references.
    public static func suspenseReference(storeID: StoreID, date: BusinessDate, transaction: TransactionID) -> String {
        SageReference.bounded("HL-\(storeID)-\(date.compact)-G\(transaction)")
    }

    /// `HL-<store>-<yyyymmdd>-A<transaction id>`, dated like the refund's suspense entry.
    public static func allocationReference(storeID: StoreID, date: BusinessDate, transaction: TransactionID) -> String {
        SageReference.bounded("HL-\(storeID)-\(date.compact)-A\(transaction)")
    }

    public static func suspenseKey(transaction: TransactionID) -> String { "heartland:gateway_refund:\(transaction)" }

    public static func allocationKey(transaction: TransactionID) -> String { "heartland:allocation:\(transaction)" }
}
