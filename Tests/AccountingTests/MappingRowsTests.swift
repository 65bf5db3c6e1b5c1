import Foundation
import Testing
@testable import Accounting

/// The mapping as rows (issue 23), and a changed row written back into the file with everything else kept.
@Suite struct MappingRowsTests {
    let document = try! MappingDocument(yaml: Fixtures.mappingText, source: "mapping.yaml")

    @Test func everyRuleThatNamesAnAccountIsOneRowWithItsHeartlandSideAndTheAccountsName() throws {
        let rows = document.rows
        // 8 sales rules, cash, gift card, 4 brands, the fallback; 3 payroll, 7 tax codes, 2 deduction codes and the default;
        // AR's control account (a sale on a house account).
        #expect(rows.count == 8 + 2 + 4 + 1 + 3 + 7 + 2 + 1 + 1)
        let receivables = try #require(rows.first { $0.rule == "accounts_receivable.control" })
        #expect(receivables.account == "1200" && receivables.kind == "Tender")
        #expect(Set(rows.map(\.rule)).count == rows.count)
        let visa = try #require(rows.first { $0.rule == "tenders.card_brands.visa.account" })
        #expect(visa.kind == "Card brand")
        #expect(visa.heartland.hasPrefix("visa (") && visa.heartland.contains("VI"))
        #expect(visa.account == "1210" && visa.accountName == "Card clearing - Visa")
        let fit = try #require(rows.first { $0.rule == "payroll.taxes.FIT" })
        #expect(fit.kind == "Payroll tax code" && fit.heartland == "FIT" && fit.account == "2100")
        #expect(fit.note == "federal income tax withheld")
        let fees = try #require(rows.first { $0.rule == "sales.processing_fees" })
        #expect(fees.kind == "Fee" && fees.account == "6100" && fees.note?.hasPrefix("batch fees debited") == true)
        #expect(rows.first { $0.rule == "tenders.card_other_brands" }?.heartland == "any other brand")
        #expect(rows.first { $0.rule == "payroll.deductions.default" }?.heartland == "any other code")
        // Every account the rules can post to is on a row.
        #expect(Set(document.rules.referencedAccounts.map(\.rule)).isSubset(of: Set(rows.map(\.rule))))
    }

    @Test func aChangedAccountIsWrittenOnItsOwnLineAndEverythingElseStays() throws {
        let edited = try document.setting(["tenders.card_brands.visa.account": "1213"])
        #expect(edited.rules.cardBrands["visa"]?.account == "1213")
        #expect(edited.rules.clearingAccount(forBrand: "VISA CREDIT").account == "1213")
        let before = Fixtures.mappingText.components(separatedBy: "\n")
        let after = edited.text.components(separatedBy: "\n")
        #expect(before.count == after.count)
        let changed = zip(before, after).filter { $0 != $1 }
        #expect(changed.count == 1)
        #expect(changed.first?.1 == "      account: \"1213\"")
        // Every other rule as it was.
        #expect(document.changes(to: edited) == [MappingRowChange(rule: "tenders.card_brands.visa.account", before: "1210", after: "1213")])
    }

    @Test func aCommentOnTheLineIsKeptInItsColumn() throws {
        let edited = try document.setting(["payroll.taxes.SUI": "2150", "sales.tips": "2300"])
        let line = try #require(edited.text.components(separatedBy: "\n").first { $0.contains("SUI:") })
        #expect(line == "    SUI: \"2150\"            # state unemployment (Heartland's code)")
        #expect(edited.rules.payrollTaxAccount(code: "SUI")?.account == "2150")
        #expect(edited.rules.tips.account == "2300")
        #expect(edited.rows.first { $0.rule == "sales.tips" }?.note == "gratuity inside card tenders credited")
    }

    @Test func anAccountNewToTheFileIsAddedToTheChartInNumberOrderWithSagesName() throws {
        let edited = try document.setting(["tenders.card_brands.amex.account": "1214"], names: ["1214": "Card clearing - Amex: new acquirer"])
        #expect(edited.rules.cardBrands["amex"]?.account == "1214")
        #expect(edited.rules.name(of: "1214") == "Card clearing - Amex: new acquirer")
        let lines = edited.text.components(separatedBy: "\n")
        let added = try #require(lines.firstIndex { $0.contains("\"1214\":") })
        #expect(lines[added] == "  \"1214\": \"Card clearing - Amex: new acquirer\"")
        #expect(lines[added - 1].contains("\"1213\"") && lines[added + 1].contains("\"1219\""))
        #expect(edited.rows.first { $0.rule == "tenders.card_brands.amex.account" }?.accountName == "Card clearing - Amex: new acquirer")
    }

    @Test func unknownRulesAndUnnamedNewAccountsAreRefusedNamingTheRule() {
        #expect(throws: MappingError.self) { try document.setting(["tenders.card_brands.jcb.account": "1219"]) }
        #expect(throws: MappingError.self) { try document.setting(["sales.revenue": "4999"]) }  // no name for the new account
        #expect(throws: MappingError.self) { try document.setting(["sales.revenue": "40\"00"]) }
        do {
            _ = try document.setting(["company.currency": "1000"])
            Issue.record("a non-account key was edited")
        } catch {
            #expect(error.rule == "company.currency")
        }
    }

    @Test func theRowsAreGenericOverTheRulesTheValidatorReads() throws {
        // A rule the file gains (a new deduction code) is a row without any change to the page.
        let text = Fixtures.mappingText.replacingOccurrences(of: "      MED125: \"2150\"", with: "      MED125: \"2150\"\n      HSA: \"2150\"  # health savings")
        let grown = try MappingDocument(yaml: text, source: "grown.yaml")
        let row = try #require(grown.rows.first { $0.rule == "payroll.deductions.codes.HSA" })
        #expect(row.kind == "Payroll deduction code" && row.note == "health savings")
        let edited = try grown.setting(["payroll.deductions.codes.HSA": "2100"])
        #expect(edited.rules.deductionAccount(code: "HSA")?.account == "2100")
    }
}

extension MappingRowsTests {
    @Test func rowsComeInTheOrderOfTheFilesLines() {
        let rules = document.rows.map(\.rule)
        #expect(rules.prefix(3) == ["sales.revenue", "sales.discounts", "sales.returns"])
        #expect(rules.firstIndex(of: "tenders.cash")! < rules.firstIndex(of: "tenders.card_brands.visa.account")!)
        #expect(rules.firstIndex(of: "tenders.card_brands.visa.account")! < rules.firstIndex(of: "tenders.card_brands.mastercard.account")!)
        #expect(rules.last == "payroll.deductions.codes.MED125")
    }
}

extension MappingRowsTests {
    @Test func aCommentContinuedOnTheNextLineIsOneNote() {
        let note = document.rows.first { $0.rule == "sales.refund_suspense" }?.note
        #expect(note == "a card refund with no return ticket (keyed on the gateway) is debited here until an "
            + "operator allocates it to returns and sales tax (bridgectl refunds allocate)")
        #expect(document.rows.first { $0.rule == "sales.processing_fees" }?.note == "batch fees debited here, credited to the brand's clearing account")
    }
}

extension MappingRowsTests {
    @Test func anAccountNameWithQuotesColonsHashesAndLineBreaksStaysOneLineAndReadsBack() throws {
        let name = "Clearing \"new\" acquirer: #2\nsecond line\\ end"
        let edited = try document.setting(["sales.tips": "2211"], names: ["2211": name])
        #expect(edited.rules.name(of: "2211") == name)
        #expect(edited.text.components(separatedBy: "\n").count == Fixtures.mappingText.components(separatedBy: "\n").count + 1)
    }
}
