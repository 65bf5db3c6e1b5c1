import Foundation
import Testing
@testable import Accounting

/// A batch's journals (issue 14): one per business day of its documents, a ticket that cannot post set aside on its
/// own, fees on the batch's own day (an unsplit fee shared over the brands to the cent), and the batch's
/// reconciliation incomplete while a ticket is set aside, matched once its corrected version posts.
@Suite struct BatchJournalsTests {
    static let builder = SettlementJournalBuilder(rules: Fixtures.rules)

    static func cashSale(_ id: String, at time: String, cents: Int64, tendered: Int64? = nil) -> Ticket {
        Fixtures.ticket(id, at: time, lines: [.item(description: "Mug", quantity: 1, unitPrice: usd(cents), discount: usd(0))],
                        tenders: [.cash(amount: usd(tendered ?? cents))])
    }

    static func visaSale(_ id: String, at time: String, cents: Int64) -> Ticket {
        Fixtures.ticket(id, at: time, lines: [.item(description: "Lamp", quantity: 1, unitPrice: usd(cents), discount: usd(0))],
                        tenders: [.card(brand: "VISA", amount: usd(cents), tip: usd(0), transactionID: TransactionID("TRN_\(id)"))])
    }

    @Test func aBatchClosedAfterMidnightPostsEachDayOnItsOwnDateAndFeesOnTheBatchsDay() throws {
        // Batch of 2026-11-27 (Chicago) closed at 00:30 on the 28th: a late Visa sale of the 27th, a cash sale of the 28th.
        let batch = Fixtures.batch([("VISA", sales: 2000, refunds: 0, tips: 0, fees: 62)])
        let built = try Self.builder.buildBatch(storeID: "1", timeZone: Fixtures.chicago, currency: .usd, batch: batch, tickets: [
            Self.visaSale("1", at: "2026-11-28T05:50:00Z", cents: 2000), Self.cashSale("2", at: "2026-11-28T06:10:00Z", cents: 500),
        ])
        #expect(built.journals.map(\.postingDate.iso) == ["2026-11-27", "2026-11-28"])
        #expect(built.journals.map(\.reference) == ["HL-1-20261127-BAT_20261127_01", "HL-1-20261128-BAT_20261127_01"])
        #expect(built.journals.map(\.idempotencyKey) == ["heartland:batch:BAT_20261127_01", "heartland:batch:BAT_20261127_01:20261128"])
        #expect(built.journals[0].netByAccount == ["1210": 1938, "6100": 62, "4000": -2000])
        #expect(built.journals[1].netByAccount == ["1100": 500, "4000": -500])
        #expect(built.home == built.journals[0])
        #expect(built.rejected.isEmpty && built.disagreements.isEmpty)
    }

    @Test func aTicketOutOfBalanceIsSetAsideWithWhatItWouldPostAndTheBatchNotesTheDifference() throws {
        let batch = Fixtures.batch([("VISA", sales: 2000, refunds: 0, tips: 0, fees: 0)])
        let bad = Fixtures.ticket("9", at: "2026-11-27T18:00:00Z",
                                  lines: [.item(description: "Lamp", quantity: 1, unitPrice: usd(1000), discount: usd(0))],
                                  tenders: [.card(brand: "VISA", amount: usd(1001), tip: usd(0), transactionID: "TRN_9")])
        let built = try Self.builder.buildBatch(storeID: "1", timeZone: Fixtures.chicago, currency: .usd, batch: batch, tickets: [
            Self.visaSale("1", at: "2026-11-27T17:00:00Z", cents: 1000), bad,
        ])
        #expect(built.rejected.map(\.ticket.id) == ["9"])
        #expect(built.rejected.first?.netByAccount == ["1210": 1001, "4000": -1000])
        #expect(built.journals.map(\.netByAccount) == [["1210": 1000, "4000": -1000]])
        // Heartland settled 20.00 of Visa; the postable tickets explain 10.00.
        #expect(built.disagreements == [.batchDisagreesWithTickets(batch: "BAT_20261127_01", brand: "visa", batchCents: 2000, ticketCents: 1000)])
    }

