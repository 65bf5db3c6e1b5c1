import AMQP
import Foundation
import HeartlandConnector
import HeartlandIngest
import HeartlandSimulator
import Messaging
import PipelineContracts
import Synchronization
import Testing

/// heartland-ingest's gateway feed against the simulator: every GP-API transaction since the cursor, whatever its
/// status, recorded once and published to `bridge.scoring` with its card data, entry mode, terminal and store; a
/// later reversal published once more; nothing again after a restart; what came before the feed began left out.
@Suite struct GatewayFeedPollerTests {
    /// 2026-11-29T15:00:00Z: two days after the generated store day, so none of its transactions is in the window.
    static let now = Date(timeIntervalSince1970: 1_795_964_400)

    /// What the poller takes as now; the test moves it.
    final class Now: Sendable {
        private let instant: Mutex<Date>
        init(_ instant: Date) { self.instant = Mutex(instant) }
        func get() -> Date { instant.withLock { $0 } }
        func set(_ value: Date) { instant.withLock { $0 = value } }
    }

    /// The feed's parts on an inbox file: poller, forwarder, a publisher that records.
    final class Feed: Sendable {
        let inbox: IngestInbox
        let publisher = IngestTests.RecordingPublisher()
        let forwarder: InboxForwarder
        let source: HeartlandEventSource
        let client: URLSessionHeartlandClient
        let alerts: IngestAlerts
        let clock: Now

        init(harness: Harness, inboxPath: String, now: Date) throws {
            inbox = try IngestInbox(path: inboxPath)
            client = harness.client()
            alerts = IngestAlerts(publisher: publisher, logger: quietLogger)
            source = HeartlandEventSource(client: client, inbox: inbox)
            forwarder = InboxForwarder(inbox: inbox, source: source, publisher: publisher, alerts: alerts, logger: quietLogger)
            clock = Now(now)
        }

        /// A poller on this inbox (a fresh one stands for a restarted process).
        func poller() -> GatewayFeedPoller {
            var settings = GatewayFeedPoller.Settings()
            settings.pageSize = 3  // several pages even for a handful of transactions
            let clock = clock
            return GatewayFeedPoller(client: client, source: source, inbox: inbox, alerts: alerts, settings: settings, logger: quietLogger,
                                     now: { clock.get() })
        }

        /// Forwards until nothing is due; the feed's messages published, decoded.
        func forward() async throws -> [(routingKey: String, event: GatewayTransactionEvent)] {
            while try await forwarder.forwardDue() > 0 {}
            return try publisher.on("bridge.scoring").filter { $0.routingKey.hasPrefix(GatewayTransactionEvent.routingKeyPrefix) }
                .map { ($0.routingKey, try JSONDecoder().decode(GatewayTransactionEvent.self, from: Data($0.body))) }
        }

        func voided() throws -> [TicketVoidedEvent] {
            try publisher.on("bridge.scoring").filter { $0.routingKey == TicketVoidedEvent.routingKey }
                .map { try JSONDecoder().decode(TicketVoidedEvent.self, from: Data($0.body)) }
        }
    }

    typealias Row = (id: String, status: String, type: String, cents: Int64, entry: String, seconds: Int)

    /// Transactions in fixture form at `at` (by default `now`) plus `seconds`.
    static func transactions(location: Int64, at: Date = now, _ rows: [Row]) throws
        -> StoreDayFixture
    {
        let records = rows.map { row in
            let time = at.addingTimeInterval(Double(row.seconds)).formatted(.iso8601)
            return """
                {"id": "\(row.id)", "location_id": \(location), "batch_id": "BAT_FEED", "type": "\(row.type)", "status": "\(row.status)",
                 "amount_cents": \(row.cents), "gratuity_cents": 0, "currency": "USD", "brand": "VISA", "first6": "411111", "last4": "0005",
                 "entry_mode": "\(row.entry)", "auth_code": "A1", "reference": "", "time_created": "\(time)"}
                """
        }
        return try StoreDayFixture.decoder.decode(StoreDayFixture.self, from: Data("{\"transactions\": [\(records.joined(separator: ","))]}".utf8))
    }

    /// The simulator with one generated store day, 2026-11-27, long before `now`.
    static func simulatorWithADay() async throws -> (Harness, StoreDayFixture) {
        let harness = try await Harness.start()
        let day = try StoreDayGenerator.generate(.init(stores: 1, day: "2026-11-27", seed: 11, ticketsPerStore: 10))
        try await day.load(into: harness.simulator.database)
        return (harness, day)
    }

