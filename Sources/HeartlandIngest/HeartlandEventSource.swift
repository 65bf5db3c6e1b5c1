import Accounting
import BridgeClock
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
    /// Where documents are claimed by their batch and built events kept; nil (tests): no claims are kept.
    let inbox: IngestInbox?
    private let stores = Mutex<[Int64: Location]>([:])

    public init(client: any HeartlandClient, inbox: IngestInbox? = nil) {
        self.client = client
        self.inbox = inbox
    }

    /// The message for an inbox record, by its kind (`batch`, `pay_run`, `refund`, `gateway_transaction`).
    public func message(for entry: IngestInbox.Entry, eventsExchange: String, scoringExchange: String = "bridge.scoring") async throws
        -> (message: OutboundMessage, detail: String)
    {
        switch entry.kind {
        case GatewayFeedPoller.kind:
            // Built from the listing when the feed recorded it: no second request to Heartland.
            let event = try JSONDecoder().decode(GatewayTransactionEvent.self, from: try await feedEvent(entry))
            return (try OutboundMessage(exchange: scoringExchange, routingKey: event.routingKey, json: event, idempotencyKey: event.idempotencyKey,
                                        schema: GatewayTransactionEvent.schema),
                    "\(event.type) \(event.status) at \(event.store.id)/\(event.terminal ?? "?"), created \(event.timeCreated)")
        case GatewayFeedPoller.voidKind:
            let event = try JSONDecoder().decode(TicketVoidedEvent.self, from: try await feedEvent(entry))
            return (try OutboundMessage(exchange: scoringExchange, routingKey: TicketVoidedEvent.routingKey, json: event,
                                        idempotencyKey: event.idempotencyKey, schema: TicketVoidedEvent.schema),
                    "ticket \(event.publicId) voided at \(event.store.id), clerk \(event.clerk ?? "?")")
        case "batch":
            // The kept event's bytes are the message's body (one encoding of a day's tickets, not two).
            let built = try await batchEvent(batchID: entry.sourceID)
            let detail = "store \(built.shell.store.id), business day \(built.shell.businessDate), \(built.ticketBytes) bytes of tickets"
                + (built.timings.map { "; built in \($0)" } ?? "; kept event")
            return (OutboundMessage(exchange: eventsExchange, routingKey: BatchClosedEvent.routingKey, body: built.body,
                                    idempotencyKey: built.shell.idempotencyKey, schema: BatchClosedEvent.schema), detail)
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

    /// The event the gateway feed kept with its inbox record.
    private func feedEvent(_ entry: IngestInbox.Entry) async throws -> Data {
        guard let body = try await inbox?.feedEvent(entry.key) else { throw Failure.unusable("\(entry.kind) \(entry.sourceID) has no kept event") }
        return body
    }

    public func payrollEvent(runID: String) async throws -> PayrollCompletedEvent {
        let (run, json) = try await client.payRunJSON(id: runID)
        guard run.status == .processed || run.status == .posted else {
            throw Failure.unusable("pay run \(runID) is \(run.status.rawValue), not PROCESSED")
        }
        let event = PayrollCompletedEvent(currency: "USD", runId: run.id, payRun: RawJSON(json))
        // Kept for the mapping page's checks (the payroll codes of the last 30 days); publishing does not depend on it.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await inbox?.keepPayrollEvent(run.id, body: try encoder.encode(event))
        return event
    }

    /// The batch and the documents that belong to it (docs/FLOWS.md "Batches and documents"): every ticket with a card tender
    /// the batch settled, and every ticket without a card transaction completed before the batch closed that no other
    /// batch has claimed (or whose time cannot be read: it is set aside downstream). A document belongs to the first
    /// batch that claims it, for good; the event is built once and kept, so publishing it again gives the same journals.
    public func event(batchID: String) async throws -> BatchClosedEvent {
        let built = try await batchEvent(batchID: batchID)
        return try built.kept ?? BatchClosedEvent(bytes: built.body)
    }

    /// How long building a batch's event took, step by step (the fetches side by side, so they overlap).
    struct BatchBuildTimings: CustomStringConvertible {
        var fetched, settledTransactions, ticketPages: Duration
        var pages: Int
        var previousBatch, claimed, customers: Duration
        var customerCount: Int
        var encoded, kept: Duration

        var description: String {
            func s(_ duration: Duration) -> String { String(format: "%.2f s", duration.seconds) }
            return "\(s(fetched + claimed + customers + encoded + kept)): fetched \(s(fetched)) (settled transactions \(s(settledTransactions)), "
                + "\(pages) ticket pages read, sketched and escaped \(s(ticketPages)), previous batch \(s(previousBatch))), claimed \(s(claimed)), "
                + "\(customerCount) customers \(s(customers)), encoded \(s(encoded)), kept \(s(kept))"
        }
    }

    /// A batch's event as kept (and published): its JSON (sorted keys, as `OutboundMessage(json:)` encodes), the event
    /// without its tickets (`shell`) and their size. Built, the event is never held whole beside its JSON, nor the pages as
    /// served beside the body (a 100,000-ticket day's tickets are 88 MB): each page is sketched and its records escaped as it
    /// arrives, then let go (`SketchedTicketPage`), and the body is written from the escaped records, each page's let go once
    /// written. `kept`: the whole event when it was kept already
    /// (read back to check it); `timings`: how long building it took, step by step, when it was built here.
    func batchEvent(batchID: String) async throws -> (body: [UInt8], shell: BatchClosedEvent, ticketBytes: Int, kept: BatchClosedEvent?,
                                                      timings: BatchBuildTimings?) {
        if let kept = try await inbox?.batchEvent(batchID), let event = try? BatchClosedEvent(body: kept) {
            var shell = event
            shell.tickets = RawJSON(Data())
            return (Array(kept), shell, event.tickets.data.count, event, nil)
        }
        let (batch, json) = try await client.batchJSON(id: batchID)
        guard batch.status == .closed else {
            throw Failure.unusable("batch \(batchID) is \(batch.status.rawValue), not CLOSED")
        }
        guard let day = batch.businessDay, !day.isEmpty else { throw Failure.unusable("batch \(batchID) has no business_day") }
        guard let locationID = batch.locationId else { throw Failure.unusable("batch \(batchID) has no location_id") }
        guard let date = try? BusinessDate(parsing: day) else { throw Failure.unusable("batch \(batchID) has business_day \(day), not YYYY-MM-DD") }
        let closed = batch.timeClosed.flatMap(Timestamps.instant)
        // What the batch's documents are chosen from, fetched side by side (each within the client's own limits): the store,
        // the transactions the batch settled, the store's tickets around its day (a batch closed after midnight carries the
        // previous day's late tickets and the new day's first ones) and the store's previous batch.
        let clock = ContinuousClock()
        let started = clock.now
        async let storeRead = store(locationID, currency: batch.currency ?? "USD")
        async let settledRead = timed(clock) { try await self.client.transactionIDs(TransactionQuery(batchId: batchID)) }
        async let earlierRead = timed(clock) { try await self.previousBatch(of: locationID, around: date, closedBefore: closed, except: batchID) }
        // The pages are read in this task, not a child's: a child's result stays held until the end of this scope, and
        // each page's escaped records are to be let go as the body is written from them. Each page is sketched and its
        // records escaped for the event's body as it arrives; the page as served is let go.
        var sketched = try await client.ticketPages(.location(locationID, businessDays: date.adding(days: -1).iso,
                                                              through: date.adding(days: 1).iso), reading: SketchedTicketPage.reading).collect()
        let pagesTime = clock.now - started
        let pages = sketched.map(\.records)
        let escaped = sketched.map(\.escaped)
        sketched = []
        let store = try await storeRead
        let (settledIDs, settledTime) = try await settledRead
        let settled = Set(settledIDs)
        let (earlier, earlierTime) = try await earlierRead
        let fetched = clock.now
        // A ticket without a card transaction belongs to the first batch of its store that closes after it. One completed
        // before the previous close is that batch's; taken here only if that batch has been forwarded without it (a ticket
        // that reached Heartland late), so nothing waits for a batch that already went.
        let earlierForwarded = if let earlier { try await inbox?.batchEvent(earlier.id) != nil } else { false }
        func isCandidate(_ sketch: SketchedTicketPage.Record) -> Bool {
            if !sketch.transactionIDs.isEmpty { return sketch.transactionIDs.contains(where: settled.contains) }
            guard let closed, let completed = sketch.completedAt else { return true }
            guard completed <= closed else { return false }
            guard let earlier, completed <= earlier.closed else { return true }
            return earlierForwarded
        }
        // Records go with their key: two records Heartland serves under one id travel together (the transformer sets
        // both aside), whichever of them made the id a candidate.
        let ids = Set(pages.joined().filter(isCandidate).map(\.key))
        let mine = try await inbox?.claim(store: store.id, batchID: batchID, documents: ids.sorted()) ?? ids
        let taken = pages.joined().filter { mine.contains($0.key) }
        let claimed = clock.now
        // The customers of tickets charged to (or paying down) a house account travel with the batch: their AR documents
        // are in their names.
        let customers = try await customers(Set(taken.compactMap(\.houseAccountCustomerID)).sorted())
        let customersRead = clock.now
        let shell = BatchClosedEvent(store: store, businessDate: day, batchId: batch.id, batch: RawJSON(json), tickets: RawJSON(Data()),
                                     closedAt: batch.timeClosed, customers: customers.isEmpty ? nil : RawJSON(HeartlandJSON.array(of: customers)))
        let body = try shell.encodedBody(escapedPages: consume escaped) { mine.contains(pages[$0][$1].key) }
        let ticketBytes = taken.reduce(2 + max(0, taken.count - 1)) { $0 + $1.length }
        let encoded = clock.now
        try await inbox?.keepBatchEvent(batchID, body: body)
        let timings = BatchBuildTimings(
            fetched: fetched - started, settledTransactions: settledTime, ticketPages: pagesTime, pages: pages.count, previousBatch: earlierTime,
            claimed: claimed - fetched, customers: customersRead - claimed, customerCount: customers.count,
            encoded: encoded - customersRead, kept: clock.now - encoded)
        return (body, shell, ticketBytes, nil, timings)
    }

    /// The customers (as served) of the ids, a few requests at a time, in the order of the ids; one Heartland no longer has
    /// is left out (the transformer sets its tickets aside: their customer is unknown).
    private func customers(_ ids: [String]) async throws -> [Data] {
        try await ids.mapConcurrently(limit: Self.customerConcurrency) { id -> Data? in
            do { return try await self.client.customerJSON(id: id) } catch HeartlandError.notFound { return nil }
        }.compactMap { $0 }
    }

    /// Customer requests in flight at once while a batch is built.
    static let customerConcurrency = 4

    /// How long `body` took, on `clock`.
    private func timed<T: Sendable>(_ clock: ContinuousClock, _ body: @Sendable () async throws -> T) async throws -> (T, Duration) {
        let started = clock.now
        let value = try await body()
        return (value, clock.now - started)
    }

    /// The latest batch of the location closed before `closed` (business days around `date`).
    private func previousBatch(of locationID: Int64, around date: BusinessDate, closedBefore closed: Date?, except batchID: String) async throws
        -> (id: String, closed: Date)?
    {
        guard let closed else { return nil }
        var latest: (id: String, closed: Date)?
        for day in [date.adding(days: -1), date, date.adding(days: 1)] {
            for other in try await client.batches(BatchQuery(locationId: locationID, status: .closed, businessDay: day.iso)).collect()
            where other.id != batchID && other.locationId == locationID {
                guard let time = other.timeClosed.flatMap(Timestamps.instant), time < closed else { continue }
                if latest.map({ time > $0.closed }) ?? true { latest = (other.id, time) }
            }
        }
        return latest
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
        var returnTicket: (ticket: HeartlandConnector.Ticket, json: Data)?
        if let reference = refund.reference, !reference.isEmpty {
            let candidates = try await client.tickets(TicketQuery(locationId: locationID, publicId: reference)).collect()
            if let found = candidates.first(where: { $0.payments.contains { $0.gatewayTransactionId == transactionID } }) {
                returnTicket = try await client.ticketJSON(id: found.id)
            }
        }
        var original: (ticket: HeartlandConnector.Ticket, json: Data)?
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
        try await client.transactionIDs(TransactionQuery(batchId: batchID, type: .refund))
    }

    /// Nil when Heartland answers 404; any other failure is thrown (and retried).
    /// Nil when Heartland answers 404 or serves a record that does not have its documented shape (the event is
    /// context; the transformer judges what is missing); any other failure is thrown (and retried).
    private func optional<T: Sendable>(_ fetch: @Sendable () async throws -> T) async throws -> T? {
        do { return try await fetch() } catch HeartlandError.notFound { return nil } catch HeartlandError.invalidResponse { return nil }
    }

    /// Pages as served, as one JSON array of pages.
    static func array(_ pages: [Data]) -> Data { HeartlandJSON.array(of: pages) }

    /// The location, from a cache refreshed when an unknown id appears (a store opened since).
    /// The store as events carry it: its public id (the location id when it has none) and its time zone.
    func store(_ locationID: Int64, currency: String) async throws -> BatchClosedEvent.Store {
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

/// A page of Retail tickets as a batch's event is built from it: what each record says about the batch it belongs to, and
/// the records escaped for the event's body (`EscapedRecords`). Only these are kept of the page as served, so that a
/// 100,000-ticket day's pages and its event's body are never held side by side.
struct SketchedTicketPage: Sendable {
    struct Record: Sendable {
        /// The record's id, or `?<fingerprint of its bytes>` for one without a readable id (claimed under that name).
        var key: String
        var completedAt: Date?
        var transactionIDs: [String]
        var houseAccountCustomerID: String?
        /// Its bytes as served.
        var length: Int
    }

    var records: [Record]
    var escaped: EscapedRecords

    init(sketches: [TicketSketch]) {
        records = sketches.map { sketch in
            Record(key: sketch.id ?? "?" + HeartlandJSON.fingerprint(sketch.raw), completedAt: sketch.completedAt,
                   transactionIDs: sketch.transactionIDs, houseAccountCustomerID: sketch.houseAccountCustomerID, length: sketch.raw.count)
        }
        escaped = EscapedRecords(sketches.map(\.raw))
    }

    /// A page as served, sketched: the page's shape is read once, for its records and its list's page count both (the
    /// page was parsed whole by a `JSONDecoder` to count its records, 10 % of heartland-ingest's CPU building a
    /// 50,000-ticket batch, issue 21).
    @Sendable static func reading(_ page: Data) throws -> RetailPageReading<SketchedTicketPage> {
        let (sketches, pageCount) = try HeartlandJSON.ticketSketchPage(from: page)
        return RetailPageReading(page: SketchedTicketPage(sketches: sketches), recordCount: sketches.count, pageCount: pageCount)
    }
}
