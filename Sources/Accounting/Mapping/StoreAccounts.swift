/// The accounts of a rule that names one per store: a template (`4000-{store}`: `4000-S01` for store S01), overrides
/// for some stores, or both (the template for every store not listed). Without a template, only the listed stores have
/// an account.
public struct StoreAccounts: Hashable, Sendable, Codable {
    /// The account of every store not in `stores`; `{store}` stands for the store's id.
    public var template: String?
    public var stores: [StoreID: AccountNumber]

    public static let placeholder = "{store}"

    public init(template: String?, stores: [StoreID: AccountNumber]) {
        self.template = template
        self.stores = stores
    }

    /// The store's account, or nil when the rule names none for it.
    public func account(for store: StoreID) -> AccountNumber? {
        if let listed = stores[store] { return listed }
        return template.map { AccountNumber($0.replacingOccurrences(of: Self.placeholder, with: store.rawValue)) }
    }

    /// An account number, or one with `{store}` and no other braces.
    static func isTemplate(_ text: String) -> Bool {
        isPlaceholderFree(text.replacingOccurrences(of: placeholder, with: ""))
    }

    static func isPlaceholderFree(_ text: String) -> Bool { !text.contains("{") && !text.contains("}") }
}

/// A store whose documents need an account the mapping does not give it: every rule at fault, with the account the rule
/// gives (if any) and why it cannot be used. The store's documents are held (one alert per store) until the mapping is
/// completed and the hold replayed.
public struct StoreMappingGap: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Missing: Hashable, Sendable {
        /// The rule's path, e.g. `sales.revenue`.
        public var rule: String
        /// The account the template gives the store, nil when the rule names none for it.
        public var account: AccountNumber?
    }

    public var store: StoreID
    public var file: String
    public var missing: [Missing]

    public var description: String {
        let rules = missing.map { gap in
            gap.account.map { "\(gap.rule) gives \($0), which is not in the chart of accounts (accounts:)" }
                ?? "\(gap.rule) names no account for it (no default, the store is not under stores:)"
        }
        return "store \(store) has no GL account where the mapping needs one: \(rules.joined(separator: "; ")). Its documents are held; "
            + "complete \(file) (the account under accounts:, and in Sage) and, once the transformer and sage-loader have read it, run "
            + "`bridgectl dlq replay transformer`"
    }

    /// The same store missing the same accounts is one hold, one alert.
    public var holdKey: String {
        "mapping-gap:\(store):" + missing.map { "\($0.rule)=\($0.account?.rawValue ?? "-")" }.joined(separator: ",")
    }
}

extension MappingRules {
    /// Whether any rule names its account per store.
    public var hasPerStoreAccounts: Bool { referencedRules.contains { $0.perStore != nil } }

    /// The rules with every per-store account chosen for `store`; throws when a rule names no account for the store, or
    /// one that is not in the chart. Payroll rules name one account and are left as they are.
    public func resolved(for store: StoreID) throws(StoreMappingGap) -> MappingRules {
        guard hasPerStoreAccounts else { return self }
        var missing: [StoreMappingGap.Missing] = []
        func pick(_ rule: AccountRule) -> AccountRule {
            guard let perStore = rule.perStore else { return rule }
            guard let account = perStore.account(for: store), accounts[account] != nil else {
                missing.append(.init(rule: rule.rule, account: perStore.account(for: store)))
                return rule
            }
            return AccountRule(account: account, rule: rule.rule)
        }
        var resolved = self
        resolved.revenue = pick(revenue)
        resolved.discounts = pick(discounts)
        resolved.returns = pick(returns)
        resolved.salesTax = pick(salesTax)
        resolved.tips = pick(tips)
        resolved.giftCardSold = pick(giftCardSold)
        resolved.processingFees = pick(processingFees)
        resolved.refundSuspense = pick(refundSuspense)
        resolved.cash = pick(cash)
        resolved.giftCardRedeemed = pick(giftCardRedeemed)
        resolved.otherCardBrands = pick(otherCardBrands)
        for brand in cardBrands.keys.sorted() { resolved.cardBrands[brand] = pick(cardBrands[brand]!) }
        resolved.receivablesControl = receivablesControl.map(pick)
        guard missing.isEmpty else { throw StoreMappingGap(store: store, file: source, missing: missing) }
        return resolved
    }

    /// Every rule with an account, per-store ones as written.
    var referencedRules: [AccountRule] {
        [revenue, discounts, returns, salesTax, tips, giftCardSold, processingFees, refundSuspense, cash, giftCardRedeemed, otherCardBrands]
            + cardBrands.values + (receivablesControl.map { [$0] } ?? [])
    }
}
