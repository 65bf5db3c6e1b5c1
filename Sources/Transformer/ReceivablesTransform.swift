import Accounting
import Foundation
import HeartlandWire
import Messaging
import PipelineContracts
import SyncContracts

/// Tickets charged to (or paying down) a customer's house account: their GL side goes to AR's control account in the
/// day journal, their customer's side to Sage AR as a `ReceivableCommand` (docs/ACCOUNTING-AR.md). A ticket whose
/// customer is unknown (not served with the batch, or Heartland's walk-in customer) is set aside like any ticket that
/// cannot post as written.
struct ReceivablesPlan {
    /// The AR documents of each ticket that has any, with its customer.
    var documents: [TicketID: (customer: SyncCustomer, documents: [ReceivableDocument])] = [:]
    /// Tickets that cannot post: the field and the reason.
    var rejected: [TicketID: (field: String, reason: String)] = [:]

    init(tickets: some Sequence<Accounting.Ticket>, customers: RawJSON?, storeID: StoreID, timeZone: StoreTimeZone) {
        let known = Self.customers(customers)
        for ticket in tickets {
            let found: [ReceivableDocument]
            do { found = try ReceivableDocument.documents(for: ticket, storeID: storeID, timeZone: timeZone) } catch {
                rejected[ticket.id] = (TransformerHandler.field(of: error), error.description)
                continue
            }
            guard let first = found.first else { continue }
            guard let customer = known[first.customerID] else {
                rejected[ticket.id] = ("customer_id", "ticket \(ticket.id) (\(ticket.number)) is charged to (or pays down) the house account of "
                    + "customer \(first.customerID), whom Heartland Retail did not serve; check the customer in Heartland, then replay the ticket")
                continue
            }
            guard customer.number != SyncCustomer.heartlandWalkIn else {
                rejected[ticket.id] = ("customer_id", "ticket \(ticket.id) (\(ticket.number)) is charged to the walk-in customer "
                    + "\(SyncCustomer.heartlandWalkIn), who has no house account; set the customer on the ticket in Heartland, then replay it")
                continue
            }
            documents[ticket.id] = (customer, found)
        }
    }

    /// The customers served with the event, by Heartland id; records that cannot be read are left out (their tickets are
    /// set aside, naming the customer).
    static func customers(_ raw: RawJSON?) -> [String: SyncCustomer] {
        guard let raw, let records = try? JSONDecoder().decode([LenientCustomer].self, from: raw.data) else { return [:] }
        var found: [String: SyncCustomer] = [:]
        for case let customer? in records.map(\.customer) {
            let record = SyncCustomer(heartland: customer)
            found[record.id] = record
        }
        return found
    }

    private struct LenientCustomer: Decodable {
        var customer: HeartlandWire.Customer?
        init(from decoder: any Decoder) throws { customer = try? HeartlandWire.Customer(from: decoder) }
    }

    /// The commands for the tickets that posted, each with the journal carrying its GL side and the batch reconciliation
    /// it is part of.
    func commands(store: BatchClosedEvent.Store, posted: Set<TicketID>, journalOf: (TicketID) -> String?, reconciledUnder: String?)
        -> [ReceivableCommand]
    {
        let posting = documents.keys.sorted().filter(posted.contains)
        // The batch's invoices per customer, which a receipt of theirs waits for (so that it is applied to them).
        var invoices: [String: [String]] = [:]
        for ticket in posting {
            for document in documents[ticket]!.documents where document.kind == .invoice {
                invoices[document.customerID, default: []].append(document.documentNumber)
            }
        }
        return posting.flatMap { ticket in
            let (customer, documents) = documents[ticket]!
            return documents.map {
                var command = ReceivableCommand(store: store, document: $0, customer: customer, journalReference: journalOf(ticket),
                                                reconciledUnder: reconciledUnder)
                if $0.kind == .receipt, let before = invoices[$0.customerID] { command.precededBy = before }
                return command
            }
        }
    }

    /// The AR documents a journal's reconciliation looks for in Sage: those of its tickets that posted; nil when none.
    func expected(tickets: [TicketID], posted: Set<TicketID>) -> [ExpectedReceivable]? {
        let found = tickets.filter(posted.contains).sorted().flatMap { ticket in
            documents[ticket].map { entry in entry.documents.map { ExpectedReceivable(document: $0, customerNumber: entry.customer.number) } } ?? []
        }
        return found.isEmpty ? nil : found
    }
}

extension TransformerHandler {
    func receivableMessages(_ commands: [ReceivableCommand]) throws -> [OutboundMessage] {
        try commands.map {
            try OutboundMessage(exchange: commandsExchange, routingKey: $0.routingKey, json: $0, idempotencyKey: $0.idempotencyKey,
                                schema: ReceivableCommand.schema)
        }
    }
}
