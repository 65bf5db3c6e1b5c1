import BridgeClock
import Foundation
import HeartlandConnector
import Logging
import PipelineContracts
import ServiceLifecycle

/// The gateway feed: every few seconds, GP-API's transaction list, newest first, down to a little before the newest
/// transaction it has seen (the cursor, kept in the inbox's SQLite state), every transaction listed `REVERSED`
/// since the day before, and the Retail tickets changed to `void` since the tickets' own cursor (`TicketVoidedEvent`). Each new one goes into the inbox with its `GatewayTransactionEvent` (one write: record and
/// body), and the `InboxForwarder` publishes it to `bridge.scoring` with a confirm, like every other record.
///
/// GP-API filters `from_time_created` by day only, so the list is read from the cursor's UTC day and cut at the
/// cursor less `overlap` (a transaction listed late under an earlier time); what was published before is known to the
/// inbox and skipped. The cursor moves only after a sweep has recorded everything it listed, so a restart or a failed
/// sweep reads the same window again: nothing missed, nothing published twice.
public final class GatewayFeedPoller: Service, Sendable {
    public struct Settings: Sendable {
        public var interval: Duration = .seconds(5)
        /// On a first start (no cursor), how far back before now the feed begins.
        public var catchUp: TimeInterval = 900
        /// Each sweep reads again this far behind the newest transaction seen.
        public var overlap: TimeInterval = 600
        public var pageSize = 100
        /// Consecutive failed sweeps before an alert.
        public var alertAfterFailures = 3
        public init() {}
    }

    static let cursorName = "gateway.cursor"
    /// Where the feed began (its first start less `catchUp`): older reversals are not the feed's.
    static let startName = "gateway.start"
    public static let kind = "gateway_transaction"
    public static let voidKind = "ticket_voided"
    static let voidCursorName = "tickets.void_cursor"

    let client: any HeartlandClient
    let source: HeartlandEventSource
    let inbox: IngestInbox
    let alerts: IngestAlerts
    let settings: Settings
    let logger: Logger
    let now: @Sendable () -> Date

    public init(client: any HeartlandClient, source: HeartlandEventSource, inbox: IngestInbox, alerts: IngestAlerts, settings: Settings = Settings(),
                logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.source = source
        self.inbox = inbox
        self.alerts = alerts
        self.settings = settings
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        await PollingLoop(name: "gateway feed", interval: settings.interval, alertAfterFailures: settings.alertAfterFailures, alerts: alerts,
                          logger: logger)
            .run { try await self.sweep() }
    }

    /// One sweep; returns how many transactions, reversals and voided tickets were new to the inbox.
    @discardableResult
    public func sweep() async throws -> Int {
        let seenAt = now()
        let start: Date
        if let recorded = try await inbox.pollState(Self.startName).flatMap(Self.instant) {
            start = recorded
        } else {
            start = seenAt.addingTimeInterval(-settings.catchUp)
            try await inbox.setPollState(Self.startName, Self.stamp(start))
        }
        let cursor = try await inbox.pollState(Self.cursorName).flatMap(Self.instant) ?? start
        let floor = max(start, cursor.addingTimeInterval(-settings.overlap))
        var found: [(CardTransaction, GatewayTransactionEvent.Sighting)] = []
        var newest = cursor
        let recent = TransactionQuery(fromDay: HeartlandPoller.text(floor), newestFirst: true, pageSize: settings.pageSize)
        for try await listed in client.listedTransactions(recent) {
            guard let transaction = usable(listed) else { continue }
            // A time the feed cannot read is kept (the inbox absorbs repeats); the list is in time order, so stop at the floor.
            if let created = Self.instant(transaction.timeCreated) {
                if created < floor { break }
                newest = max(newest, created)
            }
            found.append((transaction, .created))
        }
        // A sale voided at the gateway keeps its time_created and turns REVERSED: listed by status, since the day before.
        let reversals = TransactionQuery(status: .reversed, fromDay: HeartlandPoller.text(floor.addingTimeInterval(-86_400)),
                                         pageSize: settings.pageSize)
        for try await listed in client.listedTransactions(reversals) {
            guard let transaction = usable(listed), transaction.status == .reversed else { continue }
            if let created = Self.instant(transaction.timeCreated), created < start { continue }
            found.append((transaction, .reversed))
        }
        // Recorded, and so published, oldest first: the scorer sees a burst in the order it happened.
        found.sort { (Self.instant($0.0.timeCreated) ?? seenAt, $0.0.id) < (Self.instant($1.0.timeCreated) ?? seenAt, $1.0.id) }
        let new = try await record(found, kind: Self.kind) { transaction, sighting in
            (GatewayTransactionEvent.idempotencyKey(transaction.id, sighting), transaction.id)
        } event: { transaction, sighting in
            try await self.event(transaction, sighting: sighting, seenAt: seenAt)
        }
        if newest > cursor { try await inbox.setPollState(Self.cursorName, Self.stamp(newest)) }
        return new + (try await sweepVoidedTickets(start: start, seenAt: seenAt))
    }

