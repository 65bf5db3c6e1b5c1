import Accounting
import BridgeClock
import Foundation
import Logging
import Messaging
import Metrics
import PipelineContracts

/// The gateway feed (`heartland.gateway.*`, `GatewayTransactionEvent`) as the scorer's events: every GP-API
/// transaction seconds after it happened, declined, pre-authorised and reversed ones included, which no settlement
/// batch carries. Each is scored alone, so its windows see the past only: card testing is flagged from the probe
/// that makes the burst visible, while the burst goes on, not at batch close.
public enum GatewayFeed {
    /// A burst of tiny authorisations, some declined, on one terminal within ±10 minutes: card testing. The pipeline's
    /// default rules review an event from here on (`RuleSet.pipelineDefault`), and the alert is then `card_testing`.
    public static let cardTestingSmallAuths = 4
    public static let cardTestingDeclines = 2

    /// The scorer's event for a feed message; nil for a refund, which the refund path judges with Heartland's facts
    /// (original sale, earlier returns) under the same transaction id.
    ///
    /// - `created`, `DECLINED` or `REJECTED`: a decline;
    /// - `created`, any other status of a sale (`PREAUTHORIZED`, `CAPTURED`, `BATCHED`, even `REVERSED`): a sale, i.e. an
    ///   authorisation; its id is the transaction id, which the settled sale carries too, so the batch does not count
    ///   it again (`FeatureStore.observe`);
    /// - `reversed`: a void at the gateway, `<id>:reversal`, with no clerk (GP-API names none).
    ///
    /// An event whose time cannot be read is a permanent error: scored as "now", it would count in the wrong windows.
    public static func event(_ feed: GatewayTransactionEvent) throws(StageError) -> ScoredEvent? {
        let kind: ScoredEvent.Kind
        var id = feed.transactionId
        switch feed.sighting {
        case .reversed:
            kind = .void
            id += ":reversal"
        case .created:
            if feed.type.uppercased() == "REFUND" { return nil }
            kind = ["DECLINED", "REJECTED"].contains(feed.status.uppercased()) ? .decline : .sale
        }
        let card = feed.brand.flatMap { $0.isEmpty ? nil : CardToken(brand: $0, first6: feed.first6, last4: feed.last4) }
        let occurred = try occurredAt(feed.timeCreated, field: "time_created", of: "gateway transaction \(feed.transactionId)")
        return ScoredEvent(
            id: id, kind: kind, store: StoreID(feed.store.id), terminal: feed.terminal.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown", clerk: nil,
            tender: .card, cardToken: card, entryMode: ScoredEvent.EntryMode(heartland: feed.entryMode), amountCents: feed.amountCents,
            occurredAt: occurred, timeZone: feed.store.timeZone)
    }

    /// A voided ticket as the scorer's event: a void by the ticket's clerk at its station, `ticket:<id>:void`.
    public static func event(_ voided: TicketVoidedEvent) throws(StageError) -> ScoredEvent {
        let occurred = try occurredAt(voided.voidedAt, field: "voided_at", of: "voided ticket \(voided.ticketId)")
        return ScoredEvent(
            id: "ticket:\(voided.ticketId):void", kind: .void, store: StoreID(voided.store.id), terminal: voided.station ?? "unknown",
            clerk: voided.clerk.flatMap { $0.isEmpty ? nil : $0 }, tender: ScoredEvent.Tender(rawValue: voided.tender) ?? .cash, cardToken: nil,
            entryMode: .none, amountCents: voided.totalCents, occurredAt: occurred, timeZone: voided.store.timeZone)
    }

    /// When a scored event happened, from its RFC 3339 text; text that is no instant is a permanent error naming the
    /// record and the field (the event is dead-lettered, not scored as happening now).
    static func occurredAt(_ text: String, field: String, of record: String) throws(StageError) -> Date {
        guard let instant = Timestamps.instant(text) else {
            throw .permanent("\(record): \(field) \"\(text)\" is not an RFC 3339 time, so the event cannot be placed in its "
                                 + "store's windows; fix the event at its source, then run `bridgectl dlq replay fraud-scorer`")
        }
        return instant
    }

    /// How an exception's first reason starts when the event was part of a card-testing burst.
    public static let cardTestingPrefix = "card testing: "