    @Test(arguments: [Int64(100), 101, 7, 1])
    func anUnsplitFeeIsSharedOverTheBrandsBySalesToTheCent(_ fee: Int64) throws {
        var batch = Fixtures.batch([("VISA", sales: 3000, refunds: 0, tips: 0, fees: 0), ("MASTERCARD", sales: 1000, refunds: 0, tips: 0, fees: 0),
                                    ("AMEX", sales: 2000, refunds: 0, tips: 0, fees: 0)])
        batch.totals.fees = usd(fee)
        let shares = SettlementJournalBuilder.splittingUnsplitFee(batch)
        #expect(shares.reduce(0) { $0 + $1.totals.fees.minorUnits } == fee)
        for share in shares {
            let exact = Double(fee) * Double(share.totals.sales.minorUnits) / 6000
            #expect(abs(Double(share.totals.fees.minorUnits) - exact) < 1, "\(share.brand): \(share.totals.fees.minorUnits) for \(exact)")
        }
        let built = try Self.builder.buildBatch(storeID: "1", timeZone: Fixtures.chicago, currency: .usd, batch: batch, tickets: [
            Self.visaSale("1", at: "2026-11-27T17:00:00Z", cents: 3000),
        ])
        #expect(built.journals.first?.netByAccount["6100"] == fee)
    }

    func readBack(_ entry: JournalEntry) -> SageReadBack {
        SageReadBack(reference: entry.reference, lines: entry.lines.map { PostedLine(account: $0.account, signedCents: $0.signedCents) })
    }

    @Test func theBatchIsIncompleteWhileATicketIsSetAsideAndMatchedOnceItsCorrectionPosts() throws {
        let batch = Fixtures.batch([("VISA", sales: 2000, refunds: 0, tips: 0, fees: 0)])
        let good = Self.visaSale("1", at: "2026-11-27T17:00:00Z", cents: 1000)
        let bad = Fixtures.ticket("9", at: "2026-11-27T18:00:00Z",
                                  lines: [.item(description: "Lamp", quantity: 1, unitPrice: usd(1000), discount: usd(0))],
                                  tenders: [.card(brand: "VISA", amount: usd(1001), tip: usd(0), transactionID: "TRN_9")])
        let built = try Self.builder.buildBatch(storeID: "1", timeZone: Fixtures.chicago, currency: .usd, batch: batch, tickets: [good, bad])
        let home = try #require(built.home)
        let setAside = [SetAsideReconciliation(documentId: "9", number: bad.number, field: "payments", reason: "out of balance",
                                               netByAccount: ["1210": 1001, "4000": -1000])]
        let report = Reconciler.reconcile(storeID: "1", expected: home, batch: batch, sage: readBack(home), rules: Fixtures.rules, setAside: setAside)
        #expect(report.status == .incomplete)
        #expect(report.reason?.contains("S01-20261127-9 (id 9)") == true, "\(report.reason ?? "")")
        #expect(report.reason?.contains("1210 10.01") == true, "\(report.reason ?? "")")

        // Corrected at the source (10.00 paid), it posts in a supplementary journal that is part of the batch.
        let corrected = Self.visaSale("9", at: "2026-11-27T18:00:00Z", cents: 1000)
        let supplement = try Self.builder.buildSupplement(corrected, storeID: "1", timeZone: Fixtures.chicago, currency: .usd, batch: batch.id)
        #expect(supplement.reference == "HL-1-20261127-BAT_20261127_01-T9")
        var supplementReport = Reconciler.reconcile(storeID: "1", expected: supplement, batch: nil, sage: readBack(supplement), rules: Fixtures.rules)
        supplementReport.partOf = home.reference
        supplementReport.resolves = "9"
        let after = report.applying(supplementReport)
        #expect(after.status == .matched, "\(after.reason ?? "")")
        #expect(after.quarantined?.map(\.status) == [.posted])
        #expect(after.quarantined?.first?.reference == supplement.reference)
        #expect(after.applying(supplementReport) == after, "folding it twice changes nothing")
    }
}
