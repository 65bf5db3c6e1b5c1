/// A GL account chosen by a named rule of the mapping file, so an error about the account can
/// say which rule to change (`tenders.card_brands.visa`).
public struct AccountRule: Hashable, Sendable, Codable, CustomStringConvertible {
    public var account: AccountNumber
    /// The rule's path in the mapping file.
    public var rule: String

    public init(account: AccountNumber, rule: String) {
        self.account = account
        self.rule = rule
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

    /// Every account the rules can post to, with the first rule naming it.
    public var referencedAccounts: [AccountRule] {
        var all = [revenue, discounts, returns, salesTax, tips, giftCardSold, processingFees, refundSuspense, cash, giftCardRedeemed,
                   otherCardBrands, wages, employerTaxes, netPay]
        all += cardBrands.keys.sorted().map { cardBrands[$0]! }
        all += payrollTaxes.keys.sorted().map { payrollTaxes[$0]! }
        all += deductions.keys.sorted().map { deductions[$0]! }
        if let defaultDeduction { all.append(defaultDeduction) }
        return all
    }

    static func normalisedSpelling(_ text: String) -> String {
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
