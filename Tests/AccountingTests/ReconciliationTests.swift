import Testing
@testable import Accounting

@Suite struct ReconciliationTests {
    /// Visa sale: item 18.40 + tax 1.60 + tip 3.00 = 23.00; Amex refund of a 10.00 untaxed item; fees Visa 0.70.
    static let batch = Fixtures.batch([("VISA", sales: 2300, refunds: 0, tips: 300, fees: 70), ("AMEX", sales: 0, refunds: 1000, tips: 0, fees: 0)])
    static let entry = try! SettlementJournalBuilder(rules: Fixtures.rules).build(Fixtures.storeDay([
        Fixtures.ticket("1", lines: [item(1, 1840), tax(160)], tenders: [card("VISA", 2300, tip: 300)]),
        Fixtures.ticket("2", lines: [item(-1, 1000)], tenders: [card("AMEX", -1000)]),
    ], batch: batch))

    /// What Sage would hold, written by hand: 1210 +23.00 −0.70, 1212 −10.00, 4000 −18.40, 4200 +10.00,
    /// 2200 −1.60, 2210 −3.00, 6100 +0.70.
    static let sageLines: [PostedLine] = [
        PostedLine(account: "1210", signedCents: 2300), PostedLine(account: "1210", signedCents: -70),
        PostedLine(account: "1212", signedCents: -1000), PostedLine(account: "4000", signedCents: -1840),
        PostedLine(account: "4200", signedCents: 1000), PostedLine(account: "2200", signedCents: -160),
        PostedLine(account: "2210", signedCents: -300), PostedLine(account: "6100", signedCents: 70),
    ]

    func reconcile(_ lines: [PostedLine]?, pending: String? = nil) -> ReconciliationReport {
        Reconciler.reconcile(storeID: "1", expected: Self.entry, batch: Self.batch,
                             sage: lines.map { SageReadBack(reference: Self.entry.reference, lines: $0) }, pendingReason: pending,
                             rules: Fixtures.rules)
    }

    @Test func matched() {
        let report = reconcile(Self.sageLines)
        #expect(report.status == .matched)
        #expect(report.differences.isEmpty)
        // Per brand: Visa 23.00 − 0.70 = 22.30 on 1210; Amex −10.00 on 1212. Tips 3.00.
        let brands = report.lines.filter { $0.check == .cardBrand }.map { [$0.label, $0.account.rawValue, String($0.expectedCents)] }
        #expect(brands == [["VISA", "1210", "2230"], ["AMEX", "1212", "-1000"]])
        #expect(report.lines.first { $0.check == .tips }?.sageCents == 300)
    }

    @Test func mismatchedShowsTheDifferencePerAccount() {
        // Sage holds 18.39 revenue and 23.01 on Visa clearing.
        var lines = Self.sageLines
        lines[3] = PostedLine(account: "4000", signedCents: -1839)
        lines[0] = PostedLine(account: "1210", signedCents: 2301)
        let report = reconcile(lines)
        #expect(report.status == .mismatched)
        let differences = report.differences.map { "\($0.check.rawValue) \($0.account) \($0.differenceCents!)" }
        #expect(differences.sorted() == ["account 1210 1", "account 4000 1", "card_brand 1210 1"])
        #expect(report.reason?.contains("account Sales revenue (4000) differs by 0.01") == true)
    }

    @Test func accountSageHasButTheRulesDoNot() {
        let report = reconcile(Self.sageLines + [PostedLine(account: "9999", signedCents: 5), PostedLine(account: "4000", signedCents: -5)])
        #expect(report.status == .mismatched)
        #expect(report.differences.map(\.account).sorted() == ["4000", "9999"])
    }

    @Test func incompleteWhenSageHoldsNothingOrTheDocumentIsHeld() {
        let missing = reconcile(nil)
        #expect(missing.status == .incomplete)
        #expect(missing.reason == "Sage holds no journal entry with reference HL-1-20261127-BAT_20261127_01 yet")
        #expect(missing.lines.allSatisfy { $0.sageCents == nil })
        let held = reconcile(Self.sageLines, pending: "held in the dead-letter queue: GL account 1212 does not exist")
        #expect(held.status == .incomplete)
    }

    @Test func csvTableAndJson() throws {
        let reports = [reconcile(Self.sageLines), reconcile(nil)]
        let csv = ReconciliationReport.csv(reports)
        let rows = csv.split(separator: "\n")
        #expect(rows.first == "store,business_date,batch,reference,status,check,label,account,expected,sage,difference")
        #expect(rows.contains("1,2026-11-27,BAT_20261127_01,HL-1-20261127-BAT_20261127_01,matched,card_brand,VISA,1210,22.30,22.30,0.00"))
        #expect(rows.contains("1,2026-11-27,BAT_20261127_01,HL-1-20261127-BAT_20261127_01,incomplete,account,Sales revenue,4000,-18.40,,"))
        let table = ReconciliationReport.table(reports)
        #expect(table.contains("store 1  11/27/2026  HL-1-20261127-BAT_20261127_01  MATCHED"))
        #expect(table.contains("INCOMPLETE"))
        let json = try ReconciliationReport.json(reports)
        #expect(json.contains("\"status\" : \"matched\""))
    }
}