    /// The burst in words, from the event's features: `card testing: 4 tiny authorisations, 3 declined, on terminal DEV0001 within 10 minutes`.
    public static func cardTestingReason(_ features: FeatureVector, terminal: String) -> String {
        cardTestingPrefix + "\(Int(features[.terminalSmallAuths10m])) tiny authorisations, \(Int(features[.terminalDeclines10m])) declined, "
            + "on terminal \(terminal) within 10 minutes"
    }

    /// True when the features show a card-testing burst on the event's terminal.
    public static func isCardTesting(_ features: FeatureVector) -> Bool {
        features[.smallAuth] > 0 && features[.terminalSmallAuths10m] >= Double(cardTestingSmallAuths)
            && features[.terminalDeclines10m] >= Double(cardTestingDeclines)
    }

    /// The transaction in words: `decline TRN_1 $0.51 on VISA:411111******0005, keyed (store S01, terminal DEV0001, 14:02 local, status DECLINED)`.
    public static func summary(_ feed: GatewayTransactionEvent, _ event: ScoredEvent) -> String {
        let card = event.cardToken.map { " on \($0)" } ?? ""
        return "\(event.kind.rawValue) \(feed.transactionId) $\(Money.decimalString(feed.amountCents))\(card), \(event.entryMode.rawValue) "
            + "(store \(feed.store.id), terminal \(event.terminal), \(localTime(event)), status \(feed.status))"
    }

    /// The void in words: `void of ticket S01-20261120-7 $12.00 cash by clerk Ava (store S01, station 101, 14:02 local)`.
    public static func summary(_ voided: TicketVoidedEvent, _ event: ScoredEvent) -> String {
        "void of ticket \(voided.publicId) $\(Money.decimalString(voided.totalCents)) \(voided.tender) by clerk \(voided.clerk ?? "?") "
            + "(store \(voided.store.id), station \(event.terminal), \(localTime(event)))"
    }

    static func localTime(_ event: ScoredEvent) -> String { localTime(event.occurredAt, in: event.zone) }

    /// An instant as the store's wall clock: `14:02 local`.
    static func localTime(_ at: Date, in zone: TimeZone) -> String {
        let minute = WallClock(of: at, in: zone).minuteOfDay
        return String(format: "%02d:%02d local", minute / 60, minute % 60)
    }
}

extension FraudScoringHandler {
    /// One transaction of the gateway feed: recorded in the feature store (once, whatever the redeliveries) and scored.
    /// Nothing is held (the authorisation has happened); what the rules send to review or block becomes a fraud exception
    /// for an analyst (`bridgectl review list`), with an audit record and an alert: `card_testing` (error) when the
    /// terminal shows a burst of tiny, declined authorisations, else `fraud_exception`.
    func gatewayTransaction(_ feed: GatewayTransactionEvent, key: String, logger: Logger) async throws -> StageOutcome {
        guard let event = try GatewayFeed.event(feed) else { return .done }
        return try await scoreFromFeed(event, summary: GatewayFeed.summary(feed, event), reference: "gateway \(feed.store.id)/\(event.terminal)",
                                       key: key, logger: logger)
    }

    /// A voided ticket: recorded and scored like a transaction of the feed (void abuse: the clerk's voids of the day).
    func voidedTicket(_ voided: TicketVoidedEvent, key: String, logger: Logger) async throws -> StageOutcome {
        let event = try GatewayFeed.event(voided)
        return try await scoreFromFeed(event, summary: GatewayFeed.summary(voided, event), reference: "ticket \(voided.publicId)", key: key, logger: logger)
    }

    /// Scores a feed event once. A redelivery (the event already recorded) is a duplicate: judged again with hindsight, the
    /// first probes of a burst would look like the burst, so the first decision stands; if it raised an exception, its
    /// alert and audit records go out again (same message ids: the alerter keeps them once), in case the first attempt
    /// ended before they were confirmed.
    ///
    /// A flagged event that is part of a run (`FeedRun`: a clerk's voids of the last two hours, a card-testing burst) raises
    /// the run's earlier, unflagged events too, in the same transaction as its own exception: the
    /// first events of a run pass when they are scored, because nothing is unusual yet.
    ///
    /// One store's feed events are scored one at a time (`feedGates`; the scorer handles up to `--concurrency` messages at
    /// once): a run's flag and its members then always see each other, whichever is scored first.
    private func scoreFromFeed(_ event: ScoredEvent, summary: String, reference: String, key: String, logger: Logger) async throws -> StageOutcome {
        try await feedGates.withLock(event.store.rawValue) {
            try await scoreFromFeedAlone(event, summary: summary, reference: reference, key: key, logger: logger)
        }
    }

