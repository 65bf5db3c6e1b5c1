import Accounting
import Foundation
import Messaging
import SageConnector

/// Posts a ticket's AR document to Sage 300 once (docs/ACCOUNTING-AR.md): an invoice (or credit note) in an invoice
/// batch, a receipt in a receipt batch, each batch posted at once so the document is readable at
/// `AR/ARPostedDocuments`.
///
/// Sage 300 refuses a second document number per customer, but a customer matched differently on a later delivery would
/// not be stopped by that, and a batch created just before a crash stays entered and unposted. So the number is looked
/// up first, in the posted documents of every customer and in the entered batches: a posted one is a duplicate, an
/// entered one is posted, and only with neither is a batch created. Two deliveries racing both create: Sage refuses the
/// second (409) and that delivery looks again.
public struct ReceivablesPoster: Sendable {
    public let client: SageReceivablesClient
    /// The AR payment code of receipts taken at the POS.
    public let paymentCode: String

    public init(client: SageReceivablesClient, paymentCode: String = "CASH") {
        self.client = client
        self.paymentCode = paymentCode
    }

    /// The document as Sage has posted it, if it has.
    public func posted(_ document: ReceivableDocument) async throws -> SageARPostedDocument? {
        try await client.postedDocuments(number: document.documentNumber, receipt: document.kind == .receipt).first
    }

    /// Posts the document for the Sage customer `customer` (found or created by the caller) and reads it back. A receipt
    /// waits (a transient error) until Sage holds the invoices `after` of the same batch, so that it is applied to them.
    public func post(_ document: ReceivableDocument, customer: String, after invoices: [String] = []) async throws -> SageARPostedDocument {
        if let done = try await posted(document) { return done }
        if document.kind == .receipt {
            for invoice in invoices {
                guard try await client.postedDocuments(number: invoice, receipt: false).isEmpty else { continue }
                throw StageError.transient("AR receipt \(document.documentNumber) waits for invoice \(invoice) of the same batch to post, "
                    + "so that it is applied to it")
            }
        }
        do {
            if document.kind == .receipt { try await postReceipt(document, customer: customer) } else { try await postInvoice(document, customer: customer) }
        } catch SageError.duplicateReference {
            // Another delivery created the batch a moment ago: it posts it, or the next attempt finds it entered.
            if let done = try await posted(document) { return done }
            throw StageError.transient("AR document \(document.documentNumber) is being created by another delivery; looking again")
        }
        guard let done = try await posted(document) else {
            throw StageError.transient("AR document \(document.documentNumber) was posted but Sage does not list it yet; looking again")
        }
        return done
    }

    private func postInvoice(_ document: ReceivableDocument, customer: String) async throws {
        let entered = try await client.openInvoiceBatches().first { $0.Invoices.contains { $0.DocumentNumber == document.documentNumber } }
        let number = try await batch(entered?.BatchNumber) {
            let invoice = SageARInvoiceBatch.Invoice(
                CustomerNumber: customer, DocumentNumber: document.documentNumber,
                DocumentType: document.kind == .creditNote ? "CreditNote" : "Invoice", DocumentDate: document.documentDate.iso,
                InvoiceDescription: document.description,
                InvoiceDetails: [.init(Description: "Heartland ticket \(document.ticketNumber)", Amount: SageAmount.decimal(cents: document.amount.minorUnits))])
            return try await client.createInvoiceBatch(SageARInvoiceBatch(Description: "Heartland \(document.documentNumber)", Invoices: [invoice])).BatchNumber
        }
        try await postBatch(document) { try await client.postInvoiceBatch(number) }
    }

    /// A receipt applied to the customer's open documents, oldest first (`ReceiptApplication`), the rest unapplied on account.
    /// The applications are chosen when the batch is entered; an entered batch found later (a crash before posting) is
    /// posted as it was entered, unless another receipt has paid its documents meanwhile and Sage refuses it: then the
    /// entered batch is deleted (it was never posted) and the next attempt applies the receipt afresh.
    private func postReceipt(_ document: ReceivableDocument, customer: String) async throws {
        let entered = try await client.openReceiptBatches().first { $0.ReceiptsAdjustments.contains { $0.CheckReceiptNumber == document.documentNumber } }
        let number = try await batch(entered?.BatchNumber) {
            let open = try await client.postedDocuments(customer: customer).compactMap(Self.openDocument)
            let plan = ReceiptApplication.plan(receiptCents: document.amount.minorUnits, open: open)
            let receipt = SageARReceiptBatch.Receipt(
                CustomerNumber: customer, ReceiptDateAdjustmentDate: document.documentDate.iso, EntryDescription: document.description,
                EntryReference: "Heartland ticket \(document.ticketNumber)", CheckReceiptNumber: document.documentNumber,
                amountCents: document.amount.minorUnits, PaymentCode: paymentCode,
                applied: plan.applied.map { .init(CustomerNumber: customer, DocumentNumber: $0.documentNumber, amountCents: $0.cents) })
            return try await client.createReceiptBatch(SageARReceiptBatch(Description: "Heartland \(document.documentNumber)",
                                                                          ReceiptsAdjustments: [receipt])).BatchNumber
        }
        let refusal: SageError
        do {
            try await postBatch(document) { try await client.postReceiptBatch(number) }
            return
        } catch let error as SageError {
            refusal = error
        }
        guard let message = Self.refusalMessage(refusal), try await appliesMoreThanIsOwed(batch: number, customer: customer) else { throw refusal }
        // Untyped, so that the pattern below matches on `any Error` (the typed form crashes Swift 6.3.1's SILGen here).
        let delete: @Sendable () async throws -> Void = { [client] in try await client.deleteReceiptBatch(number) }
        do { try await delete() } catch SageError.notFound {}  // another delivery deleted it first
        throw StageError.transient("AR receipt \(document.documentNumber): Sage refused its entered batch \(number) (\(message)), whose applications "
            + "another receipt has paid meanwhile; the batch was deleted and the receipt is applied again")
    }

