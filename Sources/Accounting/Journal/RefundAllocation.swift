/// What an operator found a gateway-only refund gave back: `amount` in all (what it took from the card's
/// clearing account and left in suspense), `tax` of it sales tax, the rest merchandise. Built from the
/// operator's text and checked against the mapping, so a journal is only ever built from a valid one.
public struct RefundAllocation: Hashable, Sendable {
    public var transactionID: TransactionID
    public var storeID: StoreID
    /// The store's business day of the refund: its suspense entry's date, part of the reference.
    public var businessDate: BusinessDate
    /// The day the allocation posts on: the refund's business day unless the operator chose another.
    public var postingDate: BusinessDate
    public var amount: Money
    public var tax: Money
    /// The mapping's returns account, or another account of its chart the operator named.
    public var returns: AccountRule

    /// - Parameters:
    ///   - amount, tax: decimal amounts in the company's currency, at most two decimals (`12.34`, `0.84`, `0`).
    ///   - returnsAccount: an account of the mapping's chart to take the merchandise instead of `sales.returns`.
    public init(transaction: String, store: String, date: String, postingDate: String? = nil, amount: String, tax: String,
                returnsAccount: String? = nil, rules: MappingRules) throws(RefundAllocationError) {
        let transaction = transaction.trimmingWhitespace(), store = store.trimmingWhitespace()
        guard !transaction.isEmpty else { throw .missing("transaction id") }
        guard !store.isEmpty else { throw .missing("store") }
        transactionID = TransactionID(transaction)
        storeID = StoreID(store)
        businessDate = try Self.date(date, field: "date")
        if let postingDate {
            self.postingDate = try Self.date(postingDate, field: "posting date")
        } else {
            self.postingDate = businessDate
        }
        self.amount = try Self.money(amount, field: "amount", currency: rules.currency)
        self.tax = try Self.money(tax, field: "tax", currency: rules.currency)
        guard self.amount.minorUnits > 0 else { throw .notPositive(field: "amount", value: amount) }
        guard self.tax.minorUnits >= 0 else { throw .notPositive(field: "tax", value: tax) }
        guard self.tax.minorUnits <= self.amount.minorUnits else { throw .taxExceedsAmount(amount: self.amount, tax: self.tax) }
        if let raw = returnsAccount?.trimmingWhitespace() {
            guard rules.accounts[AccountNumber(raw)] != nil else { throw .accountNotInChart(account: raw, mappingFile: rules.source) }
            returns = AccountRule(account: AccountNumber(raw), rule: "bridgectl refunds allocate --returns-account")
        } else {
            returns = rules.returns
        }
    }

    /// The merchandise given back: amount − tax, never negative.
    public var merchandise: Money { Money(minorUnits: amount.minorUnits - tax.minorUnits, currency: amount.currency) }

    private static func date(_ text: String, field: String) throws(RefundAllocationError) -> BusinessDate {
        do {
            return try BusinessDate(parsing: text)
        } catch {
            throw .invalid(field: field, value: text, problem: error.description)
        }
    }

    private static func money(_ text: String, field: String, currency: CurrencyCode) throws(RefundAllocationError) -> Money {
        do {
            return try Money.parse(text, currency: currency)
        } catch .invalidAmount(_, let reason) {
            throw .invalid(field: field, value: text, problem: reason)
        } catch {
            throw .invalid(field: field, value: text, problem: error.description)
        }
    }
}

/// Operator input an allocation cannot be built from, in words that say what to type instead.
public enum RefundAllocationError: Error, Equatable, Sendable, CustomStringConvertible {
    case missing(String)
    case invalid(field: String, value: String, problem: String)
    case notPositive(field: String, value: String)
    case taxExceedsAmount(amount: Money, tax: Money)
    case accountNotInChart(account: String, mappingFile: String)

    public var description: String {
        switch self {
        case .missing(let field):
            "the \(field) is empty"
        case .invalid(let field, let value, let problem):
            "\(field) \"\(value)\" cannot be used: \(problem)"
        case .notPositive(let field, let value):
            field == "tax" ? "tax \(value) is negative; give the sales tax refunded, 0 if none"
                : "amount \(value) is not more than zero; give the money the refund gave back, e.g. 12.34"
        case .taxExceedsAmount(let amount, let tax):
            "tax \(tax) is more than the refund's amount \(amount); the tax is part of the amount"
        case .accountNotInChart(let account, let file):
            "account \(account) is not in the chart of accounts of \(file); add it there (accounts:) or name another"
        }
    }
}
