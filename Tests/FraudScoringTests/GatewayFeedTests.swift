import AMQP
import Accounting
import Foundation
@testable import FraudScoring
import Logging
import Messaging
import PipelineContracts
import Testing

/// The gateway feed in the scorer: each GP-API status becomes its event, a card-testing burst raises a
/// `card_testing` alert from the probe that makes it visible, a redelivered transaction counts once, and a settled
/// sale the feed saw first is not counted again at batch close.
@Suite struct GatewayFeedTests {
    let logger = Logger(label: "test")
    static let store = BatchClosedEvent.Store(id: "S01", timeZone: "America/New_York", currency: "USD")

    static func feed(_ id: String, status: String = "DECLINED", type: String = "SALE", cents: Int64 = 51, second: Int = 0,
                     sighting: GatewayTransactionEvent.Sighting = .created, entry: String = "MANUAL", first6: String = "411111",
                     last4: String = "0005", terminal: String = "DEV0001") -> GatewayTransactionEvent {
        let time = Date(timeIntervalSince1970: 1_795_186_800 + Double(second))  // 2026-11-20T15:00:00Z
        return GatewayTransactionEvent(
            sighting: sighting, transactionId: id, type: type, status: status, amountCents: cents, currency: "USD", brand: "VISA",
            first6: first6, last4: last4, entryMode: entry, terminal: terminal, locationId: 1, store: store,
            timeCreated: time.formatted(.iso8601), resultCode: status == "DECLINED" ? "05" : "00", parentResourceId: nil,
            seenAt: time.addingTimeInterval(3).formatted(.iso8601))
    }

    func message(_ feed: GatewayTransactionEvent) throws -> InboundMessage {
        InboundMessage(Delivery(routingKey: feed.routingKey, properties: MessageProperties(
            messageID: "m-\(feed.idempotencyKey)", type: feed.routingKey, headers: [Header.idempotencyKey: .string(feed.idempotencyKey)]),
            body: Array(try JSONEncoder().encode(feed))))
    }

    func stage() throws -> SettlementSalesTests.Stage {
        let reviews = try ReviewStore(path: nil), features = try FeatureStore(path: nil)
        let scorer = FraudScorer(store: features, model: .unscored, ruleSet: .pipelineDefault(reviewThreshold: FraudModel.unscored.reviewThreshold))
        return .init(handler: try FraudScoringHandler(history: try BatchHistory(path: nil), reviews: reviews, scorer: scorer),
                     reviews: reviews, features: features)
    }

    func published(_ outcome: StageOutcome) -> [OutboundMessage] {
        if case .publish(let outputs) = outcome { return outputs }
        return []
    }

    @Test func eachGatewayStatusBecomesItsEvent() throws {
        let declined = try #require(try GatewayFeed.event(Self.feed("TRN_D", status: "DECLINED")))
        #expect(declined.kind == .decline)
        #expect(declined.id == "TRN_D")
        #expect(declined.cardToken == CardToken("VISA:411111******0005"))
        #expect(declined.entryMode == .keyed)
        #expect(declined.terminal == "DEV0001")
        #expect(declined.store == StoreID("S01"))
        #expect(declined.timeZone == "America/New_York")
        #expect(declined.clerk == nil)
        #expect(declined.amountCents == 51)
        #expect(declined.occurredAt == Date(timeIntervalSince1970: 1_795_186_800))
        #expect(try GatewayFeed.event(Self.feed("TRN_R", status: "REJECTED"))?.kind == .decline)
        for status in ["PREAUTHORIZED", "CAPTURED", "BATCHED", "REVERSED"] {
            let sale = try #require(try GatewayFeed.event(Self.feed("TRN_S", status: status, entry: "CHIP")))
            #expect(sale.kind == .sale, "\(status) is an authorisation that happened")
            #expect(sale.id == "TRN_S", "the id a settled sale carries too")
            #expect(sale.entryMode == .chip)
        }
        let void = try #require(try GatewayFeed.event(Self.feed("TRN_S", status: "REVERSED", sighting: .reversed)))
        #expect(void.kind == .void)
        #expect(void.id == "TRN_S:reversal", "a reversal is an event of its own, beside the sale it voids")
        #expect(try GatewayFeed.event(Self.feed("TRN_F", status: "CAPTURED", type: "REFUND")) == nil, "refunds are the refund path's")
        var noBrand = Self.feed("TRN_N")
        noBrand.brand = nil
        #expect(try GatewayFeed.event(noBrand)?.cardToken == nil)
        #expect(Self.feed("TRN_S", sighting: .reversed).idempotencyKey == "heartland:gateway:TRN_S:reversed")
        #expect(Self.feed("TRN_S").routingKey == "heartland.gateway.created")
    }