    private func scoreFromFeedAlone(_ event: ScoredEvent, summary: String, reference: String, key: String, logger: Logger) async throws -> StageOutcome {
        let exceptionKey = Self.feedExceptionKey(event.id)
        let seen = try await scorer.store.isRecorded(event.id)
        if seen {
            let why = "\(event.kind.rawValue) \(event.id) of the gateway feed was scored before"
            guard let exception = try await reviews.exception(key: exceptionKey) else { return .duplicate(why) }
            if exception.decidedBy?.hasPrefix(FeedRun.decidedByPrefix) == true {
                // Raised as part of a later event's run: its audit record only (the alert was that event's).
                return .duplicate(why, also: [try runAudit(exception)])
            }
            let run = try await reviews.exceptions(decidedBy: FeedRun.decidedBy(event.id))
            return .duplicate(why, also: try notices(exception, run: run, event: event, key: key))
        }
        let assessment = try await scorer.assess([event])[0]
        let decision = assessment.decision
        Counter(label: "bridge_fraud_feed_decisions_total", dimensions: [("kind", event.kind.rawValue), ("action", decision.action.rawValue)]).increment()
        guard decision.action != .allow else { return try await joinFlaggedRun(event, summary: summary, logger: logger) }
        let cardTesting = GatewayFeed.isCardTesting(assessment.features)
        let reasons = (cardTesting ? [GatewayFeed.cardTestingReason(assessment.features, terminal: event.terminal)] : []) + decision.reasons
        let raised = FraudException.Raised(
            key: exceptionKey, reference: reference, transactionId: event.id, store: event.store.rawValue, amountCents: event.amountCents,
            summary: summary, riskScore: decision.riskScore, decidedBy: decision.decidedBy, reasons: reasons,
            features: decision.ruleFeatures(assessment.features))
        let earlier = try await runExceptions(of: event, cardTesting: cardTesting, flagged: raised)
        let recorded = try await reviews.recordExceptions([raised] + earlier)
        let (exception, run) = (recorded[0], Array(recorded.dropFirst()).filter { $0.decidedBy == FeedRun.decidedBy(event.id) })
        logger.warning(cardTesting ? "card testing on a terminal" : "gateway feed event flagged", metadata: [
            "event": .string(event.id), "exception": .string(exception.label), "terminal": .string(event.terminal),
            "earlier_in_run": .stringConvertible(run.count),
        ])
        return .publish(try notices(exception, run: run, event: event, key: key))
    }

    static func feedExceptionKey(_ eventId: String) -> String { "gateway:\(eventId)" }

    /// Exceptions for the earlier events of the flagged event's run that no exception names yet.
    private func runExceptions(of event: ScoredEvent, cardTesting: Bool, flagged: FraudException.Raised) async throws -> [FraudException.Raised] {
        guard let run = FeedRun.of(event, cardTesting: cardTesting) else { return [] }
        let flag = FeedRun.Flag(event)
        let earlier = try await run.earlierEvents(than: flag, in: scorer.store.history)
        return try await unraised(earlier, of: run, flag: flag, flagged: (flagged.reference, flagged.riskScore, flagged.reasons, flagged.features),
                                  zone: event.zone) { FeedRun.summary($0, in: event.zone) }
    }

    /// Exceptions for a run's members that no exception names yet, each saying which flag revealed it and carrying the
    /// flag's reference, risk score, reasons and features.
    private func unraised(_ members: [EventHistory.Event], of run: FeedRun, flag: FeedRun.Flag,
                          flagged: (reference: String, riskScore: Int, reasons: [String], features: [String: Double]), zone: TimeZone,
                          summary: (EventHistory.Event) -> String) async throws -> [FraudException.Raised] {
        let known = try await reviews.exceptions(keys: members.map { Self.feedExceptionKey($0.id) })
        return members.filter { known[Self.feedExceptionKey($0.id)] == nil }.map { member in
            FraudException.Raised(
                key: Self.feedExceptionKey(member.id), reference: flagged.reference, transactionId: member.id, store: member.store,
                amountCents: member.amountCents, summary: summary(member), riskScore: flagged.riskScore, decidedBy: FeedRun.decidedBy(flag.id),
                reasons: [run.reason(for: member, count: members.count + 1, flagged: flag, zone: zone)] + flagged.reasons,
                features: flagged.features)
        }
    }

