/// Sums amounts into journal lines keyed by account, rule, side and description, with every
/// addition overflow-checked. Lines come out sorted by account, debits first, so the same day
/// gives the same entry whatever order its tickets arrived in.
struct JournalLedger {
    private struct Key: Hashable {
        var rule: AccountRule
        var side: JournalLine.Side
        var description: String
    }

    let currency: CurrencyCode
    private var order: [Key] = []
    private var totals: [Key: Int64] = [:]

    init(currency: CurrencyCode) { self.currency = currency }

    /// Adds a positive amount to `side` of the rule's account; a zero amount adds nothing.
    mutating func post(_ side: JournalLine.Side, _ rule: AccountRule, _ description: String, _ amount: Money,
                       record: @autoclosure () -> String) throws(PostingError) {
        guard amount.currency == currency else {
            throw .currencyMismatch(record: record(), found: amount.currency, expected: currency)
        }
        guard amount.minorUnits != 0 else { return }
        guard rule.perStore == nil else {
            throw .invalidData(record: record(), problem: "would post to mapping rule \(rule.rule), which names its account per store; "
                + "the rules must be resolved for the store first (MappingRules.resolved(for:))")
        }
        guard amount.minorUnits > 0 else {
            throw .invalidData(record: record(), problem: "posting a negative \(side.rawValue) of \(amount)")
        }
        let key = Key(rule: rule, side: side, description: description)
        if totals[key] == nil { order.append(key) }
        let (sum, overflow) = totals[key, default: 0].addingReportingOverflow(amount.minorUnits)
        guard !overflow else {
            throw .overflow(record: record(), detail: "\(description) on account \(rule.account) exceeds 64-bit cents")
        }
        totals[key] = sum
    }

    /// A signed amount: positive goes to `positive`, negative (magnitude) to the other side.
    mutating func postSigned(_ amount: Money, positive: JournalLine.Side, _ rule: AccountRule, positiveDescription: String,
                             negativeDescription: String, record: @autoclosure () -> String) throws(PostingError) {
        if amount.minorUnits >= 0 {
            try post(positive, rule, positiveDescription, amount, record: record())
        } else {
            let magnitude: Money
            do { magnitude = try amount.negated() } catch { throw .overflow(record: record(), detail: error.description) }
            try post(positive == .debit ? .credit : .debit, rule, negativeDescription, magnitude, record: record())
        }
    }

    /// Adds every line of another ledger (a ticket checked on its own, then kept), overflow-checked.
    mutating func absorb(_ other: JournalLedger, record: @autoclosure () -> String) throws(PostingError) {
        for key in other.order {
            try post(key.side, key.rule, key.description, Money(minorUnits: other.totals[key]!, currency: other.currency), record: record())
        }
    }

    var lines: [JournalLine] {
        order.sorted { a, b in
            (a.rule.account.rawValue, a.side == .debit ? 0 : 1, a.description, a.rule.rule)
                < (b.rule.account.rawValue, b.side == .debit ? 0 : 1, b.description, b.rule.rule)
        }.map { key in
            JournalLine(account: key.rule.account, rule: key.rule.rule, description: key.description, side: key.side,
                        amount: Money(minorUnits: totals[key]!, currency: currency))
        }
    }
}
