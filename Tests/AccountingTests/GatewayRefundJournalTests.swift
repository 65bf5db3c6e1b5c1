import Foundation
import Testing
@testable import Accounting

/// A card refund keyed on the gateway with no return ticket: into suspense at once, out of it when an
/// operator allocates it (ACCOUNTING.md "Several batches a day, late and bad documents").
@Suite struct GatewayRefundJournalTests {
    let builder = GatewayRefundJournalBuilder(rules: Fixtures.rules)

    /// GP-API's refund as served; `time_created` 07:30 UTC is still the evening before in Los Angeles.
    static func refund(id: String = "TRN_GW1", type: String = "REFUND", amount: String = "1234", brand: String = "VISA",
                       at time: String = "2026-11-28T07:30:00Z") throws -> GatewayTransaction {
        let json = """
            {"id":"\(id)","time_created":"\(time)","type":"\(type)","status":"CAPTURED","amount":"\(amount)","currency":"USD",
             "batch_id":"BAT_20261127_01","system":{"tid":"VT01"},
             "payment_method":{"entry_mode":"MANUAL","card":{"brand":"\(brand)","masked_number_first6last4":"424242XXXXXX1111"}}}
            """
        return try GatewayTransaction.parse(Data(json.utf8), currency: .usd)
    }