    /// An event that passes alone but belongs to the run of an event flagged before it was scored (the scorer handles
    /// several messages at once, so a run's first event can come after the one that flagged the run, and the flag then had
    /// too few earlier events to call them a run): the run is told again with it, and its events that no exception names
    /// yet are raised as they would have been had they been scored in order, each with its audit record (the alert was
    /// the flag's).
    private func joinFlaggedRun(_ event: ScoredEvent, summary: String, logger: Logger) async throws -> StageOutcome {
        guard FeedRun.mayJoin(event) else { return .done }
        let history = scorer.store.history
        guard let recorded = try await history.event(id: event.id) else { return .done }
        let later = try await FeedRun.laterEvents(than: recorded, in: history)
        let exceptions = try await reviews.exceptions(keys: later.map { Self.feedExceptionKey($0.id) })
        for candidate in later {
            guard let flagged = exceptions[Self.feedExceptionKey(candidate.id)], flagged.decidedBy?.hasPrefix(FeedRun.decidedByPrefix) != true
            else { continue }
            let flag = FeedRun.Flag(candidate)
            let cardTesting = flagged.reasons.first?.hasPrefix(GatewayFeed.cardTestingPrefix) == true
            guard let run = FeedRun.of(flag, cardTesting: cardTesting) else { continue }
            let earlier = try await run.earlierEvents(than: flag, in: history)
            guard earlier.contains(where: { $0.id == event.id }) else { continue }
            let raised = try await unraised(earlier, of: run, flag: flag,
                                            flagged: (flagged.reference, flagged.riskScore, flagged.reasons, flagged.features), zone: event.zone) {
                $0.id == event.id ? summary : FeedRun.summary($0, in: event.zone)
            }
            let recordedExceptions = try await reviews.recordExceptions(raised)
            logger.warning("gateway feed event joins a run flagged before it was scored", metadata: [
                "event": .string(event.id), "flagged": .string(flag.id), "raised": .stringConvertible(recordedExceptions.count),
            ])
            return .publish(try recordedExceptions.map(runAudit))
        }
        return .done
    }

    /// The alert (`card_testing`, error, or `fraud_exception`, warning) and the audit record of a feed exception, from the
    /// exception as recorded, so that a redelivery sends the same. A burst's alerts share one text but the transaction id
    /// (one alert group per terminal, counting the probes); the counts and the card are in the exception and the audit record.
    /// The run's earlier events raised with it get an audit record each; the alert stays one per flagged event, with the
    /// same text for every event of a burst (one alert group), so they are not alerted again.
    private func notices(_ exception: FraudException, run: [FraudException], event: ScoredEvent, key: String) throws -> [OutboundMessage] {
        let why = "risk \(exception.riskScore)/100; " + (exception.reasons.isEmpty ? ["no reason given"] : exception.reasons).joined(separator: "; ")
        let line = "\(exception.label): \(exception.summary), \(why)"
        let cardTesting = exception.reasons.first?.hasPrefix(GatewayFeed.cardTestingPrefix) == true
        let kind: AlertKind = cardTesting ? .cardTesting : .fraudException
        let reason = cardTesting
            ? "card testing on terminal \(event.terminal) of store \(event.store): a burst of tiny authorisations, some declined; "
                + "latest \(event.id) (bridgectl review list)"
            : "gateway feed \(event.kind.rawValue) for an analyst (bridgectl review list): \(line)"
        let alert = AlertNotice(kind: kind, severity: cardTesting ? "error" : "warning", stage: "fraud-scorer", reason: reason, idempotencyKey: key)
        let audit = AuditNotice(event: .fraudException, stage: "fraud-scorer", detail: "gateway feed exception \(line)", idempotencyKey: exception.key)
        return [
            try OutboundMessage(exchange: alertExchange, routingKey: kind.routingKey("fraud-scorer"), json: alert),
            try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.fraudException.routingKey("fraud-scorer"), json: audit, idempotencyKey: exception.key),
        ] + (try run.map(runAudit))
    }

    /// The audit record of an earlier event raised with a flagged event's run.
    private func runAudit(_ earlier: FraudException) throws -> OutboundMessage {
        let audit = AuditNotice(event: .fraudException, stage: "fraud-scorer",
                                detail: "gateway feed exception \(earlier.label): \(earlier.summary), \(earlier.reasons.first ?? "")",
                                idempotencyKey: earlier.key)
        return try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.fraudException.routingKey("fraud-scorer"), json: audit, idempotencyKey: earlier.key)
    }
}