    /// Retail tickets changed to `void` since the tickets' cursor (their `updated_at`), less `overlap`.
    func sweepVoidedTickets(start: Date, seenAt: Date) async throws -> Int {
        let cursor = try await inbox.pollState(Self.voidCursorName).flatMap(Self.instant) ?? start
        let floor = max(start, cursor.addingTimeInterval(-settings.overlap))
        var newest = cursor
        var found: [HeartlandConnector.Ticket] = []
        for try await ticket in client.tickets(TicketQuery(updatedSince: floor, status: "void")) where ticket.status == "void" {
            if let changed = ticket.updatedAt.flatMap(Self.instant) { newest = max(newest, changed) }
            found.append(ticket)
        }
        let new = try await record(found, kind: Self.voidKind) { ticket in
            (TicketVoidedEvent.idempotencyKey(ticket.id), String(ticket.id))
        } event: { ticket in
            try await self.voided(ticket, seenAt: seenAt)
        }
        if newest > cursor { try await inbox.setPollState(Self.voidCursorName, Self.stamp(newest)) }
        return new
    }

    /// Records in the inbox, in order, the records it has not heard of, each with its event (built only for those);
    /// returns how many were new.
    private func record<Record, Event: Encodable>(
        _ records: [Record], kind: String, identity: (Record) -> (key: String, sourceID: String),
        event: (Record) async throws -> Event
    ) async throws -> Int {
        let unknown = try await inbox.unknownKeys(records.map { identity($0).key })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var new = 0
        for record in records {
            let (key, sourceID) = identity(record)
            guard unknown.contains(key) else { continue }
            let body = try encoder.encode(try await event(record))
            // Scheduled on the machine's clock, as every inbox record: `seenAt` is the business clock, which may say another hour.
            if try await inbox.acceptFeedEvent(key: key, kind: kind, sourceID: sourceID, body: body) {
                new += 1
                logger.debug("gateway feed record listed", metadata: ["idempotency_key": "\(key)"])
            }
        }
        return new
    }

    func voided(_ ticket: HeartlandConnector.Ticket, seenAt: Date) async throws -> TicketVoidedEvent {
        let store = try await store(ticket.locationId, currency: "USD", record: "ticket \(ticket.id)")
        let tender = ticket.payments.contains { $0.gatewayTransactionId != nil || $0.cardBrand != nil } ? "card"
            : ticket.payments.contains { $0.giftCardNumber != nil } ? "gift_card" : "cash"
        return TicketVoidedEvent(
            ticketId: ticket.id, publicId: ticket.publicId, store: store, station: ticket.stationId.map(String.init), clerk: ticket.salesRep,
            totalCents: abs(ticket.totalCents), tender: tender, voidedAt: ticket.updatedAt ?? ticket.completedAt ?? Self.stamp(seenAt),
            seenAt: Self.stamp(seenAt))
    }

    private func usable(_ listed: ListedTransaction) -> CardTransaction? {
        guard let transaction = listed.transaction, !transaction.id.isEmpty else {
            logger.warning("gateway feed: a transaction Heartland lists cannot be read; left out", metadata: [
                "transaction": "\(listed.id ?? "?")", "problem": "\(listed.problem ?? "no id")",
            ])
            return nil
        }
        return transaction
    }

    /// The transaction as the scorer's message; a location Heartland Retail does not describe still gives a store (its id, UTC).
    func event(_ t: CardTransaction, sighting: GatewayTransactionEvent.Sighting, seenAt: Date) async throws -> GatewayTransactionEvent {
        let currency = t.currency.isEmpty ? "USD" : t.currency
        let store = try await store(t.locationId, currency: currency, record: "transaction \(t.id)")
        return GatewayTransactionEvent(
            sighting: sighting, transactionId: t.id, type: t.type.rawValue, status: t.status.rawValue, amountCents: t.amountCents, currency: currency,
            brand: t.card.map(\.brand.rawValue), first6: t.card?.first6, last4: t.card?.last4, entryMode: t.entryMode, terminal: t.deviceId,
            locationId: t.locationId, store: store, timeCreated: t.timeCreated, resultCode: t.resultCode, parentResourceId: t.parentResourceId,
            seenAt: Self.stamp(seenAt))
    }

    /// The store of a location; one Heartland Retail does not describe still gives a store (its id, UTC).
    private func store(_ locationID: Int64?, currency: String, record: String) async throws -> BatchClosedEvent.Store {
        if let locationID {
            do {
                return try await source.store(locationID, currency: currency)
            } catch let failure as HeartlandEventSource.Failure {
                logger.warning("gateway feed: store unknown, scored in UTC", metadata: ["record": "\(record)", "reason": "\(failure)"])
            }
        }
        return BatchClosedEvent.Store(id: locationID.map(String.init) ?? "unknown", timeZone: "UTC", currency: currency)
    }

    static func instant(_ text: String) -> Date? { Timestamps.instant(text) }

    static func stamp(_ date: Date) -> String { Timestamps.iso8601Millis(date) }
}
