import Testing
@testable import Accounting

/// Issue 23: a payment on account applied to the customer's open AR documents as Sage 300 applies a receipt: oldest
/// first, each up to its balance, the rest unapplied on account.
@Suite struct ReceiptApplicationTests {
    static func open(_ number: String, _ date: String, batch: Int64 = 1, entry: Int64 = 1, _ cents: Int64) -> ReceiptApplication.OpenDocument {
        ReceiptApplication.OpenDocument(documentNumber: number, documentDate: date, batchNumber: batch, entryNumber: entry, balanceCents: cents)
    }

    @Test func theOldestDocumentIsPaidFirstWhateverOrderSageListsThemIn() {
        let plan = ReceiptApplication.plan(receiptCents: 5000, open: [
            Self.open("HL-T9", "2026-11-27", 3000), Self.open("HL-T10", "2026-11-25T00:00:00Z", 2000), Self.open("HL-T8", "2026-11-26", 4000),
        ])
        #expect(plan.applied == [.init(documentNumber: "HL-T10", cents: 2000), .init(documentNumber: "HL-T8", cents: 3000)])
        #expect(plan.unappliedCents == 0)
        #expect(plan.summary == "applied to HL-T10 20.00, HL-T8 30.00")
    }

    @Test func onOneDayTheFirstPostedIsTheOldest() {
        // HL-T10 sorts before HL-T9 as text, but HL-T9 was posted first (an earlier batch).
        let plan = ReceiptApplication.plan(receiptCents: 1000, open: [
            Self.open("HL-T10", "2026-11-26", batch: 7, 1000), Self.open("HL-T9", "2026-11-26", batch: 6, 1000),
        ])
        #expect(plan.applied == [.init(documentNumber: "HL-T9", cents: 1000)])
    }

    @Test func aPartialPaymentLeavesTheDocumentOpenForTheRest() {
        let plan = ReceiptApplication.plan(receiptCents: 5000, open: [Self.open("HL-T41", "2026-11-26", 8640)])
        #expect(plan.applied == [.init(documentNumber: "HL-T41", cents: 5000)])
        #expect(plan.unappliedCents == 0)
    }

    @Test func anOverPaymentPaysEverythingAndStaysOnAccount() {
        let plan = ReceiptApplication.plan(receiptCents: 10000, open: [Self.open("HL-T41", "2026-11-26", 8640), Self.open("IN000003", "2026-11-20", 100)])
        #expect(plan.applied == [.init(documentNumber: "IN000003", cents: 100), .init(documentNumber: "HL-T41", cents: 8640)])
        #expect(plan.unappliedCents == 1260)
        #expect(plan.summary == "applied to IN000003 1.00, HL-T41 86.40; 12.60 unapplied on account")
    }

    @Test func withNoOpenInvoiceAllOfItIsUnapplied() {
        // Paid invoices, a credit note and an earlier unapplied receipt are not open: a receipt does not consume them.
        let plan = ReceiptApplication.plan(receiptCents: 5000, open: [
            Self.open("HL-T1", "2026-11-20", 0), Self.open("HL-T2", "2026-11-21", -1620), Self.open("PY00000001", "2026-11-22", -700),
        ])
        #expect(plan.applied.isEmpty)
        #expect(plan.unappliedCents == 5000)
        #expect(plan.summary == "50.00 unapplied on account (no open invoice)")
        #expect(ReceiptApplication.plan(receiptCents: 5000, open: []).unappliedCents == 5000)
    }
}
