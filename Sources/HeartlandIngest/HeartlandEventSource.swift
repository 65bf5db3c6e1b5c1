import Foundation
import HeartlandConnector
import Messaging
import PipelineContracts
import Synchronization

/// Builds the events of inbox records from Heartland itself. `heartland.batch.closed`: the batch as
/// GP-API serves it, the store (Retail location: its public id and time zone) and every page of the
/// store's tickets for the batch's business day. `heartland.payroll.completed`: the pay run as the
/// payroll API serves it. Whatever a webhook said, the event carries what Heartland holds when it is
/// fetched.
public final class HeartlandEventSource: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        /// The record cannot become an event as it is (not closed, no business day, unknown store).
        case unusable(String)
        public var description: String {
            switch self { case .unusable(let reason): reason }
        }
    }

    let client: any HeartlandClient
    private let stores = Mutex<[Int64: Location]>([:])

    public init(client: any HeartlandClient) {
        self.client = client
    }

    /// The message for an inbox record, by its kind (`batch`, `pay_run`).
    public func message(for entry: IngestInbox.Entry, eventsExchange: String) async throws -> (message: OutboundMessage, detail: String) {
        switch entry.kind {
        case "batch":
            let event = try await event(batchID: entry.sourceID)
            return (try OutboundMessage(exchange: eventsExchange, routingKey: BatchClosedEvent.routingKey, json: event,
                                        idempotencyKey: event.idempotencyKey, schema: BatchClosedEvent.schema),
                    "store \(event.store.id), business day \(event.businessDate), \(event.tickets.data.count) bytes of tickets")
        case "pay_run":
            let event = try await payrollEvent(runID: entry.sourceID)
            return (try OutboundMessage(exchange: eventsExchange, routingKey: PayrollCompletedEvent.routingKey, json: event,
                                        idempotencyKey: event.idempotencyKey, schema: PayrollCompletedEvent.schema),
                    "pay run \(entry.sourceID)")
        case "refund":
            let event = try await refundEvent(transactionID: entry.sourceID, receivedAt: entry.receivedAt)
            return (try OutboundMessage(exchange: eventsExchange, routingKey: RefundCreatedEvent.routingKey, json: event,
                                        idempotencyKey: event.idempotencyKey, schema: RefundCreatedEvent.schema),
                    "card refund \(entry.sourceID) of store \(event.store.id)")
        default:
            throw Failure.unusable("inbox records of kind '\(entry.kind)' are not forwarded")
        }
    }

    public func payrollEvent(runID: String) async throws -> PayrollCompletedEvent {
        let (run, json) = try await client.payRunJSON(id: runID)
        guard run.status == .processed || run.status == .posted else {
            throw Failure.unusable("pay run \(runID) is \(run.status.rawValue), not PROCESSED")
        }
        return PayrollCompletedEvent(currency: "USD", runId: run.id, payRun: RawJSON(json))
    }

    public func event(batchID: String) async throws -> BatchClosedEvent {
        let (batch, json) = try await client.batchJSON(id: batchID)
        guard batch.status == .closed else {
            throw Failure.unusable("batch \(batchID) is \(batch.status.rawValue), not CLOSED")
        }
        guard let day = batch.businessDay, !day.isEmpty else { throw Failure.unusable("batch \(batchID) has no business_day") }
        guard let locationID = batch.locationId else { throw Failure.unusable("batch \(batchID) has no location_id") }
        let store = try await store(locationID, currency: batch.currency ?? "USD")
        let tickets = Self.array(try await client.ticketPagesJSON(.location(locationID, businessDays: day, through: day)).collect())
        return BatchClosedEvent(
            store: store,
            businessDate: day, batchId: batch.id, batch: RawJSON(json), tickets: RawJSON(tickets))
    }

    /// A card refund with its return ticket (the Retail ticket with this refund as a card tender, found
    /// by the receipt number GP-API keeps as `reference`), the sale it returns, the sale's card
    /// transaction and the sale's other returns. What Heartland does not have is left out, for the
    /// transformer and the fraud scorer to judge.
    public func refundEvent(transactionID: String, receivedAt: String) async throws -> RefundCreatedEvent {
        let (refund, refundJSON) = try await client.transactionJSON(id: transactionID)
        guard refund.type == .refund else { throw Failure.unusable("transaction \(transactionID) is a \(refund.type.rawValue), not a REFUND") }
        guard let locationID = refund.locationId else { throw Failure.unusable("refund \(transactionID) has no location_id") }
        let store = try await store(locationID, currency: refund.currency)
        var returnTicket: (ticket: Ticket, json: Data)?
        if let reference = refund.reference, !reference.isEmpty {
            let candidates = try await client.tickets(TicketQuery(locationId: locationID, publicId: reference)).collect()
            if let found = candidates.first(where: { $0.payments.contains { $0.gatewayTransactionId == transactionID } }) {
                returnTicket = try await client.ticketJSON(id: found.id)
            }
        }
        var original: (ticket: Ticket, json: Data)?
        if let originalID = returnTicket?.ticket.returnOfTicketId {
            original = try await optional { try await self.client.ticketJSON(id: originalID) }
        }
        var sale: Data?
        if let parent = refund.parentResourceId, !parent.isEmpty {
            sale = try await optional { try await self.client.transactionJSON(id: parent) }?.json
        }
        var earlier = Data("[]".utf8)
        if let original {
            earlier = Self.array(try await client.ticketPagesJSON(TicketQuery(returnOfTicketId: original.ticket.id)).collect())
        }
        return RefundCreatedEvent(
            store: store,
            transactionId: transactionID, refundTransaction: RawJSON(refundJSON), returnTicket: returnTicket.map { RawJSON($0.json) },
            originalTicket: original.map { RawJSON($0.json) }, saleTransaction: sale.map(RawJSON.init), earlierReturns: RawJSON(earlier),
            receivedAt: receivedAt)
    }

    /// The card refunds settled in a batch.
    public func refundIDs(batchID: String) async throws -> [String] {
        try await client.transactions(TransactionQuery(batchId: batchID, type: .refund)).collect().filter { $0.type == .refund }.map(\.id)
    }

    /// Nil when Heartland answers 404; any other failure is thrown (and retried).
    private func optional<T: Sendable>(_ fetch: @Sendable () async throws -> T) async throws -> T? {
        do { return try await fetch() } catch HeartlandError.notFound { return nil }
    }

    /// Pages as served, as one JSON array of pages.
    static func array(_ pages: [Data]) -> Data {
        var out = Data("[".utf8)
        for (index, page) in pages.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(page)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The location, from a cache refreshed when an unknown id appears (a store opened since).
    /// The store as events carry it: its public id (the location id when it has none) and its time zone.
    private func store(_ locationID: Int64, currency: String) async throws -> BatchClosedEvent.Store {
        let location = try await location(locationID)
        guard let timeZone = location.timeZone, !timeZone.isEmpty else {
            throw Failure.unusable("location \(locationID) (\(location.publicId)) has no time_zone")
        }
        return .init(id: location.publicId.isEmpty ? String(locationID) : location.publicId, timeZone: timeZone, currency: currency)
    }

    private func location(_ id: Int64) async throws -> Location {
        if let known = stores.withLock({ $0[id] }) { return known }
        let all = try await client.locations()
        let byID = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        stores.withLock { $0 = byID }
        guard let found = byID[id] else { throw Failure.unusable("location \(id) is not among Heartland Retail's locations") }
        return found
    }
}
