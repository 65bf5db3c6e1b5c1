/// A GL account chosen by a named rule of the mapping file, so an error about the account can
/// say which rule to change (`tenders.card_brands.visa`).
public struct AccountRule: Hashable, Sendable, Codable, CustomStringConvertible {
    public var account: AccountNumber
    /// The rule's path in the mapping file.
    public var rule: String
    /// Set when the rule names an account per store (a template such as `4000-{store}`, overrides): `account` is then
    /// the template, never posted to; `MappingRules.resolved(for:)` gives the store's own account.
    public var perStore: StoreAccounts?

    public init(account: AccountNumber, rule: String, perStore: StoreAccounts? = nil) {
        self.account = account
        self.rule = rule
        self.perStore = perStore
    }

    public var description: String { "\(account) (mapping rule \(rule))" }
}

/// The accounting rules of ACCOUNTING.md as data, loaded from `Config/mapping.yaml`.
/// Build with `MappingRules.load(path:)` or `MappingRules(yaml:source:)`; both validate.
public struct MappingRules: Hashable, Sendable {
    /// Where the rules came from, for error messages.
    public var source: String
    /// The Sage company's currency; a store day or pay run in another currency does not post.
    public var currency: CurrencyCode
    /// The chart of accounts the rules may use, with names.
    public var accounts: [AccountNumber: String]

    public var revenue: AccountRule
    public var discounts: AccountRule
    public var returns: AccountRule
    public var salesTax: AccountRule
    public var tips: AccountRule
    public var giftCardSold: AccountRule
    public var processingFees: AccountRule
    /// A card refund keyed on the gateway with no return ticket: its merchandise and tax are unknown, so it
    /// waits here (debited) until an operator allocates it to `returns` and `salesTax`.
    public var refundSuspense: AccountRule

    public var cash: AccountRule
    public var giftCardRedeemed: AccountRule
    /// Canonical brand (`visa`) → its clearing account.
    public var cardBrands: [String: AccountRule]
    /// Normalised spelling (`AMERICANEXPRESS`) → canonical brand (`amex`).
    public var brandSpellings: [String: String]
    public var otherCardBrands: AccountRule

    public var wages: AccountRule
    public var employerTaxes: AccountRule
    public var netPay: AccountRule
    /// Tax code (`FIT`) → liability.
    public var payrollTaxes: [String: AccountRule]
    /// Deduction code → liability, overriding `defaultDeduction`.
    public var deductions: [String: AccountRule]
    /// Nil: every deduction code must be listed.
    public var defaultDeduction: AccountRule?
    /// Every rule of the file that names an account, in the order the file was read: one row each on the mapping page
    /// (`MappingRows`). A rule added to the file format is a row as soon as the validator reads it.
    public var ruleAccounts: [AccountRule] = []

    /// AR's control account (`accounts_receivable.control`): a tender charged to a customer's house account debits it
    /// (the customer's invoice is in Sage AR), a payment on account taken at the POS credits it (an AR receipt). Nil:
    /// the mapping has no receivables section, and such tickets cannot post.
    public var receivablesControl: AccountRule?

    /// The brand name card clearing falls back to.
    public static let otherBrand = "other"

    /// `VISA`, `Visa`, `visa` → `visa`; an unknown spelling → `other`.
    public func canonicalBrand(_ spelling: String) -> String {
        brandSpellings[Self.normalisedSpelling(spelling)] ?? Self.otherBrand
    }

    /// The clearing account of a card brand as received; unknown brands use the fallback.
    public func clearingAccount(forBrand spelling: String) -> AccountRule {
        cardBrands[canonicalBrand(spelling)] ?? otherCardBrands
    }

    public func payrollTaxAccount(code: String) -> AccountRule? {
        payrollTaxes[Self.normalisedCode(code)]
    }

    public func deductionAccount(code: String) -> AccountRule? {
        deductions[Self.normalisedCode(code)] ?? defaultDeduction
    }

    /// The account's name in the chart, for journal line descriptions.
    public func name(of account: AccountNumber) -> String { accounts[account] ?? "" }

    /// Every account the rules can post to, with the first rule naming it. A per-store rule gives its overrides and
    /// its default when that is one account; a template (`4000-{store}`) is an account only per store
    /// (`resolved(for:)`).
    public var referencedAccounts: [AccountRule] {
        var all = [revenue, discounts, returns, salesTax, tips, giftCardSold, processingFees, refundSuspense, cash, giftCardRedeemed,
                   otherCardBrands, wages, employerTaxes, netPay]
        all += cardBrands.keys.sorted().map { cardBrands[$0]! }
        all += payrollTaxes.keys.sorted().map { payrollTaxes[$0]! }
        all += deductions.keys.sorted().map { deductions[$0]! }
        if let defaultDeduction { all.append(defaultDeduction) }
        if let receivablesControl { all.append(receivablesControl) }
        return all.flatMap { rule -> [AccountRule] in
            guard let perStore = rule.perStore else { return [rule] }
            let fixed = perStore.template.flatMap { StoreAccounts.isPlaceholderFree($0) ? AccountRule(account: AccountNumber($0), rule: rule.rule) : nil }
            return (fixed.map { [$0] } ?? []) + perStore.stores.sorted { $0.key < $1.key }.map {
                AccountRule(account: $0.value, rule: "\(rule.rule).stores.\($0.key)")
            }
        }
    }

    /// `text` in capitals, its letters and digits only (`Credit Card` → `CREDITCARD`): how a ticket's types and brands are
    /// compared, whatever their spelling.
    static func normalisedSpelling(_ text: String) -> String {
        // ASCII, as Heartland writes every type and brand, byte by byte: Unicode's properties of each character were 5 % of
        // the transformer's CPU reading a day's tickets (issue 21).
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return normalisedSpelling(unicode: text) }
        return String(decoding: text.utf8.lazy.compactMap { byte -> UInt8? in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - 0x20
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): byte
            default: nil
            }
        }, as: UTF8.self)
    }

    static func normalisedSpelling(unicode text: String) -> String {
        String(text.uppercased().unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) })
    }

    static func normalisedCode(_ code: String) -> String { code.trimmingWhitespace().uppercased() }
}

/// A mapping file that cannot be used, with the file and the rule at fault.
public struct MappingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// Dotted path of the rule or key, e.g. `payroll.taxes.FIT`; empty for the whole file.
    public var rule: String
    public var problem: String

    public init(file: String, rule: String, problem: String) {
        self.file = file
        self.rule = rule
        self.problem = problem
    }

    public var description: String {
        rule.isEmpty ? "\(file): \(problem)" : "\(file): rule \(rule): \(problem)"
    }
}
