import Foundation
import Testing
@testable import Accounting

/// Card refunds post on their own as they happen; the day's journal leaves them out; the batch's
/// reconciliation counts them once, whether they reached Sage before or after the day's journal.
@Suite struct RealTimeRefundTests {
    static func refundTicket(_ id: String, brand: String = "AMEX", cents: Int64 = 1000, transaction: String? = "TRN_R1") -> Ticket {
        Ticket(id: TicketID(id), number: "S01-20261127-\(id)", completedAt: Fixtures.instant("2026-11-27T19:00:00Z"), returnOf: "1",
               lines: [item(-1, cents)],
               tenders: [.card(brand: brand, amount: usd(-cents), tip: usd(0), transactionID: transaction.map(TransactionID.init))])
    }

    static let sale = Fixtures.ticket("1", lines: [item(1, 1840), tax(160)],
                                      tenders: [.card(brand: "VISA", amount: usd(2300), tip: usd(300), transactionID: "TRN_S1")])
    static let batch = Fixtures.batch([("VISA", sales: 2300, refunds: 0, tips: 300, fees: 70), ("AMEX", sales: 0, refunds: 1000, tips: 0, fees: 0)])
    static let builder = SettlementJournalBuilder(rules: Fixtures.rules)

    @Test func whichTicketsPostAsRealTimeRefunds() {
        #expect(Self.refundTicket("2").postsAsRealTimeRefund)
        // No gateway transaction: the refund is not a Heartland card refund the bridge hears of.
        #expect(!Self.refundTicket("2", transaction: nil).postsAsRealTimeRefund)
        #expect(!Self.sale.postsAsRealTimeRefund)
        let cashReturn = Fixtures.ticket("3", lines: [item(-1, 500)], tenders: [cash(-500)])
        #expect(!cashReturn.postsAsRealTimeRefund)
        // An exchange: one item back, another bought, the difference refunded to the card. It stays in the day's journal.
        let exchange = Fixtures.ticket("4", lines: [item(-1, 1000), item(1, 400)],
                                       tenders: [.card(brand: "VISA", amount: usd(-600), tip: usd(0), transactionID: "TRN_X")])
        #expect(!exchange.postsAsRealTimeRefund)
        var void = Self.refundTicket("5")
        void.isVoid = true
        #expect(!void.postsAsRealTimeRefund)
    }

