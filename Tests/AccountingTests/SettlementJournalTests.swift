import Foundation
import Testing
@testable import Accounting

/// Every expected entry below is computed by hand in the comments; none comes from the builder.
@Suite struct SettlementJournalTests {
    let builder = SettlementJournalBuilder(rules: Fixtures.rules)

    func build(_ tickets: [Ticket], batch: SettlementBatch? = nil, zone: StoreTimeZone = Fixtures.chicago) throws -> JournalEntry {
        try builder.build(Fixtures.storeDay(tickets, batch: batch, zone: zone))
    }

    @Test func cashSaleWithTax() throws {
        // 1 × 19.99, tax 8.87 % = 1.77, cash 21.76.
        let entry = try build([Fixtures.ticket("1", lines: [item(1, 1999), tax(177)], tenders: [cash(2176)])])
        #expect(lines(of: entry) == [
            ExpectedLine("1100", .debit, 2176, "Cash tendered"),
            ExpectedLine("4000", .credit, 1999, "Merchandise sales"),
            ExpectedLine("2200", .credit, 177, "Sales tax collected"),
        ])
        #expect(entry.totalDebits == 2176 && entry.totalCredits == 2176)
    }

    @Test func splitTenderWithTipAndLineDiscount() throws {
        // 2 × 15.00 = 30.00 before discount, line discount 3.00, tax 2.40 → owed 29.40; tip 3.00 on the card.
        // Tenders: cash 12.40 + Visa 20.00 (incl. tip 3.00) = 32.40 = 29.40 + 3.00.
        let entry = try build([Fixtures.ticket("2", lines: [item(2, 1500, discount: 300), tax(240)],
                                               tenders: [cash(1240), card("VISA", 2000, tip: 300)])])
        #expect(lines(of: entry) == [
            ExpectedLine("1100", .debit, 1240, "Cash tendered"),
            ExpectedLine("1210", .debit, 2000, "Card sales visa"),
            ExpectedLine("4100", .debit, 300, "Discounts given"),
            ExpectedLine("4000", .credit, 3000, "Merchandise sales"),
            ExpectedLine("2200", .credit, 240, "Sales tax collected"),
            ExpectedLine("2210", .credit, 300, "Tips on card sales"),
        ])
        #expect(entry.totalDebits == 3540 && entry.totalCredits == 3540)
    }

    @Test func ticketCouponAndZeroTaxItem() throws {
        // 25.00 taxable (tax 2.22) + 8.99 grocery (no tax) = 33.99; coupon −5.00 → 31.21 on Mastercard.
        let entry = try build([Fixtures.ticket("3", lines: [item(1, 2500), item(1, 899, "Bread"), tax(222), coupon(-500)],
                                               tenders: [card("MC", 3121)])])
        #expect(lines(of: entry) == [
            ExpectedLine("1211", .debit, 3121, "Card sales mastercard"),
            ExpectedLine("4100", .debit, 500, "Discounts given"),
            ExpectedLine("4000", .credit, 3399, "Merchandise sales"),
            ExpectedLine("2200", .credit, 222, "Sales tax collected"),
        ])
    }

    @Test func zeroTaxOnlyTicketPostsNoTaxLine() throws {
        let entry = try build([Fixtures.ticket("4", lines: [item(1, 899, "Children's book"), tax(0)], tenders: [cash(899)])])
        #expect(lines(of: entry) == [
            ExpectedLine("1100", .debit, 899, "Cash tendered"),
            ExpectedLine("4000", .credit, 899, "Merchandise sales"),
        ])
    }

    @Test func giftCardSaleIsLiabilityAndRedemptionReducesIt() throws {
        // Sale of a 50.00 gift card on Amex: liability, not revenue.
        // Later 30.00 + tax 2.66 = 32.66 paid with 20.00 gift card + 12.66 Discover.
        let entry = try build([
            Fixtures.ticket("5", lines: [giftCardSold(5000)], tenders: [card("AMEX", 5000)]),
            Fixtures.ticket("6", lines: [item(1, 3000), tax(266)], tenders: [giftCard(2000), card("DISCOVER", 1266)]),
        ])
        #expect(lines(of: entry) == [
            ExpectedLine("1212", .debit, 5000, "Card sales amex"),
            ExpectedLine("2300", .credit, 5000, "Gift cards sold"),
            ExpectedLine("2300", .debit, 2000, "Gift cards redeemed"),
            ExpectedLine("1213", .debit, 1266, "Card sales discover"),
            ExpectedLine("4000", .credit, 3000, "Merchandise sales"),
            ExpectedLine("2200", .credit, 266, "Sales tax collected"),
        ])
        #expect(entry.netByAccount["2300"] == -3000)
        #expect(entry.netByAccount["4000"] == -3000)
    }

    @Test func cardRefundReversesSaleAccounts() throws {
        // Return of 1 × 20.00 that was sold with a 2.00 line discount and 1.60 tax: 19.60 back to Visa.
        let entry = try build([Fixtures.ticket("7", lines: [item(-1, 2000, discount: -200), tax(-160)],
                                               tenders: [card("Visa", -1960)])])
        #expect(lines(of: entry) == [
            ExpectedLine("4200", .debit, 2000, "Merchandise returned"),
            ExpectedLine("4100", .credit, 200, "Discounts reversed on returns"),
            ExpectedLine("2200", .debit, 160, "Sales tax refunded"),
            ExpectedLine("1210", .credit, 1960, "Card refunds visa"),
        ])
        #expect(entry.totalDebits == 2160 && entry.totalCredits == 2160)
    }

    @Test func cashRefundCreditsCash() throws {
        let entry = try build([Fixtures.ticket("8", lines: [item(-1, 1000), tax(-89)], tenders: [cash(-1089)])])
        #expect(lines(of: entry) == [
            ExpectedLine("4200", .debit, 1000, "Merchandise returned"),
            ExpectedLine("2200", .debit, 89, "Sales tax refunded"),
            ExpectedLine("1100", .credit, 1089, "Cash refunded"),
        ])
    }

    @Test func saleAndItsRefundSameDayCountOnce() throws {
        // Sold 10.00 + 0.89 tax cash, returned the same day: revenue and returns both show, tax and cash net to zero.
        let entry = try build([
            Fixtures.ticket("9", lines: [item(1, 1000), tax(89)], tenders: [cash(1089)]),
            Fixtures.ticket("10", lines: [item(-1, 1000), tax(-89)], tenders: [cash(-1089)]),
        ])
        #expect(entry.netByAccount == ["1100": 0, "4000": -1000, "4200": 1000, "2200": 0])
        #expect(entry.lines.count == 6)
    }

    @Test func processingFeesDebitFeesAndCreditBrandClearing() throws {
        // Visa 20.00: fee 2.60 % = 0.52 + 0.10 = 0.62; Amex 50.00: 3.00 % = 1.50 + 0.10 = 1.60.
        let batch = Fixtures.batch([("VISA", sales: 2000, refunds: 0, tips: 0, fees: 62), ("AMEX", sales: 5000, refunds: 0, tips: 0, fees: 160)])
        let entry = try build([
            Fixtures.ticket("11", lines: [item(1, 2000)], tenders: [card("VISA", 2000)]),
            Fixtures.ticket("12", lines: [giftCardSold(5000)], tenders: [card("AMEX", 5000)]),
        ], batch: batch)
        #expect(lines(of: entry) == [
            ExpectedLine("1210", .debit, 2000, "Card sales visa"),
            ExpectedLine("4000", .credit, 2000, "Merchandise sales"),
            ExpectedLine("1212", .debit, 5000, "Card sales amex"),
            ExpectedLine("2300", .credit, 5000, "Gift cards sold"),
            ExpectedLine("6100", .debit, 62, "Processing fees visa"),
            ExpectedLine("1210", .credit, 62, "Processing fees visa"),
            ExpectedLine("6100", .debit, 160, "Processing fees amex"),
            ExpectedLine("1212", .credit, 160, "Processing fees amex"),
        ])
        #expect(entry.netByAccount["1210"] == 1938)
        #expect(entry.netByAccount["6100"] == 222)
        #expect(entry.reference == "HL-1-20261127-BAT_20261127_01")
        #expect(entry.idempotencyKey == "heartland:batch:BAT_20261127_01")
    }

    @Test func lateSaleInLosAngelesBelongsToTheLocalDay() throws {
        // 2026-11-28T07:55Z is 23:55 PST on 11/27: the sale is on the 27th's journal.
        let batch = Fixtures.batch([("VISA", sales: 1089, refunds: 0, tips: 0, fees: 0)], id: "BAT_20261127_04")
        let late = Fixtures.ticket("13", at: "2026-11-28T07:55:00Z", lines: [item(1, 1000), tax(89)], tenders: [card("VISA", 1089)])
        let entry = try builder.build(Fixtures.storeDay([late], batch: batch, zone: Fixtures.losAngeles, store: "4"))
        #expect(entry.sagePostingDate == "11/27/2026")
        #expect(entry.reference == "HL-4-20261127-BAT_20261127_04")
        #expect(entry.totalDebits == 1089)
    }

    @Test func saleAfterLocalMidnightIsRejectedFromThePreviousDay() throws {
        // 2026-11-28T08:05Z is 00:05 PST on 11/28.
        let early = Fixtures.ticket("14", at: "2026-11-28T08:05:00Z", lines: [item(1, 1000)], tenders: [cash(1000)])
        #expect(throws: PostingError.ticketOutsideBusinessDay(
            ticket: "14", localDate: try BusinessDate(year: 2026, month: 11, day: 28), businessDate: Fixtures.day,
            timeZone: "America/Los_Angeles")) {
            try builder.build(Fixtures.storeDay([early], zone: Fixtures.losAngeles))
        }
    }

    @Test func voidTicketsDoNotPost() throws {
        var void = Fixtures.ticket("15", lines: [item(1, 5000)], tenders: [card("VISA", 5000)])
        void.isVoid = true
        let entry = try build([void, Fixtures.ticket("16", lines: [item(1, 100)], tenders: [cash(100)])])
        #expect(entry.totalDebits == 100)
    }

    @Test func oneCent() throws {
        let entry = try build([Fixtures.ticket("17", lines: [item(1, 1)], tenders: [cash(1)])])
        #expect(lines(of: entry) == [ExpectedLine("1100", .debit, 1, "Cash tendered"), ExpectedLine("4000", .credit, 1, "Merchandise sales")])
    }

    @Test func veryLargeAmountsPostExactly() throws {
        // 4,000,000,000,000,000,000 cents twice = 8e18, still below Int64.max (≈ 9.22e18).
        let big: Int64 = 4_000_000_000_000_000_000
        let entry = try build([
            Fixtures.ticket("18", lines: [item(1, big)], tenders: [cash(big)]),
            Fixtures.ticket("19", lines: [item(1, big)], tenders: [cash(big)]),
        ])
        #expect(entry.netByAccount == ["1100": 8_000_000_000_000_000_000, "4000": -8_000_000_000_000_000_000])
    }

    @Test func amountsBeyondInt64AreAnOverflowErrorNotAWrap() throws {
        let big: Int64 = 4_000_000_000_000_000_000
        let tickets = (0..<3).map { Fixtures.ticket("\(20 + $0)", lines: [item(1, big)], tenders: [cash(big)]) }
        #expect {
            try build(tickets)
        } throws: { error in
            guard case .overflow(let record, _) = error as? PostingError else { return false }
            return record.contains("ticket 22")
        }
        // Quantity × price overflowing is caught too.
        #expect(throws: PostingError.self) {
            try build([Fixtures.ticket("30", lines: [item(3, big)], tenders: [cash(big)])])
        }
    }

    @Test func brandSpellingsAndUnknownBrands() throws {
        let spellings: [(String, String)] = [
            ("VISA", "1210"), ("Visa", "1210"), ("visa", "1210"), ("MC", "1211"), ("MASTERCARD", "1211"),
            ("Master Card", "1211"), ("AMEX", "1212"), ("American Express", "1212"), ("DISCOVER", "1213"),
            ("JCB", "1219"), ("", "1219"), ("Diners Club", "1219"),
        ]
        for (spelling, account) in spellings {
            let entry = try build([Fixtures.ticket("31", lines: [item(1, 500)], tenders: [card(spelling, 500)])])
            #expect(entry.netByAccount[AccountNumber(account)] == 500, "brand \(spelling)")
        }
    }

    @Test func ticketThatDoesNotBalanceIsRejected() throws {
        // Owes 10.89, paid 10.00.
        #expect(throws: PostingError.ticketOutOfBalance(ticket: "32", tendered: 1000, owed: 1089)) {
            try build([Fixtures.ticket("32", lines: [item(1, 1000), tax(89)], tenders: [cash(1000)])])
        }
        let error = PostingError.ticketOutOfBalance(ticket: "32", tendered: 1000, owed: 1089)
        #expect(error.description.contains("ticket 32 does not balance: tenders 10.00 but lines plus tips 10.89 (difference -0.89)"))
    }

    @Test func batchThatDisagreesWithTicketsIsRejected() throws {
        let batch = Fixtures.batch([("VISA", sales: 2500, refunds: 0, tips: 0, fees: 0)])
        #expect(throws: PostingError.batchDisagreesWithTickets(batch: "BAT_20261127_01", brand: "visa", batchCents: 2500, ticketCents: 2000)) {
            try build([Fixtures.ticket("33", lines: [item(1, 2000)], tenders: [card("VISA", 2000)])], batch: batch)
        }
    }

    @Test func currencyOtherThanTheCompanysIsRejected() throws {
        let cad = try CurrencyCode("CAD")
        let day = Fixtures.storeDay([], currency: cad)
        #expect(throws: PostingError.currencyMismatch(record: "store 1 business day 2026-11-27", found: cad, expected: .usd)) {
            try builder.build(day)
        }
    }

    @Test func unbalancedLinesCannotMakeAJournal() throws {
        #expect(throws: PostingError.unbalanced(reference: "X", debits: 100, credits: 99)) {
            try JournalEntry.balanced(source: .settlement, reference: "X", idempotencyKey: "k", postingDate: Fixtures.day,
                                      description: "", currency: .usd, lines: [
                                          JournalLine(account: "1100", rule: "tenders.cash", description: "", side: .debit, amount: usd(100)),
                                          JournalLine(account: "4000", rule: "sales.revenue", description: "", side: .credit, amount: usd(99)),
                                      ])
        }
    }
}
