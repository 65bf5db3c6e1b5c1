import Foundation
import Yams

extension MappingRules {
    /// Reads and validates a mapping file.
    public static func load(path: String) throws(MappingError) -> MappingRules {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MappingError(file: path, rule: "", problem: "cannot be read (\(error.localizedDescription)); check the path")
        }
        return try MappingRules(yaml: text, source: path)
    }

    /// Parses and validates mapping YAML; `source` names the file in errors.
    public init(yaml: String, source: String) throws(MappingError) {
        let file: MappingFile
        do {
            file = try YAMLDecoder().decode(MappingFile.self, from: yaml)
        } catch let error as DecodingError {
            throw Self.describe(error, source: source)
        } catch {
            throw MappingError(file: source, rule: "", problem: "is not valid YAML: \(error)")
        }
        self = try MappingFileValidator(file: file, source: source).rules()
    }

    private static func describe(_ error: DecodingError, source: String) -> MappingError {
        func path(_ keys: [any CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context):
            let rule = path(context.codingPath + [key])
            return MappingError(file: source, rule: rule, problem: "is missing; every rule of ACCOUNTING.md must be in the file")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return MappingError(file: source, rule: path(context.codingPath), problem: "has the wrong type: \(context.debugDescription)")
        case .dataCorrupted(let context):
            return MappingError(file: source, rule: path(context.codingPath), problem: "is not valid: \(context.debugDescription)")
        @unknown default:
            return MappingError(file: source, rule: "", problem: "cannot be decoded: \(error)")
        }
    }
}

/// The YAML layout of the mapping file; see `Config/mapping.yaml`.
struct MappingFile: Decodable {
    struct Company: Decodable { var currency: String }
    struct Sales: Decodable {
        var revenue: AccountSpec
        var discounts: AccountSpec
        var returns: AccountSpec
        var sales_tax: AccountSpec
        var tips: AccountSpec
        var gift_card_sold: AccountSpec
        var processing_fees: AccountSpec
        var refund_suspense: AccountSpec
    }
    struct Brand: Decodable {
        var account: AccountSpec
        var spellings: [String]?
    }
    struct Tenders: Decodable {
        var cash: AccountSpec
        var gift_card: AccountSpec
        var card_brands: [String: Brand]
        var card_other_brands: AccountSpec
    }
    struct Deductions: Decodable {
        var `default`: String?
        var codes: [String: String]?
    }
    struct Payroll: Decodable {
        var wages: String
        var employer_taxes: String
        var net_pay: String
        var taxes: [String: String]
        var deductions: Deductions
    }
    /// Optional: without it, a ticket charged to a customer's house account cannot post (it is set aside).
    struct Receivables: Decodable {
        var control: AccountSpec
    }

    var version: Int
    var company: Company
    var accounts: [String: String]
    var sales: Sales
    var tenders: Tenders
    var payroll: Payroll
    var accounts_receivable: Receivables?
}

/// An account as a sales, tender or receivables rule may name it: one account (`"4000"`), a template with the
/// store (`"4000-{store}"`), or a map with per-store overrides and an optional default (itself plain or a template):
/// `{account: "4000", stores: {S01: "4000-S01"}}`. Payroll rules name one account: a pay run has no store.
struct AccountSpec: Decodable {
    var account: String?
    var stores: [String: String]

    init(from decoder: any Decoder) throws {
        if let plain = try? decoder.singleValueContainer().decode(String.self) {
            account = plain
            stores = [:]
            return
        }
        struct PerStore: Decodable {
            var account: String?
            var stores: [String: String]?
        }
        let map = try PerStore(from: decoder)
        account = map.account
        stores = map.stores ?? [:]
    }
}

/// Checks a decoded file against the rules ACCOUNTING.md needs and builds `MappingRules`.
struct MappingFileValidator {
    let file: MappingFile
    let source: String

