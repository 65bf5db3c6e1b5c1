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

    /// Posts the document for the Sage customer `customer` (found or created by the caller) and reads it back.
    public func post(_ document: ReceivableDocument, customer: String) async throws -> SageARPostedDocument {
        if let done = try await posted(document) { return done }
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

    private func postReceipt(_ document: ReceivableDocument, customer: String) async throws {
        let entered = try await client.openReceiptBatches().first { $0.ReceiptsAdjustments.contains { $0.CheckReceiptNumber == document.documentNumber } }
        let number = try await batch(entered?.BatchNumber) {
            let receipt = SageARReceiptBatch.Receipt(
                CustomerNumber: customer, ReceiptDateAdjustmentDate: document.documentDate.iso, EntryDescription: document.description,
                EntryReference: "Heartland ticket \(document.ticketNumber)", CheckReceiptNumber: document.documentNumber,
                amountCents: document.amount.minorUnits, PaymentCode: paymentCode)
            return try await client.createReceiptBatch(SageARReceiptBatch(Description: "Heartland \(document.documentNumber)",
                                                                          ReceiptsAdjustments: [receipt])).BatchNumber
        }
        try await postBatch(document) { try await client.postReceiptBatch(number) }
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