    @Test func refundJournalReversesTheSaleAccounts() throws {
        let ticket = Fixtures.ticket("7", lines: [item(-1, 1840), tax(-160)],
                                     tenders: [.card(brand: "VISA", amount: usd(-2000), tip: usd(0), transactionID: "TRN_R7")])
        let entry = try Self.builder.buildRefund(ticket, storeID: "1", timeZone: Fixtures.chicago, currency: .usd)
        #expect(entry.source == .refund)
        #expect(entry.reference == "HL-1-20261127-R7")
        #expect(entry.idempotencyKey == "heartland:return:7")
        #expect(entry.sagePostingDate == "11/27/2026")
        #expect(lines(of: entry) == [
            ExpectedLine("4200", .debit, 1840, "Merchandise returned"),
            ExpectedLine("2200", .debit, 160, "Sales tax refunded"),
            ExpectedLine("1210", .credit, 2000, "Card refunds visa"),
        ])
    }

    @Test func aRefundIsInTheDayJournalOrOnItsOwnNeverBoth() throws {
        let day = Fixtures.storeDay([Self.sale, Self.refundTicket("2")], batch: Self.batch)
        let whole = try Self.builder.build(day)
        let split = try Self.builder.buildSeparatingRefunds(day)
        #expect(split.refunds.map(\.journal.reference) == ["HL-1-20261127-R2"])
        #expect(split.refunds.first?.refundedCents == 1000)
        let dayJournal = try #require(split.journal)
        #expect(dayJournal.reference == whole.reference)
        // Day journal + refund journals = the day's rules applied to all its tickets, per account, to the cent.
        var sum = dayJournal.netByAccount
        for refund in split.refunds {
            for (account, cents) in refund.journal.netByAccount { sum[account, default: 0] += cents }
        }
        #expect(sum.filter { $0.value != 0 } == whole.netByAccount.filter { $0.value != 0 })
        #expect(dayJournal.netByAccount["4200"] == nil)
        #expect(dayJournal.netByAccount["1212"] == nil)
    }

    @Test func aDayOfNothingButCardRefundsHasNoDayJournal() throws {
        let batch = Fixtures.batch([("AMEX", sales: 0, refunds: 1000, tips: 0, fees: 0)])
        let split = try Self.builder.buildSeparatingRefunds(Fixtures.storeDay([Self.refundTicket("2")], batch: batch))
        #expect(split.journal == nil)
        #expect(split.refunds.map(\.journal.reference) == ["HL-1-20261127-R2"])
        // With fees the batch still has its own lines to post.
        let withFees = Fixtures.batch([("AMEX", sales: 0, refunds: 1000, tips: 0, fees: 30)])
        #expect(try Self.builder.buildSeparatingRefunds(Fixtures.storeDay([Self.refundTicket("2")], batch: withFees)).journal != nil)
    }

    @Test func theBatchStillChecksAgainstTheRefundsCardAmounts() {
        // The batch says Amex refunded 10.00; the refund ticket says 9.00: neither journal may be built.
        let day = Fixtures.storeDay([Self.sale, Self.refundTicket("2", cents: 900)], batch: Self.batch)
        #expect(throws: PostingError.self) { try Self.builder.buildSeparatingRefunds(day) }
    }

    func readBack(_ entry: JournalEntry) -> SageReadBack {
        SageReadBack(reference: entry.reference, lines: entry.lines.map { PostedLine(account: $0.account, signedCents: $0.signedCents) })
    }

    @Test func batchReconciliationCountsEachRefundOnceWhicheverArrivesFirst() throws {
        let split = try Self.builder.buildSeparatingRefunds(Fixtures.storeDay([Self.sale, Self.refundTicket("2")], batch: Self.batch))
        let refund = split.refunds[0]
        let refundReport = Reconciler.reconcile(storeID: "1", expected: refund.journal, batch: nil, sage: readBack(refund.journal),
                                                rules: Fixtures.rules)
        #expect(refundReport.status == .matched)

        // The refund was in Sage before the day's journal: the loader finds it.
        let dayJournal = try #require(split.journal)
        let before = Reconciler.reconcile(storeID: "1", expected: dayJournal, batch: Self.batch, sage: readBack(dayJournal),
                                          refunds: [(refund, readBack(refund.journal))], rules: Fixtures.rules)
        #expect(before.status == .matched, "\(before.reason ?? "")")
        #expect(before.refunds?.map(\.status) == [.posted])

        // Held for review when the day's journal posted: incomplete, and the Amex clearing differs by the refund.
        let pending = Reconciler.reconcile(storeID: "1", expected: dayJournal, batch: Self.batch, sage: readBack(dayJournal),
                                           refunds: [(refund, nil)], rules: Fixtures.rules)
        #expect(pending.status == .incomplete)
        #expect(pending.reason?.contains("S01-20261127-2 10.00") == true)
        #expect(pending.lines.first { $0.check == .cardBrand && $0.account == "1212" }?.differenceCents == 1000)

        // Then the refund posts: folding its report in matches the batch; folding it twice changes nothing.
        let after = pending.applying(refundReport)
        #expect(after.status == .matched, "\(after.reason ?? "")")
        #expect(after.refunds?.map(\.status) == [.posted])
        #expect(after.applying(refundReport) == after)
        #expect(after.lines.filter { $0.check != .tips } == before.lines.filter { $0.check != .tips })
    }

    @Test func aRefundSageHoldsDifferentlyMakesTheBatchMismatched() throws {
        let split = try Self.builder.buildSeparatingRefunds(Fixtures.storeDay([Self.sale, Self.refundTicket("2")], batch: Self.batch))
        let refund = split.refunds[0]
        let dayJournal = try #require(split.journal)
        let pending = Reconciler.reconcile(storeID: "1", expected: dayJournal, batch: Self.batch, sage: readBack(dayJournal),
                                           refunds: [(refund, nil)], rules: Fixtures.rules)
        // Sage holds 9.99 on Amex clearing for the refund (someone edited it).
        let edited = SageReadBack(reference: refund.journal.reference, lines: [
            PostedLine(account: "4200", signedCents: 1000), PostedLine(account: "1212", signedCents: -999), PostedLine(account: "9999", signedCents: -1),
        ])
        let refundReport = Reconciler.reconcile(storeID: "1", expected: refund.journal, batch: nil, sage: edited, rules: Fixtures.rules)
        let after = pending.applying(refundReport)
        #expect(after.status == .mismatched)
        #expect(after.differences.map { "\($0.check.rawValue) \($0.account) \($0.differenceCents!)" }.sorted()
            == ["account 1212 1", "account 9999 -1", "card_brand 1212 1"])
    }
}

@Suite struct GatewayTransactionTests {
    /// GP-API's shape as the simulator serves it (and the reference documents it).
    @Test func readsARefundAsServed() throws {
        let json = #"""
            {"id":"TRN_R1","time_created":"2026-11-27T19:00:00.000Z","type":"REFUND","status":"CAPTURED","amount":"1250",
             "currency":"USD","batch_id":"BAT_20261127_01","parent_resource_id":"TRN_S1","system":{"tid":"T0101"},
             "payment_method":{"entry_mode":"CHIP","card":{"brand":"VISA","masked_number_first6last4":"424242XXXXXX1111"}}}
            """#
        let transaction = try GatewayTransaction.parse(Data(json.utf8), currency: .usd)
        #expect(transaction.id == "TRN_R1")
        #expect(transaction.type == "REFUND")
        #expect(transaction.amount == usd(1250))
        #expect(transaction.card == "VISA:424242******1111")
        #expect(transaction.parentId == "TRN_S1")
        #expect(transaction.batchId == "BAT_20261127_01")
        #expect(transaction.terminal == "T0101")
        #expect(transaction.entryMode == "CHIP")
    }
}