    /// What Sage said when it refused a document as invalid (nil: another kind of failure).
    static func refusalMessage(_ error: SageError) -> String? {
        if case .validation(let message, _) = error { return message }
        return nil
    }

    /// A posted document in the bridge's terms, for the batch reconciliation: an invoice or debit note by its
    /// `DocumentNumber`, a credit note likewise, a receipt by its `CheckReceiptNumber`, the amount positive. Nil for any other kind.
    public static func receivable(_ posted: SageARPostedDocument) -> SageReceivable? {
        guard let amount = posted.amountCents else { return nil }
        switch posted.DocumentType {
        case "Invoice", "DebitNote":
            return SageReceivable(kind: .invoice, documentNumber: posted.DocumentNumber, customer: posted.CustomerNumber, cents: amount)
        case "CreditNote":
            return SageReceivable(kind: .creditNote, documentNumber: posted.DocumentNumber, customer: posted.CustomerNumber, cents: 0 - amount)
        case "Receipt":
            guard let number = posted.CheckReceiptNumber, !number.isEmpty else { return nil }
            return SageReceivable(kind: .receipt, documentNumber: number, customer: posted.CustomerNumber, cents: 0 - amount)
        default:
            return nil
        }
    }

    /// `; 50.00 applied to open invoices, 10.00 unapplied on account`, from a receipt as Sage holds it (its balance is what
    /// is left unapplied, negative).
    public static func applicationSummary(_ receipt: SageARPostedDocument) -> String {
        guard let amount = receipt.amountCents, let balance = receipt.balanceCents else { return "" }
        return "; \(Money.decimalString(balance - amount)) applied to open invoices, \(Money.decimalString(-balance)) unapplied on account"
    }

    /// The customer's posted document as the apply choice sees it; nil without the fields it needs.
    static func openDocument(_ posted: SageARPostedDocument) -> ReceiptApplication.OpenDocument? {
        guard let balance = posted.balanceCents else { return nil }
        return ReceiptApplication.OpenDocument(documentNumber: posted.DocumentNumber, documentDate: posted.DocumentDate ?? "",
                                               batchNumber: posted.BatchNumber ?? 0, entryNumber: posted.EntryNumber ?? 0, balanceCents: balance)
    }

    /// Whether the entered receipt batch applies more to some document than the customer now owes on it.
    private func appliesMoreThanIsOwed(batch number: Int64, customer: String) async throws -> Bool {
        guard let entered = try await client.openReceiptBatches().first(where: { $0.BatchNumber == number }) else { return false }
        let owed = Dictionary(try await client.postedDocuments(customer: customer).map { ($0.DocumentNumber, $0.balanceCents ?? 0) },
                              uniquingKeysWith: { first, _ in first })
        var applied: [String: Int64] = [:]
        for line in entered.ReceiptsAdjustments.flatMap({ $0.AppliedReceiptsAdjustments ?? [] }) {
            applied[line.DocumentNumber, default: 0] += line.amountCents ?? 0
        }
        return applied.contains { document, cents in cents > owed[document, default: 0] }
    }

    /// The entered batch's number, else a new batch's (Sage assigns it).
    private func batch(_ entered: Int64?, orCreate create: () async throws -> Int64?) async throws -> Int64 {
        if let entered { return entered }
        guard let number = try await create() else { throw StageError.transient("Sage created an AR batch without a number") }
        return number
    }

    /// Posting a batch another delivery posted a moment ago is refused; the document is then there all the same.
    private func postBatch(_ document: ReceivableDocument, _ post: () async throws -> Void) async throws {
        do { try await post() } catch {
            if try await posted(document) != nil { return }
            throw error
        }
    }
}
