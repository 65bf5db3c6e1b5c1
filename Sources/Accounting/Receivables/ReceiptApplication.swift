/// How a payment on account is applied to the customer's open AR documents, as Sage 300's receipt entry applies a
/// receipt when the clerk lets it choose: the oldest open document first (document date, then the order it was posted
/// in), each paid up to its remaining balance, until the receipt is used up. What is left over stays on the customer's
/// account unapplied (Sage posts it as unapplied cash, to be applied to a later invoice by hand).
///
/// Only documents the customer owes on are open here (an invoice or debit note with a positive balance): a credit note
/// or an earlier unapplied receipt (negative balances) is not consumed by a receipt, as in Sage.
public struct ReceiptApplication: Hashable, Sendable {
    /// A posted document of the customer's, as Sage lists it at `AR/ARPostedDocuments`.
    public struct OpenDocument: Hashable, Sendable {
        public var documentNumber: String
        /// ISO 8601 (`2026-11-26` or `2026-11-26T00:00:00Z`); only the day is compared.
        public var documentDate: String
        /// The order Sage posted it in (batch, then entry): between documents of one day, the first posted is the oldest.
        public var batchNumber: Int64
        public var entryNumber: Int64
        /// What the customer still owes on it, in cents; zero or less: not open.
        public var balanceCents: Int64

        public init(documentNumber: String, documentDate: String, batchNumber: Int64, entryNumber: Int64, balanceCents: Int64) {
            self.documentNumber = documentNumber
            self.documentDate = documentDate
            self.batchNumber = batchNumber
            self.entryNumber = entryNumber
            self.balanceCents = balanceCents
        }
    }

    /// One apply-document line of the receipt.
    public struct Applied: Hashable, Sendable {
        public var documentNumber: String
        public var cents: Int64

        public init(documentNumber: String, cents: Int64) {
            self.documentNumber = documentNumber
            self.cents = cents
        }
    }

    public var applied: [Applied]
    /// The part of the receipt that pays no document: it stays on the account.
    public var unappliedCents: Int64

    public init(applied: [Applied], unappliedCents: Int64) {
        self.applied = applied
        self.unappliedCents = unappliedCents
    }

    /// The applications of a receipt of `receiptCents` (positive) to `open`, oldest first.
    public static func plan(receiptCents: Int64, open: [OpenDocument]) -> ReceiptApplication {
        let oldestFirst = open.filter { $0.balanceCents > 0 }.sorted {
            (String($0.documentDate.prefix(10)), $0.batchNumber, $0.entryNumber, $0.documentNumber)
                < (String($1.documentDate.prefix(10)), $1.batchNumber, $1.entryNumber, $1.documentNumber)
        }
        var left = max(0, receiptCents)
        var applied: [Applied] = []
        for document in oldestFirst where left > 0 {
            let paid = min(left, document.balanceCents)
            applied.append(Applied(documentNumber: document.documentNumber, cents: paid))
            left -= paid
        }
        return ReceiptApplication(applied: applied, unappliedCents: left)
    }

    /// `applied to HL-T41 86.40, HL-T43 13.60; 10.00 unapplied on account`.
    public var summary: String {
        var parts: [String] = []
        if !applied.isEmpty {
            parts.append("applied to " + applied.map { "\($0.documentNumber) \(Money.decimalString($0.cents))" }.joined(separator: ", "))
        }
        if unappliedCents > 0 || applied.isEmpty {
            parts.append("\(Money.decimalString(unappliedCents)) unapplied on account"
                + (applied.isEmpty ? " (no open invoice)" : ""))
        }
        return parts.joined(separator: "; ")
    }
}
