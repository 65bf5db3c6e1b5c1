import AMQP
import Accounting
import Foundation
import HeartlandConnector
import HeartlandIngest
import Logging
import Messaging
import PipelineContracts
import ServiceLifecycle
import Synchronization
import TestPrograms
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// heartland-ingest's parts against the simulator: webhooks recorded once whatever the repeats,
/// the poller's catch-up, events carrying what Heartland holds, and a Heartland outage waited out.
/// (The same process on a real broker is in BrokerTests/SettlementFlowTests.)
@Suite struct IngestTests {
    /// Messages "published", for checking what ingest would have sent.
    class RecordingPublisher: MessagePublisher, @unchecked Sendable {
        let messages = Mutex<[OutgoingMessage]>([])
        /// How many messages each publish carried, in order (refused ones too).
        let publishes = Mutex<[Int]>([])
        /// A text whose message the broker refuses (unroutable), and every message published with it.
        let refusing = Mutex<String?>(nil)
        func publish(_ batch: [OutgoingMessage]) async throws {
            publishes.withLock { $0.append(batch.count) }
            if let text = refusing.withLock({ $0 }),
               let message = batch.first(where: { String(decoding: $0.body, as: UTF8.self).contains(text) }) {
                throw AMQPError.unroutable(exchange: message.exchange, routingKey: message.routingKey, messageID: message.properties.messageID ?? "")
            }
            messages.withLock { $0 += batch }
        }
        init() {}
        func on(_ exchange: String) -> [OutgoingMessage] { messages.withLock { $0.filter { $0.exchange == exchange } } }
        func events() throws -> [BatchClosedEvent] {
            try on("bridge.events").filter { $0.routingKey == BatchClosedEvent.routingKey }
                .map { try JSONDecoder().decode(BatchClosedEvent.self, from: Data($0.body)) }
        }
        func refundEvents() throws -> [RefundCreatedEvent] {
            try on("bridge.events").filter { $0.routingKey == RefundCreatedEvent.routingKey }
                .map { try JSONDecoder().decode(RefundCreatedEvent.self, from: Data($0.body)) }
        }
    }

    /// The ingest parts on a fresh inbox and the simulator, the receiver listening on a free port.
    struct Ingest {
        let harness: Harness
        let inbox: IngestInbox
        let publisher: RecordingPublisher
        let forwarder: InboxForwarder
        let poller: HeartlandPoller
        let receiver: WebhookReceiver

        init(harness: Harness, day: String = "2026-11-27", publisher: RecordingPublisher = RecordingPublisher()) throws {
            self.harness = harness
            self.publisher = publisher
            inbox = try IngestInbox(path: FileManager.default.temporaryDirectory.appendingPathComponent("inbox-\(UUID().uuidString).sqlite").path)
            let client = harness.client()
            let alerts = IngestAlerts(publisher: publisher, logger: quietLogger)
            var settings = InboxForwarder.Settings()
            settings.initialBackoff = .milliseconds(10)
            settings.maxBackoff = .milliseconds(40)
            forwarder = InboxForwarder(inbox: inbox, source: HeartlandEventSource(client: client), publisher: publisher, alerts: alerts,
                                       settings: settings, logger: quietLogger)
            let today = HeartlandPoller.day(day)!
            poller = HeartlandPoller(client: client, inbox: inbox, alerts: alerts, logger: quietLogger, today: { today })
            receiver = WebhookReceiver(verifier: WebhookVerifier(appKey: Harness.appKey, webhookSecret: Harness.webhookSecret), inbox: inbox,
                                       logger: quietLogger)
        }
    }

    /// Forwards until nothing is due; returns how many were published.
    func forwardAll(_ ingest: Ingest) async throws -> Int {
        var total = 0
        while true {
            let published = try await ingest.forwarder.forwardDue()
            if published == 0 { return total }
            total += published
        }
    }

    /// The generated days' card refunds, as GP-API lists them.
    func refunds(_ harness: Harness) async throws -> [CardTransaction] {
        try await harness.client().transactions(TransactionQuery(type: .refund)).collect()
    }

