import Testing
@testable import Accounting

@Suite struct MappingRulesTests {
    let rules = Fixtures.rules

    @Test func defaultFileExpressesAccountingMd() {
        #expect(rules.currency == .usd)
        #expect(rules.cash.account == "1100")
        #expect(rules.giftCardRedeemed.account == "2300")
        #expect(rules.revenue.account == "4000")
        #expect(rules.discounts.account == "4100")
        #expect(rules.returns.account == "4200")
        #expect(rules.salesTax.account == "2200")
        #expect(rules.tips.account == "2210")
        #expect(rules.giftCardSold.account == "2300")
        #expect(rules.processingFees.account == "6100")
        #expect(rules.refundSuspense == AccountRule(account: "2900", rule: "sales.refund_suspense"))
        #expect(rules.name(of: "2900") == "Suspense - refunds awaiting allocation")
        #expect(rules.otherCardBrands.account == "1219")
        #expect(rules.cardBrands.mapValues(\.account) == ["visa": "1210", "mastercard": "1211", "amex": "1212", "discover": "1213"])
        #expect(rules.wages.account == "6000" && rules.employerTaxes.account == "6010" && rules.netPay.account == "1000")
        #expect(rules.payrollTaxes.mapValues(\.account) == [
            "FIT": "2100", "SIT": "2110", "SS": "2120", "MED": "2120", "FUTA": "2130", "SUI": "2140", "SUTA": "2140",
        ])
        #expect(rules.defaultDeduction?.account == "2150")
        #expect(rules.name(of: "1212") == "Card clearing - American Express")
    }

    @Test func rulesCarryTheirNames() {
        #expect(rules.clearingAccount(forBrand: "Visa") == AccountRule(account: "1210", rule: "tenders.card_brands.visa.account"))
        #expect(rules.clearingAccount(forBrand: "JCB") == AccountRule(account: "1219", rule: "tenders.card_other_brands"))
        #expect(rules.payrollTaxAccount(code: "fit")?.rule == "payroll.taxes.FIT")
        #expect(rules.referencedAccounts.allSatisfy { rules.accounts[$0.account] != nil })
    }

    @Test(arguments: [
        ("AMEX", "amex"), ("American Express", "amex"), ("americanexpress", "amex"), ("MC", "mastercard"),
        ("MASTERCARD", "mastercard"), ("M/C", "mastercard"), ("visa", "visa"), ("VISA", "visa"), ("DISCOVER", "discover"),
        ("Discover", "discover"), ("UnionPay", "other"),
    ])
    func brandSpellings(spelling: String, brand: String) {
        #expect(rules.canonicalBrand(spelling) == brand)
    }

    func error(_ replace: String, with replacement: String) -> MappingError? {
        let text = Fixtures.mappingText.replacingOccurrences(of: replace, with: replacement)
        #expect(text != Fixtures.mappingText, "fixture edit \(replace) did not apply")
        do {
            _ = try MappingRules(yaml: text, source: "Config/mapping.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test func missingRuleIsNamed() {
        let failure = error("  tips: \"2210\"", with: "")
        #expect(failure?.rule == "sales.tips")
        #expect(failure?.description == "Config/mapping.yaml: rule sales.tips: is missing; every rule of ACCOUNTING.md must be in the file")
    }

    /// Required like every rule: a file from before gateway-only refunds posted names the line to add
    /// instead of posting them to an account its chart may not have.
    @Test func suspenseRuleIsRequiredAndChecked() {
        let missing = error("  refund_suspense: \"2900\"", with: "")
        #expect(missing?.rule == "sales.refund_suspense")
        #expect(missing?.problem == "is missing; every rule of ACCOUNTING.md must be in the file")
        #expect(error("  refund_suspense: \"2900\"", with: "  refund_suspense: \"2999\"")?.rule == "sales.refund_suspense")
        #expect(error("  \"2900\": Suspense - refunds awaiting allocation\n", with: "")?.problem
            == "account 2900 is not in the chart of accounts (accounts:); add it there or change the rule")
    }

    @Test func accountOutsideTheChartIsNamed() {
        let failure = error("      account: \"1210\"", with: "      account: \"1290\"")
        #expect(failure == MappingError(file: "Config/mapping.yaml", rule: "tenders.card_brands.visa.account",
                                        problem: "account 1290 is not in the chart of accounts (accounts:); add it there or change the rule"))
    }

    @Test func payrollTaxAccountOutsideTheChartIsNamed() {
        #expect(error("    FUTA: \"2130\"", with: "    FUTA: \"2999\"")?.rule == "payroll.taxes.FUTA")
    }

    @Test func spellingOfTwoBrandsIsRejected() {
        let failure = error("[DISCOVER, Discover,", with: "[DISCOVER, Visa,")
        #expect(failure?.rule == "tenders.card_brands.visa.spellings")
        #expect(failure?.problem.contains("is also a spelling of discover") == true)
    }

    @Test func badCurrencyVersionAndYaml() {
        #expect(error("currency: USD", with: "currency: DOLLARS")?.rule == "company.currency")
        #expect(error("version: 1", with: "version: 2")?.rule == "version")
        #expect(error("sales:\n", with: "sales: [\n")?.rule == "")
        #expect(error("  cash: \"1100\"", with: "  cash: [\"1100\"]")?.rule == "tenders.cash")
    }

    @Test func emptyAccountIsRejected() {
        #expect(error("  revenue: \"4000\"", with: "  revenue: \"\"")?.rule == "sales.revenue")
    }

    @Test func unreadableFileNamesThePath() {
        #expect(throws: MappingError.self) { try MappingRules.load(path: "/nonexistent/mapping.yaml") }
        do {
            _ = try MappingRules.load(path: "/nonexistent/mapping.yaml")
        } catch {
            #expect(error.file == "/nonexistent/mapping.yaml")
        }
    }

    /// A type or brand is compared by its capital letters and digits: in ASCII, spelled byte by byte, exactly as through
    /// Unicode's properties (every ASCII character alone and in random words; and text that is not ASCII goes through them).
    @Test func aSpellingIsNormalisedAsUnicodesPropertiesNormaliseIt() {
        var words = (0..<128).map { String(UnicodeScalar(UInt8($0))) } + ["Credit Card", "On-Account", "GIFT_card 2", "visa", "", " "]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            var word = ""
            for _ in 0..<Int(state % 12) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                word.unicodeScalars.append(UnicodeScalar(UInt8(state >> 57)))
            }
            words.append(word)
        }
        for word in words {
            #expect(MappingRules.normalisedSpelling(word) == MappingRules.normalisedSpelling(unicode: word), "\(Array(word.utf8))")
        }
        #expect(MappingRules.normalisedSpelling("Crédit Cärd") == "CRÉDITCÄRD")
        #expect(MappingRules.normalisedSpelling("Credit Card") == "CREDITCARD")
    }
}