    /// The business clock (the feed's window) may say any hour while the machine's says another (the suite runs at any
    /// hour with a clock of 15:00): what the feed records is due for the forwarder at once, on the machine's clock.
    /// (GatewayFeedFlowTests timed out at 03:40 UTC: the feed's records were scheduled eleven hours ahead.)
    @Test func whatTheFeedRecordsIsForwardedAtOnceWhateverHourTheBusinessClockSays() async throws {
        let (harness, day) = try await Self.simulatorWithADay()
        defer { Task { await harness.stop() } }
        let location = try #require(day.locations.first)
        let ahead = Date().addingTimeInterval(12 * 3_600)
        try await Self.transactions(location: location.id, at: ahead, [("TRN_AHEAD", "DECLINED", "SALE", 51, "MANUAL", -10)])
            .load(into: harness.simulator.database)
        let inboxPath = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).sqlite").path
        let feed = try Feed(harness: harness, inboxPath: inboxPath, now: ahead)
        #expect(try await feed.poller().sweep() == 1)
        #expect(try await feed.forward().map(\.event.transactionId) == ["TRN_AHEAD"])
    }

    @Test func everyStatusIsPublishedOnceWithItsCardDataAndAReversalOnceMore() async throws {
        let (harness, day) = try await Self.simulatorWithADay()
        defer { Task { await harness.stop() } }
        let location = try #require(day.locations.first)
        try await Self.transactions(location: location.id, [
            ("TRN_OLD", "CAPTURED", "SALE", 1_999, "CHIP", -3_600),  // before the feed began (15 minutes back)
            ("TRN_DECL", "DECLINED", "SALE", 51, "MANUAL", -60),
            ("TRN_AUTH", "PREAUTHORIZED", "SALE", 1, "MANUAL", -50),
            ("TRN_CAPT", "CAPTURED", "SALE", 2_500, "CHIP", -40),
            ("TRN_RFND", "CAPTURED", "REFUND", 700, "SWIPE", -35),
            ("TRN_VOID", "REVERSED", "SALE", 900, "CONTACTLESS_CHIP", -30),
        ]).load(into: harness.simulator.database)
        // A ticket of the generated day voided a little before now by its clerk.
        var ticket = try #require(day.tickets.first { $0.status == "complete" })
        ticket.status = "void"
        ticket.salesRep = "Mallory"
        ticket.updatedAt = Self.now.addingTimeInterval(-20)
        var voids = StoreDayFixture()
        voids.tickets = [ticket]
        try await voids.load(into: harness.simulator.database)
        let inboxPath = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).sqlite").path
        let feed = try Feed(harness: harness, inboxPath: inboxPath, now: Self.now)

        #expect(try await feed.poller().sweep() == 7, "five transactions, one reversal, one voided ticket")
        let first = try await feed.forward()
        #expect(first.count == 6)
        let created = Dictionary(uniqueKeysWithValues: first.filter { $0.routingKey == "heartland.gateway.created" }.map { ($0.event.transactionId, $0.event) })
        #expect(Set(created.keys) == ["TRN_DECL", "TRN_AUTH", "TRN_CAPT", "TRN_RFND", "TRN_VOID"])
        #expect(first.filter { $0.routingKey == "heartland.gateway.reversed" }.map(\.event.transactionId) == ["TRN_VOID"])
        let declined = try #require(created["TRN_DECL"])
        #expect(declined.status == "DECLINED")
        #expect(declined.resultCode == "05")
        #expect(declined.type == "SALE")
        #expect(declined.amountCents == 51)
        #expect(declined.brand == "VISA")
        #expect(declined.first6 == "411111")
        #expect(declined.last4 == "0005")
        #expect(declined.entryMode == "MANUAL")
        #expect(declined.terminal == location.deviceId)
        #expect(declined.locationId == location.id)
        #expect(declined.store.id == location.publicId)
        #expect(declined.store.timeZone == location.timeZone)
        #expect(declined.timeCreated.hasPrefix("2026-11-29T14:59:00"))
        #expect(created["TRN_AUTH"]?.status == "PREAUTHORIZED")
        #expect(created["TRN_RFND"]?.type == "REFUND")
        let messages = feed.publisher.on("bridge.scoring")
        #expect(messages.allSatisfy {
            let key = $0.properties.headers[Header.idempotencyKey]?.stringValue ?? ""
            return key.hasPrefix("heartland:gateway:TRN_") || key == "heartland:ticket:\(ticket.id):voided"
        })
        #expect(messages.allSatisfy { $0.mandatory }, "an unroutable feed message fails the publish instead of vanishing")
        #expect(feed.publisher.on("bridge.events").isEmpty, "the feed goes to the scorer, not to the transformer")
        let voided = try feed.voided()
        #expect(voided.count == 1, "the generated day's own voids came before the feed began")
        #expect(voided.first?.ticketId == ticket.id)
        #expect(voided.first?.clerk == "Mallory")
        #expect(voided.first?.station == String(ticket.stationId))
        #expect(voided.first?.store.id == location.publicId)
        #expect(voided.first?.voidedAt.hasPrefix("2026-11-29T14:59:40") == true)

        // Polled again, and by a restarted process on the same inbox: nothing new, nothing published again.
        #expect(try await feed.poller().sweep() == 0)
        let restarted = try Feed(harness: harness, inboxPath: inboxPath, now: Self.now.addingTimeInterval(5))
        #expect(try await restarted.poller().sweep() == 0)
        #expect(try await restarted.forward().isEmpty)

        // The captured sale is voided at the gateway, and a new decline comes: one message each.
        feed.clock.set(Self.now.addingTimeInterval(30))
        try await Self.transactions(location: location.id, [
            ("TRN_CAPT", "REVERSED", "SALE", 2_500, "CHIP", -40),
            ("TRN_NEW", "DECLINED", "SALE", 3, "MANUAL", 20),
        ]).load(into: harness.simulator.database)
        #expect(try await feed.poller().sweep() == 2)
        let second = try await feed.forward().dropFirst(first.count)
        #expect(second.map(\.routingKey).sorted() == ["heartland.gateway.created", "heartland.gateway.reversed"])
        #expect(Set(second.map(\.event.transactionId)) == ["TRN_CAPT", "TRN_NEW"])
        #expect(second.first { $0.routingKey == "heartland.gateway.reversed" }?.event.status == "REVERSED")
        let state = try await feed.inbox.pollState("gateway.cursor")
        #expect(state?.hasPrefix("2026-11-29T15:00:20") == true, "the cursor is the newest transaction seen: \(state ?? "none")")
    }

    /// The feed's records of one read go out in one publish, one confirm wait (one each took 4 s for 447 records, and
    /// refunds waited behind them), and a record the broker refuses holds back no other: the lot is then published one by
    /// one, the refused record stays due and goes out once the broker takes it.
    @Test func theFeedsRecordsGoOutTogetherAndOneTheBrokerRefusesHoldsBackNoOther() async throws {
        let (harness, day) = try await Self.simulatorWithADay()
        defer { Task { await harness.stop() } }
        let location = try #require(day.locations.first)
        try await Self.transactions(location: location.id, (0..<6).map { ("TRN_T\($0)", "DECLINED", "SALE", 100 + Int64($0), "MANUAL", -60 + $0) })
            .load(into: harness.simulator.database)
        let inboxPath = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).sqlite").path
        let feed = try Feed(harness: harness, inboxPath: inboxPath, now: Self.now)
        #expect(try await feed.poller().sweep() == 6)
        feed.publisher.refusing.withLock { $0 = "TRN_T3" }

        #expect(try await feed.forwarder.forwardDue() == 5)
        // Each record is its event and its trace hop: the six together (refused), then one by one.
        #expect(feed.publisher.publishes.withLock { $0 } == [12, 2, 2, 2, 2, 2, 2])
        let published = try feed.publisher.on("bridge.scoring").map { try JSONDecoder().decode(GatewayTransactionEvent.self, from: Data($0.body)) }
        #expect(Set(published.map(\.transactionId)) == ["TRN_T0", "TRN_T1", "TRN_T2", "TRN_T4", "TRN_T5"])
        let due = try await feed.inbox.due(now: Date(), kinds: .only([GatewayFeedPoller.kind]), limit: 10)
        #expect(due.map(\.sourceID) == ["TRN_T3"])

        feed.publisher.refusing.withLock { $0 = nil }
        feed.publisher.publishes.withLock { $0 = [] }
        // Six more come in one listing: one publish.
        feed.clock.set(Self.now.addingTimeInterval(30))
        try await Self.transactions(location: location.id, (6..<12).map { ("TRN_T\($0)", "DECLINED", "SALE", 100 + Int64($0), "MANUAL", $0) })
            .load(into: harness.simulator.database)
        #expect(try await feed.poller().sweep() == 6)
        #expect(try await feed.forwarder.forwardDue() == 7)
        #expect(feed.publisher.publishes.withLock { $0 } == [14])
        #expect(try await feed.inbox.due(now: Date(), kinds: .only([GatewayFeedPoller.kind]), limit: 10).isEmpty)
    }

    @Test func theFeedCanBeReadPageByPageNewestFirst() async throws {
        let (harness, day) = try await Self.simulatorWithADay()
        defer { Task { await harness.stop() } }
        let location = try #require(day.locations.first)
        try await Self.transactions(location: location.id, (0..<7).map { n -> Row in ("TRN_\(n)", "DECLINED", "SALE", Int64(1 + n), "MANUAL", n * 10 - 100) })
            .load(into: harness.simulator.database)
        let listed = try await harness.client().listedTransactions(TransactionQuery(fromDay: "2026-11-29", newestFirst: true, pageSize: 2)).collect()
        #expect(listed.compactMap(\.transaction?.id) == (0..<7).reversed().map { "TRN_\($0)" })
    }
}
