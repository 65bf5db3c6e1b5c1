import Accounting
import Foundation
import PipelineContracts

/// `sage.ar.invoice` / `sage.ar.receipt` on `bridge.commands` (schema `bridge.sage.ar_document.v1`): a ticket's AR
/// document for sage-loader (docs/ACCOUNTING-AR.md): the customer's invoice (or credit note) for what was charged to
/// their house account, or the receipt of a payment on account taken at the POS. The transformer publishes it beside
/// the day journal that carries its GL side (AR's control account); the loader finds or creates the customer in Sage
/// through the two-way sync's matching and posts the document once.
public struct ReceivableCommand: Codable, Sendable {
    public static let schema = "bridge.sage.ar_document.v1"
    public static let invoiceRoutingKey = "sage.ar.invoice"
    public static let receiptRoutingKey = "sage.ar.receipt"

    public var schema: String
    public var store: BatchClosedEvent.Store
    public var document: ReceivableDocument
    /// The customer as Heartland Retail holds it (`side` Heartland), for the matching: Sage may know them under another number.
    public var customer: SyncCustomer
    /// The journal carrying the document's GL side, for tracing.
    public var journalReference: String?
    /// The reference of the batch reconciliation the document is part of (the batch's own journal), where sage-loader
    /// reports the document as Sage AR holds it once posted. Nil from a transformer that predates it.
    public var reconciledUnder: String?
    /// A receipt: the numbers of its customer's invoices in the same batch. They post by their own commands, at the same
    /// time; the receipt waits until Sage holds them, so that it is applied to them rather than left on account.
    public var precededBy: [String]?

    public init(store: BatchClosedEvent.Store, document: ReceivableDocument, customer: SyncCustomer, journalReference: String?,
                reconciledUnder: String? = nil) {
        self.reconciledUnder = reconciledUnder
        self.schema = Self.schema
        self.store = store
        self.document = document
        self.customer = customer
        self.journalReference = journalReference
    }

    public var routingKey: String { document.kind == .receipt ? Self.receiptRoutingKey : Self.invoiceRoutingKey }
    public var idempotencyKey: String { document.idempotencyKey }
}
