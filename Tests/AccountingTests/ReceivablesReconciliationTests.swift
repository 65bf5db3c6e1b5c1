import Testing
@testable import Accounting

/// Issue 23: a batch's on-account tickets' AR documents against Sage AR, per document: matched, missing in Sage, amount
/// differs, customer differs, in Sage but not in the day; and how that decides the batch report.
@Suite struct ReceivablesReconciliationTests {
    static func document(_ kind: ReceivableDocument.Kind, ticket: String, cents: Int64) -> ReceivableDocument {
        ReceivableDocument(kind: kind, ticketID: TicketID(ticket), ticketNumber: "S01-\(ticket)", customerID: "501",
                           amount: Money(minorUnits: cents, currency: .usd), documentDate: try! BusinessDate(parsing: "2026-11-27"),
                           documentNumber: ReceivableDocument.documentNumber(ticket: TicketID(ticket)), description: "x")
    }

    static let invoice = document(.invoice, ticket: "41", cents: 8640)
    static let receipt = document(.receipt, ticket: "42", cents: 5000)

    @Test func eachDocumentIsComparedByKindNumberCustomerAndAmount() {
        let lines = ReceivablesReconciler.compare(expected: [(Self.invoice, "C1"), (Self.receipt, "C1"), (Self.document(.creditNote, ticket: "43", cents: 1620), "C1"),
                                                             (Self.document(.invoice, ticket: "44", cents: 100), "C1")], sage: [
            SageReceivable(kind: .invoice, documentNumber: "HL-T41", customer: "C1", cents: 8640),
            SageReceivable(kind: .receipt, documentNumber: "HL-T42", customer: "C1", cents: 4999),
            SageReceivable(kind: .creditNote, documentNumber: "HL-T43", customer: "C2", cents: 1620),
            // A receipt numbered for the invoice's ticket: the day has no such document.
            SageReceivable(kind: .receipt, documentNumber: "HL-T41", customer: "C1", cents: 100),
        ])
        #expect(lines.map { "\($0.kind.rawValue) \($0.documentNumber) \($0.status.rawValue)" } == [
            "invoice HL-T41 matched", "receipt HL-T42 amount_differs", "credit_note HL-T43 customer_differs", "invoice HL-T44 missing_in_sage",
            "receipt HL-T41 not_in_day",
        ])
        #expect(lines[1].summary == "receipt HL-T42 (ticket S01-42): amount differs, day 50.00 for C1, Sage 49.99 for C1")
        #expect(lines[4].summary == "receipt HL-T41: in Sage but not in the day, Sage 1.00 for C1")
    }

    @Test func aSecondCopyForAnotherCustomerIsNotTheDays() {
        let lines = ReceivablesReconciler.compare(expected: [(Self.invoice, "C1")], sage: [
            SageReceivable(kind: .invoice, documentNumber: "HL-T41", customer: "C9", cents: 8640),
            SageReceivable(kind: .invoice, documentNumber: "HL-T41", customer: "C1", cents: 8640),
        ])
        #expect(lines.map(\.status) == [.matched, .notInDay])
        #expect(lines[1].sageCustomer == "C9")
    }

    func report(_ receivables: [ReceivableReconciliation]) -> ReconciliationReport {
        Reconciler.reconcile(storeID: "1", expected: ReconciliationTests.entry, batch: ReconciliationTests.batch,
                             sage: SageReadBack(reference: ReconciliationTests.entry.reference, lines: ReconciliationTests.sageLines),
                             rules: Fixtures.rules, receivables: receivables)
    }

    @Test func aMissingDocumentKeepsTheBatchIncompleteUntilItsOwnReadBackArrives() {
        let missing = report(ReceivablesReconciler.compare(expected: [(Self.invoice, "C1")], sage: []))
        #expect(missing.status == .incomplete)
        #expect(missing.reason?.contains("1 AR document(s) not in Sage AR yet") == true)
        #expect(missing.reason?.contains("invoice HL-T41 (ticket S01-41): missing in Sage, day 86.40 for C1") == true)
        // sage-loader posts the invoice and sends its read-back, folded in whichever arrives first.
        let posted = ReceivablesReconciler.compare(expected: [(Self.invoice, "C1")], sage: [
            SageReceivable(kind: .invoice, documentNumber: "HL-T41", customer: "C1", cents: 8640)]).first!
        let part = ReconciliationReport.receivablePart(posted, storeID: "1", businessDate: Self.invoice.documentDate, partOf: missing.reference)
        let matched = missing.applying(part)
        #expect(matched.status == .matched, "\(matched.reason ?? "")")
        #expect(matched.receivables?.map(\.status) == [.matched])
        #expect(matched.applying(part) == matched, "applied once, however often it comes")
        #expect(matched.refunds == nil, "an AR document is not listed as a journal posted apart")
        // A journal part read before the invoice posted never undoes the invoice's own read-back.
        var dayPart = missing
        dayPart.reference = "HL-1-20261126-BAT_20261127_01"
        dayPart.partOf = missing.reference
        #expect(matched.addingPart(dayPart).receivables?.map(\.status) == [.matched])
    }

    @Test func anyOtherDifferenceMakesTheBatchMismatchedAndIsPrinted() throws {
        let report = report(ReceivablesReconciler.compare(expected: [(Self.invoice, "C1")], sage: [
            SageReceivable(kind: .invoice, documentNumber: "HL-T41", customer: "C1", cents: 100)]))
        #expect(report.status == .mismatched)
        #expect(report.differences.isEmpty, "the GL matches")
        #expect(report.reason == "AR invoice HL-T41 (ticket S01-41): amount differs, day 86.40 for C1, Sage 1.00 for C1")
        let csv = ReconciliationReport.csv([report])
        #expect(csv.contains(",mismatched,ar_amount_differs,invoice HL-T41,C1,86.40,1.00,-85.40"))
        let table = ReconciliationReport.table([report])
        #expect(table.contains("Sage AR, the on-account tickets' documents:"))
        #expect(table.contains("invoice HL-T41  ticket S01-41  day C1 / Sage C1  day 86.40 / Sage 1.00  amount differs"))
        #expect(try ReconciliationReport.json([report]).contains("\"status\" : \"amount_differs\""))
        let matched = self.report(ReceivablesReconciler.compare(expected: [(Self.invoice, "C1")], sage: [
            SageReceivable(kind: .invoice, documentNumber: "HL-T41", customer: "C1", cents: 8640)]))
        #expect(matched.status == .matched)
    }
}