    @Test func duplicateWebhooksAndThePollerRecordEachBatchOnceAndPublishItOnce() async throws {
        let harness = try await Harness.start { $0.webhookPolicy.duplicateRate = 1 }  // every event delivered twice
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 2, tickets: 20)
        let ingest = try Ingest(harness: harness)
        try await listening(ingest.receiver) { url in
            try await harness.simulatorAddWebhook(url)
            try await harness.closeBatches()
            try await eventually("both batches recorded and repeated") {
                let entries = try await ingest.inbox.entries()
                return entries.count == 2 && entries.allSatisfy { $0.sightings >= 2 }
            }
        }
        // The poller sees the same two batches (sightings) and the day's card refunds, which are new: no webhook told of them.
        let refunds = try await refunds(harness)
        #expect(!refunds.isEmpty)
        let new = try await ingest.poller.sweep()
        #expect(new == refunds.count)
        let entries = try await ingest.inbox.entries().filter { $0.kind == "batch" }
        #expect(entries.map(\.firstSeenBy) == ["webhook", "webhook"])
        #expect(entries.allSatisfy { $0.sightings >= 3 && $0.status == .pending })
        #expect(Set(try await ingest.inbox.entries().filter { $0.kind == "refund" }.map(\.sourceID)) == Set(refunds.map(\.id)))

