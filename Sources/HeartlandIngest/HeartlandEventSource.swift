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
        let store = try await location(locationID)
        guard let timeZone = store.timeZone, !timeZone.isEmpty else {
            throw Failure.unusable("location \(locationID) (\(store.publicId)) has no time_zone")
        }
        let pages = try await client.ticketPagesJSON(.location(locationID, businessDays: day, through: day)).collect()
        var tickets = Data("[".utf8)
        for (index, page) in pages.enumerated() {
            if index > 0 { tickets.append(UInt8(ascii: ",")) }
            tickets.append(page)
        }
        tickets.append(UInt8(ascii: "]"))
        return BatchClosedEvent(
            store: .init(id: store.publicId.isEmpty ? String(locationID) : store.publicId, timeZone: timeZone, currency: batch.currency ?? "USD"),
            businessDate: day, batchId: batch.id, batch: RawJSON(json), tickets: RawJSON(tickets))
    }

    /// The location, from a cache refreshed when an unknown id appears (a store opened since).
    private func location(_ id: Int64) async throws -> Location {
        if let known = stores.withLock({ $0[id] }) { return known }
        let all = try await client.locations()
        let byID = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        stores.withLock { $0 = byID }
        guard let found = byID[id] else { throw Failure.unusable("location \(id) is not among Heartland Retail's locations") }
        return found
    }
}
