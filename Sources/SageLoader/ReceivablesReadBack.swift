import Accounting
import Foundation
import PipelineContracts
import SageConnector

/// What a batch's reconciliation reads of Sage AR (docs/ACCOUNTING-AR.md): the documents numbered for the journal's
/// tickets, and the Sage customer each Heartland customer is.
public struct ReceivablesReadBack: Sendable {
    /// Posted AR documents (any customer) numbered `HL-T<ticket id>` for any of these numbers.
    public var documents: @Sendable (_ numbers: [String]) async throws -> [SageReceivable]
    /// The Sage customer number of a Heartland customer (`public_id`): the two-way sync's link when the matching found
    /// them under another number, else the same number.
    public var customer: @Sendable (_ heartlandNumber: String) async throws -> String

    public init(documents: @escaping @Sendable ([String]) async throws -> [SageReceivable],
                customer: @escaping @Sendable (String) async throws -> String) {
        self.documents = documents
        self.customer = customer
    }

    /// Over the Web API, with the customer links kept beside the ledger.
    public init(client: SageReceivablesClient, link: @escaping @Sendable (String) async throws -> String?) {
        self.init(documents: { try await client.postedDocuments(numbers: $0).compactMap(ReceivablesPoster.receivable) },
                  customer: { number in try await link(number) ?? number.uppercased() })
    }

    /// The journal's AR documents against Sage AR: each expected document under its number, and any other document Sage
    /// holds numbered for one of the journal's tickets (in Sage but not in the day). Without a reader (GL import files,
    /// where sage-loader posts no AR documents) every document is missing.
    static func compare(_ document: JournalDocument, reader: ReceivablesReadBack?) async throws -> [ReceivableReconciliation]? {
        guard let expected = document.receivables, !expected.isEmpty else { return nil }
        guard let reader else {
            return ReceivablesReconciler.compare(expected: expected.map { ($0.document, $0.customerNumber.uppercased()) }, sage: [])
        }
        var customers: [String: String] = [:]
        var pairs: [(document: ReceivableDocument, customer: String)] = []
        for item in expected {
            if customers[item.customerNumber] == nil { customers[item.customerNumber] = try await reader.customer(item.customerNumber) }
            pairs.append((item.document, customers[item.customerNumber]!))
        }
        let tickets = Set((document.documents ?? []).map(TicketID.init) + expected.map(\.document.ticketID))
        let numbers = Set(tickets.map(ReceivableDocument.documentNumber(ticket:)))
        let held = try await reader.documents(numbers.sorted()).filter { numbers.contains($0.documentNumber) }
        return ReceivablesReconciler.compare(expected: pairs, sage: held)
    }
}