    @Test func aVoidedTicketIsAVoidByItsClerkAtItsStation() throws {
        let voided = TicketVoidedEvent(ticketId: 7, publicId: "S01-20261120-7", store: Self.store, station: "101", clerk: "Ava", totalCents: 1_200,
                                       tender: "cash", voidedAt: "2026-11-20T15:00:00Z", seenAt: "2026-11-20T15:00:03Z")
        let event = try GatewayFeed.event(voided)
        #expect(event.id == "ticket:7:void")
        #expect(event.kind == .void)
        #expect(event.clerk == "Ava")
        #expect(event.terminal == "101")
        #expect(event.tender == .cash)
        #expect(event.cardToken == nil)
        #expect(event.amountCents == 1_200)
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_795_186_800))
        #expect(GatewayFeed.summary(voided, event) == "void of ticket S01-20261120-7 $12.00 cash by clerk Ava (store S01, station 101, 10:00 local)")
    }

    @Test func aFeedEventWhoseTimeCannotBeReadIsAPermanentErrorNotScoredAsNow() async throws {
        let stage = try stage()
        var unreadable = Self.feed("TRN_BADTIME", status: "CAPTURED")
        unreadable.timeCreated = "20/11/2026 15:00"
        let error = await #expect(throws: StageError.self) { try await stage.handler.handle(try message(unreadable), logger: logger) }
        #expect(error?.errorClass == .permanent, "dead-lettered at once: a retry reads the same text")
        #expect(error?.description.contains("gateway transaction TRN_BADTIME: time_created \"20/11/2026 15:00\" is not an RFC 3339 time") == true)
        #expect(try await stage.features.eventCount() == 0, "nothing recorded in the store's windows")

        let voided = TicketVoidedEvent(ticketId: 8, publicId: "S01-20261120-8", store: Self.store, station: "101", clerk: "Ava", totalCents: 1_200,
                                       tender: "cash", voidedAt: "", seenAt: "2026-11-20T15:00:03Z")
        #expect(throws: StageError.self) { try GatewayFeed.event(voided) }
    }

    @Test func aCardTestingBurstIsAlertedWhileItHappensAndARedeliveryCountsOnce() async throws {
        let stage = try stage()
        // An ordinary sale first: nothing to say.
        let ordinary = published(try await stage.handler.handle(try message(Self.feed("TRN_OK", status: "CAPTURED", cents: 4_250, entry: "CHIP",
                                                                                      last4: "4242")), logger: logger))
        #expect(ordinary.isEmpty)
        // Eight probes 20 s apart: tiny, keyed, mostly declined, other cards of one BIN.
        let statuses = ["DECLINED", "DECLINED", "PREAUTHORIZED", "DECLINED", "DECLINED", "PREAUTHORIZED", "DECLINED", "DECLINED"]
        let probes = statuses.enumerated().map { n, status in
            Self.feed("TRN_P\(n)", status: status, cents: Int64(1 + n * 17), second: 60 + n * 20, last4: String(format: "%04d", 10 + n))
        }
        var firstAlert: Int?
        var alerts: [AlertNotice] = []
        for (n, probe) in probes.enumerated() {
            let outputs = published(try await stage.handler.handle(try message(probe), logger: logger))
            let alert = try outputs.first { $0.exchange == "bridge.alerts" }.map { try JSONDecoder().decode(AlertNotice.self, from: Data($0.body)) }
            if let alert {
                alerts.append(alert)
                firstAlert = firstAlert ?? n
                #expect(outputs.contains { $0.exchange == "bridge.audit" && $0.routingKey == "audit.fraud_exception.fraud-scorer" })
            }
        }
        // The fourth probe makes four tiny authorisations, three declined, within 10 minutes.
        #expect(firstAlert == GatewayFeed.cardTestingSmallAuths - 1)
        #expect(alerts.count == probes.count - firstAlert!, "every probe from then on")
        let alert = try #require(alerts.first)
        #expect(alert.kind == "card_testing")
        #expect(alert.severity == "error")
        #expect(alert.reason == "card testing on terminal DEV0001 of store S01: a burst of tiny authorisations, some declined; latest TRN_P3 "
            + "(bridgectl review list)")
        #expect(Set(alerts.map { $0.reason.replacingOccurrences(of: "TRN_P[0-9]", with: "", options: .regularExpression) }).count == 1,
                "one text for the burst but the transaction: one alert group")
        let all = try await stage.reviews.exceptions(status: .open)
        // The probes before the one that made the burst visible are raised with it, each saying which flag revealed it.
        let run = all.filter { $0.decidedBy == "run of TRN_P3" }
        #expect(run.map(\.transactionId) == ["TRN_P0", "TRN_P1", "TRN_P2"])
        #expect(run.first?.reasons.first == "part of a run: card testing: 4 tiny or declined authorisations on terminal DEV0001 within 10 minutes "
            + "(this one at 10:01 local); flagged when TRN_P3 was scored")
        #expect(run.first?.summary == "decline TRN_P0 $0.01 card on VISA:411111******0010, keyed (store S01, terminal DEV0001, 10:01 local)")
        let exceptions = all.filter { $0.decidedBy != "run of TRN_P3" }
        #expect(exceptions.count == alerts.count)
        let first = try #require(exceptions.first)
        #expect(first.transactionId == "TRN_P3")
        #expect(first.reference == "gateway S01/DEV0001")
        #expect(first.reasons.first == "card testing: 4 tiny authorisations, 3 declined, on terminal DEV0001 within 10 minutes")
        #expect(first.summary.contains("decline TRN_P3 $0.52 on VISA:411111******0013, keyed"), "\(first.summary)")
        #expect(first.features == ["small_auth": 1, "terminal_small_auths_10m": 4, "terminal_declines_10m": 3],
                "the values the card-testing rule looked at are kept")

        // Every message delivered again: nothing counted twice, no second exception.
        let recorded = try await stage.features.eventCount()
        #expect(recorded == probes.count + 1)
        for (n, probe) in probes.enumerated() {
            let outcome = try await stage.handler.handle(try message(probe), logger: logger)
            guard case .duplicate(_, let also) = outcome else {
                Issue.record("a redelivered probe is a duplicate: \(outcome)")
                continue
            }
            // A flagged probe's alert goes out again with it, the same (the first attempt may have ended before it was confirmed).
            let again = try also.first { $0.exchange == "bridge.alerts" }.map { try JSONDecoder().decode(AlertNotice.self, from: Data($0.body)) }
            #expect(again?.reason == (n >= firstAlert! ? alerts[n - firstAlert!].reason : nil), "probe \(n)")
            let audits = also.filter { $0.exchange == "bridge.audit" }.count
            #expect(audits == (n < firstAlert! ? 1 : n == firstAlert! ? 4 : 1),
                    "probe \(n): its audit record again; the flagged one's with those of the run it raised")
        }
        let again = try await stage.features.eventCount()
        #expect(again == recorded)
        let exceptionsAgain = try await stage.reviews.exceptions()
        #expect(exceptionsAgain.count == all.count)
        // The next probe sees nine tiny authorisations in its window, not seventeen.
        let next = try await stage.handler.scorer.assess([try #require(try GatewayFeed.event(Self.feed("TRN_P8", second: 60 + 8 * 20, last4: "0018")))])[0]
        #expect(next.features[.terminalSmallAuths10m] == 9)
        #expect(next.features[.terminalDeclines10m] == 7)
    }

    /// The scorer handles several messages at once, so a burst's probes are not always scored in the order they happened:
    /// a probe scored after the burst was flagged sees the burst around it (its windows reach ten minutes both ways) and
    /// is flagged itself.
    @Test func aProbeScoredAfterTheProbeThatFlaggedItsBurstIsFlaggedToo() async throws {
        let stage = try stage()
        let statuses = ["DECLINED", "DECLINED", "PREAUTHORIZED", "DECLINED", "DECLINED", "PREAUTHORIZED", "DECLINED", "DECLINED"]
        let probes = statuses.enumerated().map { n, status in
            Self.feed("TRN_P\(n)", status: status, cents: Int64(1 + n * 17), second: 60 + n * 20, last4: String(format: "%04d", 10 + n))
        }
        // P3 to P7 first (P6 is the first to see four tiny authorisations, three declined), then P0 to P2.
        for n in [3, 4, 5, 6, 7, 0, 1, 2] {
            _ = try await stage.handler.handle(try message(probes[n]), logger: logger)
        }
        let all = try await stage.reviews.exceptions()
        #expect(all.map(\.transactionId).sorted() == probes.map(\.transactionId), "every probe, once")
        #expect(all.filter { $0.decidedBy == "run of TRN_P6" }.map(\.transactionId) == ["TRN_P3", "TRN_P4", "TRN_P5"])
        let late = all.filter { ["TRN_P0", "TRN_P1", "TRN_P2"].contains($0.transactionId) }
        #expect(late.allSatisfy { $0.reasons.first?.hasPrefix("card testing: ") == true }, "\(late.map(\.reasons))")
    }

    /// A clerk's run told after its flag: a big void flagged by the amount rule first, with no run yet, then two earlier
    /// voids of the clerk, which pass alone: the second makes the run (two voids before the flagged one), and both are
    /// raised with it, as they would have been had they been scored in order.
    @Test func aVoidRunScoredAfterItsFlagIsRaisedWhenItBecomesARun() async throws {
        let reviews = try ReviewStore(path: nil), features = try FeatureStore(path: nil)
        let rules = try RuleParser.parse("review if :is_void: and :amount: >= 50000", file: "test rules")
        let handler = try FraudScoringHandler(history: try BatchHistory(path: nil), reviews: reviews,
                                              scorer: FraudScorer(store: features, model: .unscored, ruleSet: rules))
        var audits: [Int] = []
        for (ticket, minute, cents) in [(12, 110, 60_000), (10, 60, 1_200), (11, 85, 1_500)] as [(Int64, Int, Int64)] {
            let outputs = published(try await handler.handle(try Self.void(ticket, clerk: "Ava", minute: minute, cents: cents), logger: logger))
            audits.append(outputs.filter { $0.exchange == "bridge.audit" }.count)
            #expect(!outputs.contains { $0.exchange == "bridge.alerts" } || ticket == 12, "the alert was the flag's")
        }
        #expect(audits == [1, 0, 2], "the flag alone; one earlier void is no run; the second raises both")
        let exceptions = try await reviews.exceptions()
        #expect(exceptions.map(\.transactionId) == ["ticket:12:void", "ticket:10:void", "ticket:11:void"])
        #expect(exceptions.dropFirst().allSatisfy { $0.decidedBy == "run of ticket:12:void" })
        let first = try #require(exceptions.first { $0.transactionId == "ticket:10:void" })
        #expect(first.reasons == ["part of a run: 3 voids by clerk Ava within two hours on 2026-11-20 (this one at 11:00 local); flagged when ticket:12:void was scored",
                                  "rule line 1: review if :is_void: and :amount: >= 50000"])
        #expect(first.summary == "void ticket:10:void $12.00 cash by clerk Ava (store S01, terminal 101, 11:00 local)")
        let second = try #require(exceptions.first { $0.transactionId == "ticket:11:void" })
        #expect(second.summary.hasPrefix("void of ticket S01-20261120-11 $15.00 cash by clerk Ava"), "its own summary: \(second.summary)")
        // Delivered again: each its own audit record.
        guard case .duplicate(_, let again) = try await handler.handle(try Self.void(10, clerk: "Ava", minute: 60), logger: logger) else {
            Issue.record("a redelivered void is a duplicate")
            return
        }
        #expect(again.map(\.exchange) == ["bridge.audit"])
    }

    static func void(_ ticket: Int64, clerk: String, minute: Int, cents: Int64 = 1_200) throws -> InboundMessage {
        let at = Date(timeIntervalSince1970: 1_795_186_800 + Double(minute * 60))
        let voided = TicketVoidedEvent(ticketId: ticket, publicId: "S01-20261120-\(ticket)", store: Self.store, station: "101", clerk: clerk,
                                       totalCents: cents, tender: "cash", voidedAt: at.formatted(.iso8601), seenAt: at.formatted(.iso8601))
        return InboundMessage(Delivery(routingKey: TicketVoidedEvent.routingKey, properties: MessageProperties(
            messageID: "m-\(voided.idempotencyKey)", type: TicketVoidedEvent.routingKey, headers: [Header.idempotencyKey: .string(voided.idempotencyKey)]),
            body: Array(try JSONEncoder().encode(voided))))
    }

    @Test func aClerksVoidRunIsRaisedWholeWhenItsLaterVoidIsFlagged() async throws {
        let reviews = try ReviewStore(path: nil), features = try FeatureStore(path: nil)
        let rules = try RuleParser.parse("""
            review if :is_void: and :clerk_voids_shift: >= 4
            review if :is_void: and :amount: >= 50000
            """, file: "test rules")
        let handler = try FraudScoringHandler(history: try BatchHistory(path: nil), reviews: reviews,
                                              scorer: FraudScorer(store: features, model: .unscored, ruleSet: rules))
        func void(_ ticket: Int64, clerk: String, minute: Int, cents: Int64 = 1_200) throws -> InboundMessage {
            try Self.void(ticket, clerk: clerk, minute: minute, cents: cents)
        }
        // Bob voids one ticket, then a big one the amount rule flags: one earlier void is not a run.
        _ = try await handler.handle(try void(1, clerk: "Bob", minute: 0), logger: logger)
        _ = try await handler.handle(try void(2, clerk: "Bob", minute: 30, cents: 60_000), logger: logger)
        // Ava voids five tickets through the afternoon; the fourth is flagged.
        var audits: [Int] = []
        for n in 0..<5 {
            let outputs = published(try await handler.handle(try void(Int64(10 + n), clerk: "Ava", minute: 60 + n * 25), logger: logger))
            audits.append(outputs.filter { $0.exchange == "bridge.audit" }.count)
        }
        #expect(audits == [0, 0, 0, 4, 1], "the fourth void's exception and the three before it; the fifth alone")
        let exceptions = try await reviews.exceptions()
        #expect(exceptions.map(\.transactionId) == ["ticket:2:void", "ticket:13:void", "ticket:10:void", "ticket:11:void", "ticket:12:void",
                                                    "ticket:14:void"])
        let earliest = try #require(exceptions.first { $0.transactionId == "ticket:10:void" })
        #expect(earliest.decidedBy == "run of ticket:13:void")
        #expect(earliest.reasons == ["part of a run: 4 voids by clerk Ava within two hours on 2026-11-20 (this one at 11:00 local); flagged when ticket:13:void was scored",
                                     "rule line 1: review if :is_void: and :clerk_voids_shift: >= 4"])
        #expect(earliest.summary == "void ticket:10:void $12.00 cash by clerk Ava (store S01, terminal 101, 11:00 local)")
        #expect(earliest.reference == "ticket S01-20261120-13")
    }

    @Test func aSettledSaleTheFeedSawIsCountedOnceUnderTheFeedsTerminalAndCard() async throws {
        let features = try FeatureStore(path: nil)
        // The feed saw the authorisation at 15:01 UTC: terminal DEV0001, card with its first six.
        let authorised = try #require(try GatewayFeed.event(Self.feed("TRN_A", status: "CAPTURED", cents: 2_500, second: 60, entry: "CHIP", last4: "1111")))
        _ = try await features.observe([authorised])
        // At batch close the same sale comes from the tickets: station 101, no first six, the clerk.
        let settled = try SettlementSales.event(SettlementSalesTests.sale("TRN_A", cents: 2_500, minute: 1), store: "S01", timeZone: "America/New_York")
        #expect(settled.terminal == "101")
        let vectors = try await features.observe([settled])
        let count = try await features.eventCount()
        #expect(count == 1, "one sale, one event")
        #expect(vectors[0][.terminalVelocity10m] == 1, "counted under the feed's terminal, once")
        #expect(vectors[0][.cardVelocity1h] == 1, "and under the feed's card token, once")
        #expect(vectors[0][.clerkVelocity1h] == 1, "the clerk only the ticket knows is added to the recorded sale")

        // Through the stage: the feed's sale and a batch carrying it and one more sale: two events recorded.
        let stage = try stage()
        _ = try await stage.handler.handle(try message(Self.feed("TRN_A", status: "CAPTURED", cents: 2_500, second: 60, entry: "CHIP", last4: "1111")),
                                           logger: logger)
        _ = try await stage.handler.handle(try SettlementSalesTests().message([SettlementSalesTests.sale("TRN_A", cents: 2_500, minute: 1),
                                                                               SettlementSalesTests.sale("TRN_B", cents: 4_200, last4: "2222", minute: 7)]),
                                           logger: logger)
        let recorded = try await stage.features.eventCount()
        #expect(recorded == 2)
    }
}