        #expect(try await forwardAll(ingest) == 2 + refunds.count)
        #expect(try await ingest.forwarder.forwardDue() == 0, "published is final")
        let events = try ingest.publisher.events()
        #expect(events.count == 2)
        #expect(Set(events.map(\.idempotencyKey)) == Set(entries.map(\.key)))
        // Each refund event carries its return ticket and the sale it returns, found from the refund alone.
        let refundEvents = try ingest.publisher.refundEvents()
        #expect(Set(refundEvents.map(\.transactionId)) == Set(refunds.map(\.id)))
        #expect(refundEvents.allSatisfy { $0.returnTicket != nil && $0.originalTicket != nil && $0.saleTransaction != nil })
        // Each publication is the first hop of the event's trace.
        let hops = ingest.publisher.on("bridge.audit").filter { $0.routingKey == "audit.hop.heartland-ingest" }
            .compactMap { try? JSONDecoder().decode(HopNotice.self, from: Data($0.body)) }
        #expect(Set(entries.map(\.key)).isSubset(of: Set(hops.map(\.correlationId))))
        #expect(hops.filter { entries.map(\.key).contains($0.correlationId) }.allSatisfy { $0.outcome.contains("first seen by webhook") })
        #expect(try await ingest.inbox.entries().allSatisfy { $0.status == .published && $0.messageID != nil })
    }

    /// With the poller off and no refund webhooks, a closed batch's card refunds are still found: the
    /// forwarder records them from the batch, so no refund the day's journal leaves out is lost.
    @Test func aClosedBatchBringsItsCardRefundsWithIt() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 2, tickets: 100)
        let ingest = try Ingest(harness: harness)
        try await harness.closeBatches()
        var found: (batch: HeartlandConnector.SettlementBatch, refunds: [HeartlandConnector.CardTransaction])?
        for batch in try await harness.client().batches(BatchQuery(status: .closed, businessDay: "2026-11-27")).collect() {
            let refunds = try await harness.client().transactions(TransactionQuery(batchId: batch.id, type: .refund)).collect()
            if !refunds.isEmpty { found = (batch, refunds) }
        }
        let (batch, inBatch) = try #require(found, "a generated batch with card refunds")
        try await ingest.inbox.accept(key: "heartland:batch:\(batch.id)", kind: "batch", sourceID: batch.id, seenBy: "webhook")
        #expect(try await forwardAll(ingest) == 1 + inBatch.count)
        #expect(Set(try ingest.publisher.refundEvents().map(\.transactionId)) == Set(inBatch.map(\.id)))
        #expect(try await ingest.inbox.entries().filter { $0.kind == "refund" }.allSatisfy { $0.firstSeenBy == "batch" })
    }

    @Test func badSignatureIs401AndNothingIsRecorded() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let ingest = try Ingest(harness: harness)
        let body = Data(#"{"id":"EVT_1","event":"batch.closed","data":{"id":"BAT_X","status":"CLOSED"}}"#.utf8)
        let forgedSignature = "t=\(Int(Date().timeIntervalSince1970)),sha256=" + String(repeating: "ab", count: 32)
        let forged = await ingest.receiver.receive(body: body) { $0.lowercased() == "x-heartland-signature" ? forgedSignature : nil }
        #expect(forged.status == .unauthorized)
        let unsigned = await ingest.receiver.receive(body: body) { _ in nil }
        #expect(unsigned.status == .unauthorized)
        #expect(try await ingest.inbox.entries().isEmpty)
        #expect(ingest.publisher.messages.withLock { $0.isEmpty })
    }

    @Test func pollerCatchesUpOnBatchesClosedWhileIngestWasDown() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 3, day: "2026-11-25", tickets: 10)
        try await harness.closeBatches()  // no webhook endpoint: only polling can find them
        // The generated day also holds yesterday's closed batch of a store whose returns refer to it.
        let closed = try await harness.client().batches(BatchQuery(status: .closed)).collect()
        #expect(closed.filter { $0.businessDay == "2026-11-25" }.count == 3)
        let ingest = try Ingest(harness: harness, day: "2026-11-27")
        let refunds = try await refunds(harness)
        #expect(try await ingest.poller.sweep() == closed.count + refunds.count)
        #expect(Set(try await ingest.inbox.entries().filter { $0.kind == "batch" }.map(\.sourceID)) == Set(closed.map(\.id)))
        #expect(Set(try await ingest.inbox.entries().filter { $0.kind == "refund" }.map(\.sourceID)) == Set(refunds.map(\.id)))
        #expect(try await ingest.inbox.entries().allSatisfy { $0.firstSeenBy == "poller" })
        #expect(try await ingest.poller.sweep() == 0)
        #expect(try await forwardAll(ingest) == closed.count + refunds.count)
    }

    /// The event carries Heartland's batch and every ticket page of the store's day, which the
    /// transformer's parser reads back: the same tickets, the same totals.
    @Test func eventCarriesTheBatchAndEveryTicketPageAsServed() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 45)
        try await harness.closeBatches()
        let client = harness.client(retailPageSize: 10)  // five pages
        let batch = try #require(try await client.batches(BatchQuery(status: .closed)).collect().first)
        let event = try await HeartlandEventSource(client: client).event(batchID: batch.id)
        #expect(event.batchId == batch.id)
        #expect(event.idempotencyKey == "heartland:batch:\(batch.id)")
        #expect(event.store.timeZone.contains("/"))
        #expect(event.businessDate == "2026-11-27")
        let day = try #require(batch.businessDay)
        let served = try await client.tickets(locationId: try #require(batch.locationId), fromBusinessDay: day, throughBusinessDay: day)
        let parsed = try HeartlandJSON.tickets(from: event.tickets.data, currency: try CurrencyCode("USD"))
        #expect(parsed.count == served.count)
        #expect(Set(parsed.map(\.id.rawValue)) == Set(served.map { String($0.id) }))
        let totals = try HeartlandJSON.settlementBatch(from: event.batch.data).totals
        #expect(totals.sales.minorUnits == batch.totals.salesCents)
    }

    /// Issue 21: the batch message's body is the kept event's bytes (one encoding of the day's tickets, not two), the
    /// same bytes `OutboundMessage(json:)` made of the event before, and the same again when it is published again.
    @Test func theBatchMessageIsTheKeptEventByteForByte() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 45)
        try await harness.closeBatches()
        let ingest = try Ingest(harness: harness)
        _ = try await ingest.poller.sweep()
        let entry = try #require(try await ingest.inbox.entries().first { $0.kind == "batch" })
        let source = HeartlandEventSource(client: harness.client(retailPageSize: 10), inbox: ingest.inbox)  // five pages
        let first = try await source.message(for: entry, eventsExchange: "bridge.events").message
        let kept = try #require(try await ingest.inbox.batchEvent(entry.sourceID))
        #expect(Data(first.body) == kept)
        let event = try JSONDecoder().decode(BatchClosedEvent.self, from: kept)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(event) == kept, "the body OutboundMessage(json:) made of the event")
        #expect(first.idempotencyKey == event.idempotencyKey && first.schema == BatchClosedEvent.schema)
        #expect(first.routingKey == BatchClosedEvent.routingKey && first.exchange == "bridge.events")
        #expect(try HeartlandJSON.tickets(from: event.tickets.data, currency: try CurrencyCode("USD")).count > 10)
        let again = try await source.message(for: entry, eventsExchange: "bridge.events").message
        #expect(again.body == first.body, "published again (a crash before the record, a replay): the same bytes")
    }

    /// Heartland answers 503 to everything: the batch stays pending with growing waits, an alert goes
    /// out at the third failed attempt (once), and when Heartland is back the batch is published with
    /// an audit record of the recovery. Nothing is lost.
    @Test func heartlandDownIsRetriedAlertedAndNothingIsLost() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 10)
        try await harness.closeBatches()
        let ingest = try Ingest(harness: harness)
        #expect(try await ingest.poller.sweep() == 1)
        harness.faults { $0.errorRate = 1; $0.errorStatus = 503 }

        let key = try #require(try await ingest.inbox.entries().first?.key)
        try await eventually("five failed attempts") {
            try await ingest.forwarder.forwardDue()
            return try await ingest.inbox.entry(key)?.attempts ?? 0 >= 5
        }
        #expect(try await ingest.inbox.entry(key)?.status == .pending)
        #expect(try await ingest.inbox.entry(key)?.lastError?.contains("503") == true)
        #expect(try ingest.publisher.events().isEmpty)
        let alerts = ingest.publisher.on("bridge.alerts").map { try? JSONDecoder().decode(AlertNotice.self, from: Data($0.body)) }
        #expect(alerts.count == 1, "one alert at the third attempt, not one per attempt")
        #expect(alerts.first??.kind == "source_unavailable")
        #expect(alerts.first??.reason.contains("waits in the ingest inbox") == true)

        harness.faults { _ in }
        try await eventually("published once Heartland is back") {
            try await ingest.forwarder.forwardDue()
            return try await ingest.inbox.entry(key)?.status == .published
        }
        #expect(try ingest.publisher.events().count == 1)
        let audits = ingest.publisher.on("bridge.audit").compactMap { try? JSONDecoder().decode(AuditNotice.self, from: Data($0.body)) }
        #expect(audits.map(\.event) == ["source_recovered"])
    }

    /// Per document: a record whose publish fails (the broker refusing it) stays pending and does not hold back the
    /// records after it; it is published on a later scan once the broker takes it.
    @Test func aRecordTheBrokerRefusesDoesNotHoldBackTheOthers() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 3, tickets: 5)
        try await harness.closeBatches()
        let publisher = RefusingPublisher()
        let ingest = try Ingest(harness: harness, publisher: publisher)
        try await ingest.poller.sweep()
        let keys = try await ingest.inbox.entries().map(\.key).sorted()
        #expect(keys.count >= 3, "\(keys)")
        let refused = try #require(keys.first)
        publisher.refused.withLock { $0 = [refused] }

        #expect(try await ingest.forwarder.forwardDue() == keys.count - 1, "the others published in the same scan")
        #expect(try await ingest.inbox.entry(refused)?.status == .pending)

        publisher.refused.withLock { $0 = [] }
        #expect(try await ingest.forwarder.forwardDue() == 1)
        #expect(try await ingest.inbox.entry(refused)?.status == .published)
    }

    /// Event-driven: a webhook's record is published as soon as it is written, not at the forwarder's next scan
    /// (here an hour away: the scan is only the safety net).
    @Test func aRecordedWebhookIsPublishedAtOnceNotAtTheNextScan() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 5)
        let ingest = try Ingest(harness: harness)
        var settings = InboxForwarder.Settings()
        settings.scanInterval = .seconds(3_600)
        let forwarder = InboxForwarder(inbox: ingest.inbox, source: HeartlandEventSource(client: harness.client()), publisher: ingest.publisher,
                                       alerts: IngestAlerts(publisher: ingest.publisher, logger: quietLogger), settings: settings,
                                       logger: quietLogger)
        let running = Task { try await forwarder.run() }
        defer { running.cancel() }
        try await listening(ingest.receiver) { url in
            try await harness.simulatorAddWebhook(url)
            try await harness.closeBatches()
            try await eventually(timeout: .seconds(30), "the batch published while the scan sleeps") { try ingest.publisher.events().count == 1 }
        }
        running.cancel()
        _ = try? await running.value
    }

    /// Per document, and refunds in seconds: a card refund does not wait behind another kind of record. With the closed
    /// batches' publish stuck at the broker (a batch's ticket pages can also take seconds to fetch, and the gateway feed
    /// can record hundreds of transactions at once), the refunds recorded after them are published meanwhile, by the
    /// forwarder's refund lane. (One loop over the inbox in time order held them back: `scripts/bench-refunds`' p99.)
    @Test(.timeLimit(.minutes(2))) func refundsArePublishedWhileABatchsPublishIsStuck() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 2, tickets: 20)
        let publisher = StallingPublisher()
        let ingest = try Ingest(harness: harness, publisher: publisher)
        try await listening(ingest.receiver) { url in
            try await harness.simulatorAddWebhook(url)
            try await harness.closeBatches()
            try await eventually("both batches recorded") { try await ingest.inbox.entries().count == 2 }
        }
        let refunds = try await refunds(harness)
        #expect(!refunds.isEmpty)
        #expect(try await ingest.poller.sweep() == refunds.count, "the refunds recorded after the batches")

        let running = Task { try await ingest.forwarder.run() }
        defer { running.cancel() }
        try await eventually(timeout: .seconds(60), "every refund published while the batches' publish is stuck") {
            try publisher.refundEvents().count == refunds.count
        }
        try await eventually(timeout: .seconds(60), "the batches' publish stuck") { publisher.stalled.withLock { $0 } > 0 }
        #expect(try publisher.events().isEmpty)
        publisher.released.withLock { $0 = true }
        try await eventually(timeout: .seconds(60), "the batches published once the broker takes them") { try publisher.events().count == 2 }
        running.cancel()
        _ = try? await running.value
    }

    /// Holds every publish of a closed batch (as a broker that does not confirm would) until `released`.
    final class StallingPublisher: RecordingPublisher, @unchecked Sendable {
        let released = Mutex(false)
        let stalled = Mutex(0)
        override func publish(_ batch: [OutgoingMessage]) async throws {
            if batch.contains(where: { $0.routingKey == BatchClosedEvent.routingKey }) {
                stalled.withLock { $0 += 1 }
                while !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
            }
            try await super.publish(batch)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aRingWhileTheLoopIsBusyWakesItsNextWaitAndEveryWaiterHearsEveryRing() async throws {
        let bell = Doorbell()
        // A loop reads the count, is busy (two rings come meanwhile), then waits: it is answered at once.
        let seen = bell.rings
        bell.ring()
        bell.ring()
        let started = ContinuousClock.now
        await bell.wait(after: seen, atMost: .seconds(3_600))
        #expect(ContinuousClock.now - started < .seconds(60), "the ring that came while busy answered at once")
        // Nothing rang since the loop last looked: the wait times out.
        let second = ContinuousClock.now
        await bell.wait(after: bell.rings, atMost: .milliseconds(50))
        #expect(ContinuousClock.now - second >= .milliseconds(50))
        // Two waiters (the forwarder's lanes) are both woken by one ring from another task (the time limit fails the test
        // if either is not), and a cancelled wait returns.
        let now = bell.rings
        let first = Task { await bell.wait(after: now, atMost: .seconds(3_600)) }
        let other = Task { await bell.wait(after: now, atMost: .seconds(3_600)) }
        bell.ring()
        await first.value
        await other.value
        let cancelled = Task { await bell.wait(after: bell.rings, atMost: .seconds(3_600)) }
        cancelled.cancel()
        await cancelled.value
    }

    /// Refuses (as a broker's nack would) every message whose correlation id is listed.
    final class RefusingPublisher: RecordingPublisher, @unchecked Sendable {
        let refused = Mutex<Set<String>>([])
        override func publish(_ batch: [OutgoingMessage]) async throws {
            let refused = refused.withLock { $0 }
            if batch.contains(where: { refused.contains($0.properties.correlationID ?? "") }) {
                throw AMQPError.publishNacked(messageID: batch[0].properties.messageID ?? "")
            }
            try await super.publish(batch)
        }
    }

    /// A completed pay run (webhook and poller alike) becomes one `heartland.payroll.completed` event whose
    /// payload the transformer's parser reads back: the same paychecks and totals.
    @Test func completedPayRunIsRecordedOnceAndPublishedAsServed() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 5)
        let ingest = try Ingest(harness: harness)
        let client = harness.client()
        let run = try #require(try await client.payRuns(status: nil).first)
        try await listening(ingest.receiver) { url in
            try await harness.simulatorAddWebhook(url)
            try await harness.adminPost("admin/pay_runs/\(run.id)/complete")
            try await eventually("payroll.completed recorded") { try await ingest.inbox.entry("heartland:pay_run:\(run.id)") != nil }
        }
        _ = try await ingest.poller.sweep()
        #expect(try await ingest.inbox.entry("heartland:pay_run:\(run.id)")?.sightings == 2, "the poller sees the same run: a sighting")
        #expect(try await ingest.inbox.entries().filter { $0.kind == "pay_run" }.count == 1)
        _ = try await forwardAll(ingest)
        let message = try #require(ingest.publisher.on("bridge.events").first { $0.routingKey == PayrollCompletedEvent.routingKey })
        #expect(message.routingKey == PayrollCompletedEvent.routingKey)
        let event = try JSONDecoder().decode(PayrollCompletedEvent.self, from: Data(message.body))
        #expect(event.idempotencyKey == "heartland:pay_run:\(run.id)")
        let parsed = try HeartlandJSON.payRun(from: event.payRun.data, currency: try CurrencyCode("USD"))
        let served = try await client.payRun(id: run.id)
        #expect(parsed.paychecks.count == served.paychecks.count)
        #expect(parsed.paychecks.reduce(0) { $0 + $1.gross.minorUnits } == served.paychecks.reduce(0) { $0 + $1.grossCents })
    }

    /// A batch Heartland says does not exist cannot become an event: failed at once with an alert
    /// that names it, kept in the inbox for `retryFailed`.
    @Test func unknownBatchFailsWithAnAlertNamingIt() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let ingest = try Ingest(harness: harness)
        try await ingest.inbox.accept(key: "heartland:batch:BAT_NOPE", kind: "batch", sourceID: "BAT_NOPE", seenBy: "webhook")
        #expect(try await ingest.forwarder.forwardDue() == 0)
        #expect(try await ingest.inbox.entry("heartland:batch:BAT_NOPE")?.status == .failed)
        let alert = try #require(ingest.publisher.on("bridge.alerts").first)
        let notice = try JSONDecoder().decode(AlertNotice.self, from: Data(alert.body))
        #expect(notice.kind == "ingest_failed")
        #expect(notice.reason.contains("BAT_NOPE"))
        #expect(try await ingest.inbox.retryFailed() == 1)
    }
}

extension Harness {
    func simulatorAddWebhook(_ url: String) async throws {
        try await adminPost("admin/webhooks", "{\"url\":\"\(url)\"}", expecting: 201)
    }
}
