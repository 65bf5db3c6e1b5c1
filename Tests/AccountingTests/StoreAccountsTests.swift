import Foundation
import Testing
@testable import Accounting

/// Issue 23, item 2: a rule may name its account per store (a template, overrides); a store the rules give no listed
/// account is a gap naming every rule at fault, and its journals can only be built from the rules resolved for it.
@Suite struct StoreAccountsTests {
    static func rules(_ edit: (String) -> String) throws -> MappingRules {
        try MappingRules(yaml: edit(Fixtures.mappingText), source: "per-store.yaml")
    }

    /// Revenue per store by template, cash overridden for S02, S01 and S02 listed in the chart; S03 is not.
    static let perStore: MappingRules = try! rules { text in
        text.replacingOccurrences(of: "  revenue: \"4000\"", with: "  revenue: \"4000-{store}\"")
            .replacingOccurrences(of: "  cash: \"1100\"", with: "  cash: {account: \"1100\", stores: {S02: \"1100-S02\"}}")
            .replacingOccurrences(of: "  \"4000\": Sales revenue\n",
                                  with: "  \"4000\": Sales revenue\n  \"4000-S01\": Sales revenue S01\n  \"4000-S02\": Sales revenue S02\n  \"1100-S02\": Cash S02\n")
    }

    @Test func templateAndOverridesChooseEachStoresAccount() throws {
        let s01 = try Self.perStore.resolved(for: "S01")
        #expect(s01.revenue == AccountRule(account: "4000-S01", rule: "sales.revenue"))
        #expect(s01.cash == AccountRule(account: "1100", rule: "tenders.cash"))
        let s02 = try Self.perStore.resolved(for: "S02")
        #expect(s02.revenue.account == "4000-S02" && s02.cash.account == "1100-S02")
        #expect(Self.perStore.revenue.perStore?.template == "4000-{store}")
        // The chart check of the file covers the fixed accounts and the overrides; a template is an account only per store.
        #expect(Self.perStore.referencedAccounts.contains(AccountRule(account: "1100-S02", rule: "tenders.cash.stores.S02")))
        #expect(!Self.perStore.referencedAccounts.contains { $0.account.rawValue.contains("{") })
    }

    @Test func aStoreDayPostsToTheStoresOwnAccounts() throws {
        let day = Fixtures.storeDay([Fixtures.ticket("1", lines: [item(1, 2000), tax(160)], tenders: [cash(2160)])], store: "S02")
        let entry = try SettlementJournalBuilder(rules: try Self.perStore.resolved(for: "S02")).build(day)
        #expect(entry.netByAccount == ["1100-S02": 2160, "4000-S02": -2000, "2200": -160])
    }

    @Test func aStoreWithoutAnAccountIsAGapNamingTheRule() throws {
        #expect(throws: StoreMappingGap.self) { try Self.perStore.resolved(for: "S03") }
        do {
            _ = try Self.perStore.resolved(for: "S03")
        } catch {
            #expect(error.store == "S03")
            #expect(error.missing == [.init(rule: "sales.revenue", account: "4000-S03")])
            #expect(error.description.contains("sales.revenue gives 4000-S03, which is not in the chart of accounts"))
            #expect(error.description.contains("bridgectl dlq replay transformer"))
            #expect(error.holdKey == "mapping-gap:S03:sales.revenue=4000-S03")
        }
        // Overrides without a default: only the listed stores have an account.
        let listed = try Self.rules { $0.replacingOccurrences(of: "  tips: \"2210\"", with: "  tips: {stores: {S01: \"2210\"}}") }
        #expect(try listed.resolved(for: "S01").tips.account == "2210")
        #expect(throws: StoreMappingGap(store: "S02", file: "per-store.yaml", missing: [.init(rule: "sales.tips", account: nil)])) {
            try listed.resolved(for: "S02")
        }
    }

    @Test func unresolvedRulesNeverReachAJournal() {
        let day = Fixtures.storeDay([Fixtures.ticket("1", lines: [item(1, 2000)], tenders: [cash(2000)])], store: "S01")
        #expect(throws: PostingError.self) { try SettlementJournalBuilder(rules: Self.perStore).build(day) }
    }

    @Test func theFileIsCheckedWhereItCanBe() {
        // An override outside the chart is refused at load, naming the rule.
        #expect(throws: MappingError.self) {
            try Self.rules { $0.replacingOccurrences(of: "  tips: \"2210\"", with: "  tips: {account: \"2210\", stores: {S01: \"2299\"}}") }
        }
        // Payroll has no store.
        #expect(throws: MappingError.self) { try Self.rules { $0.replacingOccurrences(of: "  wages: \"6000\"", with: "  wages: \"6000-{store}\"") } }
        // A template needs {store} and nothing else in braces.
        #expect(throws: MappingError.self) { try Self.rules { $0.replacingOccurrences(of: "  revenue: \"4000\"", with: "  revenue: \"4000-{shop}\"") } }
        // The shipped file has no per-store rule.
        #expect(!Fixtures.rules.hasPerStoreAccounts)
        #expect(throws: Never.self) { try Fixtures.rules.resolved(for: "ANY") }
    }
}
