/// The AR side of a batch's reconciliation (docs/ACCOUNTING-AR.md): every on-account ticket's AR document (invoice,
/// credit note, receipt, numbered `HL-T<ticket id>`) against what Sage AR holds under that number: there, for the right
/// customer and amount, and nothing else numbered for the batch's tickets.

/// An AR document a journal's tickets put in Sage, with the Heartland customer it is for.
public struct ExpectedReceivable: Hashable, Sendable, Codable {
    public var document: ReceivableDocument
    /// The customer's Heartland number (`public_id`); the loader turns it into the Sage customer the matching chose.
    public var customerNumber: String

    public init(document: ReceivableDocument, customerNumber: String) {
        self.document = document
        self.customerNumber = customerNumber
    }
}

/// An AR document as Sage holds it, in the bridge's terms: the ticket's number, a positive amount.
public struct SageReceivable: Hashable, Sendable, Codable {
    public var kind: ReceivableDocument.Kind
    /// `HL-T<ticket id>`: an invoice's `DocumentNumber`, a receipt's `CheckReceiptNumber`.
    public var documentNumber: String
    public var customer: String
    /// Positive: what was invoiced, credited or received.
    public var cents: Int64

    public init(kind: ReceivableDocument.Kind, documentNumber: String, customer: String, cents: Int64) {
        self.kind = kind
        self.documentNumber = documentNumber
        self.customer = customer
        self.cents = cents
    }
}

/// One AR document of the batch, compared.
public struct ReceivableReconciliation: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable {
        case matched
        /// The day has it, Sage AR does not (yet: posting, held for a customer review, or in sage-loader.dlq).
        case missingInSage = "missing_in_sage"
        case amountDiffers = "amount_differs"
        case customerDiffers = "customer_differs"
        /// Sage AR holds a document numbered for one of the batch's tickets that the day does not have.
        case notInDay = "not_in_day"

        public var words: String {
            switch self {
            case .matched: "matched"
            case .missingInSage: "missing in Sage"
            case .amountDiffers: "amount differs"
            case .customerDiffers: "customer differs"
            case .notInDay: "in Sage but not in the day"
            }
        }
    }

    public var kind: ReceivableDocument.Kind
    public var documentNumber: String
    /// The ticket's receipt number, when the day has the document.
    public var ticket: String?
    public var expectedCustomer: String?
    public var expectedCents: Int64?
    public var sageCustomer: String?
    public var sageCents: Int64?
    public var status: Status

    public init(kind: ReceivableDocument.Kind, documentNumber: String, ticket: String?, expectedCustomer: String?, expectedCents: Int64?,
                sageCustomer: String?, sageCents: Int64?) {
        self.kind = kind
        self.documentNumber = documentNumber
        self.ticket = ticket
        self.expectedCustomer = expectedCustomer
        self.expectedCents = expectedCents
        self.sageCustomer = sageCustomer
        self.sageCents = sageCents
        status = switch (expectedCents, sageCents) {
        case (nil, _): .notInDay
        case (_, nil): .missingInSage
        case (let expected?, let sage?) where expected != sage: .amountDiffers
        default: expectedCustomer == sageCustomer ? .matched : .customerDiffers
        }
    }

    /// `invoice HL-T41 (ticket S01-7): amount differs, day 86.40 for C00501, Sage 1.00 for C00501`.
    public var summary: String {
        var text = "\(kind.rawValue.replacingOccurrences(of: "_", with: " ")) \(documentNumber)" + (ticket.map { " (ticket \($0))" } ?? "")
            + ": \(status.words)"
        guard status != .matched else { return text }
        if let expectedCents { text += ", day \(Money.decimalString(expectedCents))" + (expectedCustomer.map { " for \($0)" } ?? "") }
        if let sageCents { text += ", Sage \(Money.decimalString(sageCents))" + (sageCustomer.map { " for \($0)" } ?? "") }
        return text
    }

    var key: String { "\(kind.rawValue) \(documentNumber)" }
}

/// Compares a journal's AR documents with Sage AR. Pure.
public enum ReceivablesReconciler {
    /// - Parameters:
    ///   - expected: the day's documents, each with the Sage customer it should be for.
    ///   - sage: what Sage AR holds under the numbers of the journal's tickets (any customer).
    public static func compare(expected: [(document: ReceivableDocument, customer: String)], sage: [SageReceivable]) -> [ReceivableReconciliation] {
        var left = sage
        var lines: [ReceivableReconciliation] = []
        for (document, customer) in expected {
            let candidates = left.indices.filter { left[$0].kind == document.kind && left[$0].documentNumber == document.documentNumber }
            // A copy for the right customer is the one; another customer's copy stays, as a document the day does not have.
            let chosen = candidates.first { left[$0].customer == customer } ?? candidates.first
            let found = chosen.map { left.remove(at: $0) }
            lines.append(ReceivableReconciliation(kind: document.kind, documentNumber: document.documentNumber, ticket: document.ticketNumber,
                                                  expectedCustomer: customer, expectedCents: document.amount.minorUnits,
                                                  sageCustomer: found?.customer, sageCents: found?.cents))
        }
        for extra in left {
            lines.append(ReceivableReconciliation(kind: extra.kind, documentNumber: extra.documentNumber, ticket: nil, expectedCustomer: nil,
                                                  expectedCents: nil, sageCustomer: extra.customer, sageCents: extra.cents))
        }
        return lines
    }

    /// `lines` with `later` folded in, by document: a later comparison replaces an earlier one, except that one finding the
    /// document missing never replaces one that found it in Sage (a posted AR document is not unposted; a journal read
    /// before its AR document posted must not undo the AR document's own read-back).
    public static func merge(_ lines: [ReceivableReconciliation]?, _ later: [ReceivableReconciliation]) -> [ReceivableReconciliation]? {
        guard !later.isEmpty else { return lines }
        var merged = lines ?? []
        for line in later {
            guard let index = merged.firstIndex(where: { $0.key == line.key && ($0.expectedCents != nil) == (line.expectedCents != nil) }) else {
                merged.append(line)
                continue
            }
            if line.status == .missingInSage && merged[index].sageCents != nil { continue }
            merged[index] = line
        }
        return merged
    }
}