    func rules() throws(MappingError) -> MappingRules {
        guard file.version == 1 else {
            throw fail("version", "is \(file.version); this bridge reads version 1")
        }
        let currency: CurrencyCode
        do { currency = try CurrencyCode(file.company.currency) } catch { throw fail("company.currency", error.description) }
        var chart: [AccountNumber: String] = [:]
        for (number, name) in file.accounts {
            guard !number.trimmingWhitespace().isEmpty else { throw fail("accounts", "has an empty account number") }
            chart[AccountNumber(number.trimmingWhitespace())] = name
        }
        guard !chart.isEmpty else { throw fail("accounts", "is empty; list the chart of accounts the rules use") }

        // Every rule read through here is one row of the mapping (`MappingRules.ruleAccounts`, the console's page).
        var named: [AccountRule] = []
        func account(_ rule: String, _ raw: String) throws(MappingError) -> AccountRule {
            let number = raw.trimmingWhitespace()
            guard !number.isEmpty else { throw fail(rule, "names no account") }
            guard !number.contains("{") else {
                throw fail(rule, "\(number) is a per-store template; payroll rules name one account (a pay run has no store)")
            }
            guard chart[AccountNumber(number)] != nil else {
                throw fail(rule, "account \(number) is not in the chart of accounts (accounts:); add it there or change the rule")
            }
            let read = AccountRule(account: AccountNumber(number), rule: rule)
            named.append(read)
            return read
        }
        /// A rule that may name an account per store: overrides must be in the chart now; a template is checked per
        /// store when a store's documents post (`MappingRules.resolved(for:)`).
        func account(_ rule: String, _ spec: AccountSpec) throws(MappingError) -> AccountRule {
            let template = spec.account?.trimmingWhitespace()
            if spec.stores.isEmpty, let template, !template.contains("{") { return try account(rule, template) }
            if let template {
                guard !template.isEmpty else { throw fail(rule, "names no account") }
                guard StoreAccounts.isTemplate(template) else {
                    throw fail(rule, "\(template) is not an account number or a template with {store} (e.g. 4000-{store})")
                }
                if !template.contains("{"), chart[AccountNumber(template)] == nil {
                    throw fail("\(rule).account", "account \(template) is not in the chart of accounts (accounts:); add it there or change the rule")
                }
            }
            var overrides: [StoreID: AccountNumber] = [:]
            for (store, raw) in spec.stores.sorted(by: { $0.key < $1.key }) {
                overrides[StoreID(store.trimmingWhitespace())] = try account("\(rule).stores.\(store)", raw).account
            }
            let perStore = StoreAccounts(template: template, stores: overrides)
            return AccountRule(account: AccountNumber(template ?? StoreAccounts.placeholder), rule: rule, perStore: perStore)
        }

        var brands: [String: AccountRule] = [:]
        var spellings: [String: String] = [:]
        for name in file.tenders.card_brands.keys.sorted() {
            let brand = name.lowercased()
            let rule = "tenders.card_brands.\(name)"
            guard brand != MappingRules.otherBrand else {
                throw fail(rule, "\"other\" is reserved; use tenders.card_other_brands for the fallback account")
            }
            brands[brand] = try account("\(rule).account", file.tenders.card_brands[name]!.account)
            for spelling in [name] + (file.tenders.card_brands[name]!.spellings ?? []) {
                let key = MappingRules.normalisedSpelling(spelling)
                guard !key.isEmpty else { throw fail("\(rule).spellings", "has an empty spelling") }
                if let other = spellings[key], other != brand {
                    throw fail("\(rule).spellings", "\"\(spelling)\" is also a spelling of \(other); a spelling can name one brand only")
                }
                spellings[key] = brand
            }
        }

        var taxes: [String: AccountRule] = [:]
        for code in file.payroll.taxes.keys.sorted() {
            taxes[MappingRules.normalisedCode(code)] = try account("payroll.taxes.\(code)", file.payroll.taxes[code]!)
        }
        var deductions: [String: AccountRule] = [:]
        for (code, number) in (file.payroll.deductions.codes ?? [:]).sorted(by: { $0.key < $1.key }) {
            deductions[MappingRules.normalisedCode(code)] = try account("payroll.deductions.codes.\(code)", number)
        }
        let defaultDeduction = try file.payroll.deductions.default.map { raw throws(MappingError) in
            try account("payroll.deductions.default", raw)
        }

        let sales = file.sales
        var rules = MappingRules(
            source: source, currency: currency, accounts: chart,
            revenue: try account("sales.revenue", sales.revenue),
            discounts: try account("sales.discounts", sales.discounts),
            returns: try account("sales.returns", sales.returns),
            salesTax: try account("sales.sales_tax", sales.sales_tax),
            tips: try account("sales.tips", sales.tips),
            giftCardSold: try account("sales.gift_card_sold", sales.gift_card_sold),
            processingFees: try account("sales.processing_fees", sales.processing_fees),
            refundSuspense: try account("sales.refund_suspense", sales.refund_suspense),
            cash: try account("tenders.cash", file.tenders.cash),
            giftCardRedeemed: try account("tenders.gift_card", file.tenders.gift_card),
            cardBrands: brands, brandSpellings: spellings,
            otherCardBrands: try account("tenders.card_other_brands", file.tenders.card_other_brands),
            wages: try account("payroll.wages", file.payroll.wages),
            employerTaxes: try account("payroll.employer_taxes", file.payroll.employer_taxes),
            netPay: try account("payroll.net_pay", file.payroll.net_pay),
            payrollTaxes: taxes, deductions: deductions, defaultDeduction: defaultDeduction,
            receivablesControl: try file.accounts_receivable.map { receivables throws(MappingError) in
                try account("accounts_receivable.control", receivables.control)
            })
        // The rows of the mapping page: every rule naming one account, and each per-store override (a template is not a
        // row: it names no account of the chart; it is edited in the file).
        rules.ruleAccounts = named
        return rules
    }

    private func fail(_ rule: String, _ problem: String) -> MappingError {
        MappingError(file: source, rule: rule, problem: problem)
    }
}