    @Test func suspenseDebitsSuspenseAndCreditsTheBrandsClearingOnTheStoresDay() throws {
        let entry = try builder.buildSuspense(try Self.refund(), storeID: "S01", timeZone: Fixtures.losAngeles, currency: .usd)
        // By hand: 12.34 out of Visa clearing (1210), into suspense (2900); 23:30 on the 27th in Los Angeles.
        #expect(lines(of: entry) == [
            ExpectedLine("2900", .debit, 1234, "Gateway refund awaiting allocation"),
            ExpectedLine("1210", .credit, 1234, "Card refunds visa"),
        ])
        #expect(entry.postingDate == Fixtures.day)
        #expect(entry.reference == "HL-S01-20261127-GTRN_GW1")
        #expect(entry.idempotencyKey == "heartland:gateway_refund:TRN_GW1")
        #expect(entry.source == .refund)
        #expect(entry.lines.first { $0.account == "2900" }?.rule == "sales.refund_suspense")
        // The same instant in Chicago is already the 28th.
        let chicago = try builder.buildSuspense(try Self.refund(), storeID: "S01", timeZone: Fixtures.chicago, currency: .usd)
        #expect(chicago.reference == "HL-S01-20261128-GTRN_GW1")
    }

    @Test(arguments: [("AMEX", "1212"), ("Mastercard", "1211"), ("JCB", "1219")])
    func otherBrandsCreditTheirClearing(brand: String, account: String) throws {
        let entry = try builder.buildSuspense(try Self.refund(brand: brand), storeID: "S01", timeZone: Fixtures.chicago, currency: .usd)
        #expect(entry.netByAccount == [AccountNumber(account): -1234, "2900": 1234])
    }

    @Test func saleZeroAmountAndAnotherCurrencyDoNotPost() throws {
        #expect(throws: PostingError.invalidData(
            record: "gateway refund TRN_GW1 of store S01",
            problem: "is a GP-API SALE transaction, not a REFUND; only a refund posts to suspense")) {
            try builder.buildSuspense(try Self.refund(type: "SALE"), storeID: "S01", timeZone: Fixtures.chicago, currency: .usd)
        }
        do {
            _ = try builder.buildSuspense(try Self.refund(amount: "0"), storeID: "S01", timeZone: Fixtures.chicago, currency: .usd)
            Issue.record("a zero refund posted")
        } catch {
            #expect("\(error)".contains("zero amount"), "\(error)")
        }
        #expect(throws: PostingError.self) {
            try builder.buildSuspense(try Self.refund(), storeID: "S01", timeZone: Fixtures.chicago, currency: try CurrencyCode("EUR"))
        }
    }

    @Test func allocationMovesSuspenseToReturnsAndTax() throws {
        let allocation = try RefundAllocation(transaction: "TRN_GW1", store: "S01", date: "2026-11-27", amount: "12.34", tax: "0.84",
                                              rules: Fixtures.rules)
        let entry = try builder.buildAllocation(allocation)
        // By hand: 12.34 = 11.50 merchandise + 0.84 tax.
        #expect(lines(of: entry) == [
            ExpectedLine("4200", .debit, 1150, "Merchandise returned"),
            ExpectedLine("2200", .debit, 84, "Sales tax refunded"),
            ExpectedLine("2900", .credit, 1234, "Gateway refund allocated"),
        ])
        #expect(entry.reference == "HL-S01-20261127-ATRN_GW1")
        #expect(entry.idempotencyKey == "heartland:allocation:TRN_GW1")
        #expect(entry.postingDate == Fixtures.day)
        // Suspense and allocation together: what ACCOUNTING.md's refund rule gives for that split.
        let suspense = try builder.buildSuspense(try Self.refund(), storeID: "S01", timeZone: Fixtures.losAngeles, currency: .usd)
        var net = suspense.netByAccount
        for (account, cents) in entry.netByAccount { net[account, default: 0] += cents }
        #expect(net.filter { $0.value != 0 } == ["4200": 1150, "2200": 84, "1210": -1234])
    }

    @Test func allocationOnAnotherDayKeepsTheRefundsReference() throws {
        let allocation = try RefundAllocation(transaction: "TRN_GW1", store: "S01", date: "2026-11-27", postingDate: "2026-12-01",
                                              amount: "12.34", tax: "0", returnsAccount: "4100", rules: Fixtures.rules)
        let entry = try builder.buildAllocation(allocation)
        #expect(entry.reference == "HL-S01-20261127-ATRN_GW1")
        #expect(entry.postingDate.iso == "2026-12-01")
        #expect(lines(of: entry) == [
            ExpectedLine("4100", .debit, 1234, "Merchandise returned"),
            ExpectedLine("2900", .credit, 1234, "Gateway refund allocated"),
        ], "no tax line for no tax; the merchandise on the account the operator named")
        let allTax = try RefundAllocation(transaction: "TRN_GW1", store: "S01", date: "2026-11-27", amount: "1.00", tax: "1.00",
                                          rules: Fixtures.rules)
        #expect(try builder.buildAllocation(allTax).netByAccount == ["2200": 100, "2900": -100])
    }

    @Test(arguments: [
        ("0", "0", "amount 0 is not more than zero"),
        ("-12.34", "0", "amount -12.34 is not more than zero"),
        ("12.345", "0", "amount \"12.345\" cannot be used: it has fractions of a cent (3 decimals)"),
        ("twelve", "0", "amount \"twelve\" cannot be used"),
        ("12.34", "12.35", "tax 12.35 USD is more than the refund's amount 12.34 USD"),
        ("12.34", "-0.84", "tax -0.84 is negative"),
        ("12.34", "0.845", "tax \"0.845\" cannot be used: it has fractions of a cent"),
    ])
    func badAmountsAreRefused(amount: String, tax: String, message: String) {
        do {
            _ = try RefundAllocation(transaction: "TRN_GW1", store: "S01", date: "2026-11-27", amount: amount, tax: tax, rules: Fixtures.rules)
            Issue.record("\(amount) / \(tax) accepted")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error)")
        }
    }

    @Test func badDateAccountAndIdsAreRefused() {
        func failure(date: String = "2026-11-27", transaction: String = "TRN_GW1", account: String? = nil) -> RefundAllocationError? {
            do {
                _ = try RefundAllocation(transaction: transaction, store: "S01", date: date, amount: "1.00", tax: "0", returnsAccount: account,
                                         rules: Fixtures.rules)
                return nil
            } catch {
                return error
            }
        }
        #expect(failure(date: "2026-02-30")?.description.hasPrefix("date \"2026-02-30\" cannot be used") == true)
        #expect(failure(date: "27/11/2026") != nil)
        #expect(failure(transaction: " ") == .missing("transaction id"))
        #expect(failure(account: "4999") == .accountNotInChart(account: "4999", mappingFile: Fixtures.mappingPath))
    }

    @Test func referencesStayWithinWhatSageKeeps() {
        let date = Fixtures.day
        let short = GatewayRefundJournalBuilder.suspenseReference(storeID: "S01", date: date, transaction: "TRN_ABCDEFGHIJKLMNOPQRSTUVWX")
        #expect(short == "HL-S01-20261127-GTRN_ABCDEFGHIJKLMNOPQRSTUVWX", "a simulator id fits as it is")
        let long = String(repeating: "X", count: 60)
        let a = GatewayRefundJournalBuilder.allocationReference(storeID: "S01", date: date, transaction: TransactionID("TRN_\(long)1"))
        let b = GatewayRefundJournalBuilder.allocationReference(storeID: "S01", date: date, transaction: TransactionID("TRN_\(long)2"))
        #expect(a.count == SageReference.maximumLength && b.count == SageReference.maximumLength)
        // The shortened form is a stored key: pinned to what it was before the hash became StableHash's FNV1a.
        #expect(SageReference.bounded("STORE-0001/2026-12-01/settlement-batch-000123456789/refunds-and-adjustments/more")
                    == "STORE-0001/2026-12-01/settlement-batch-0001234567-87968f3e23")
        #expect(a.hasPrefix("HL-S01-20261127-ATRN_XXX"))
        #expect(a != b, "ids that differ only past the cut still get their own reference")
        #expect(a == GatewayRefundJournalBuilder.allocationReference(storeID: "S01", date: date, transaction: TransactionID("TRN_\(long)1")))
    }
}
