import AMQP
import BridgeClock
import Foundation
import HeartlandConnector
import Logging
import Messaging
import PipelineContracts
import ServiceLifecycle

/// Turns pending inbox records into events on `bridge.events`: fetch from Heartland, publish with a
/// confirm, then mark published, as soon as the inbox rings (publish-then-record: a crash in between republishes the same
/// message id, which sage-loader's ledger and Sage's reference check absorb). While Heartland fails, a record
/// waits with exponential backoff (or the server's `Retry-After`); after `alertAfterAttempts`
/// failed attempts an alert goes to `bridge.alerts`, then every `alertEvery` attempts more.
public final class InboxForwarder: Service, Sendable {
    public struct Settings: Sendable {
        public var eventsExchange = "bridge.events"
        /// Where the gateway feed goes: straight to the fraud scorer.
        public var scoringExchange = "bridge.scoring"
        public var initialBackoff: Duration = .seconds(1)
        public var maxBackoff: Duration = .seconds(300)
        public var alertAfterAttempts = 3
        public var alertEvery = 20
        /// How often the inbox is checked for due records when nothing rings (`IngestInbox.recorded` wakes the forwarder
        /// as soon as a record is written): the safety net, and when records waiting for a retry are found due.
        public var scanInterval: Duration = .seconds(1)
        public init() {}
    }

    let inbox: IngestInbox
    let source: HeartlandEventSource
    let publisher: any MessagePublisher
    let alerts: IngestAlerts
    let settings: Settings
    let logger: Logger

    public init(inbox: IngestInbox, source: HeartlandEventSource, publisher: any MessagePublisher, alerts: IngestAlerts, settings: Settings = Settings(),
                logger: Logger) {
        self.inbox = inbox
        self.source = source
        self.publisher = publisher
        self.alerts = alerts
        self.settings = settings
        self.logger = logger
    }

    /// The forwarder's lanes: each its own loop over the inbox, so that no kind of record waits behind another. A card
    /// refund (in Sage within a second of its webhook) never queues behind the gateway feed's hundreds of records found
    /// in one listing, nor behind a closed batch whose ticket pages take seconds to fetch.
    public enum Lane: String, CaseIterable, Sendable {
        /// Real-time card refunds: one small fetch from Heartland each.
        case refunds
        /// The gateway feed's transactions and voided tickets: built from the listing (no fetch), hundreds at a time.
        case feed
        /// Closed batches, pay runs and any other kind: a batch's ticket pages can take seconds.
        case documents

        /// The kinds of record the lane forwards, or (nil) every kind the other lanes do not.
        var kinds: [String]? {
            switch self {
            case .refunds: ["refund"]
            case .feed: [GatewayFeedPoller.kind, GatewayFeedPoller.voidKind]
            case .documents: nil
            }
        }

        /// Whether the records of one read go out in one publish (one confirm wait): the feed's records are small and
        /// built from the listing, hundreds at a time (one confirm each took 4 s for 447). A refund goes out alone as soon as
        /// it is fetched; a batch's event can be 98 MB.
        var publishesTogether: Bool { self == .feed }

        var filter: IngestInbox.KindFilter {
            if let kinds { return .only(kinds) }
            return .otherThan(Self.allCases.compactMap(\.kinds).flatMap { $0 })
        }
    }

    /// How many due records a lane reads at a time; a full read is followed by another at once.
    static let dueBatch = 20

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for lane in Lane.allCases {
                    group.addTask { await self.run(lane) }
                }
            }
        }
    }

    private func run(_ lane: Lane) async {
        var untrimmed = 0, trimmed = ContinuousClock.now
        while !Task.isCancelled {
            // Read before looking: a record written while the lane is busy wakes its next wait at once.
            let seen = inbox.recorded.rings
            var more = false
            do {
                let forwarded = try await forwardDue(lane)
                more = forwarded.more
                untrimmed += forwarded.published
            } catch is CancellationError {
                return
            } catch {
                logger.error("inbox forwarding failed; retrying", metadata: ["lane": .string(lane.rawValue), "error": "\(error)"])
            }
            guard !more else { continue }
            // Going idle after work: what building the events freed goes back to the system (a batch's pages and event are
            // 20 MB and more at 10,000 tickets). At most every 10 s for the lanes of small records.
            if untrimmed > 0, lane == .documents || ContinuousClock.now - trimmed > .seconds(10) {
                FreedMemory.release()
                untrimmed = 0
                trimmed = ContinuousClock.now
            }
            await inbox.recorded.wait(after: seen, atMost: settings.scanInterval)
        }
    }

    /// Forwards every record that is due now, lane by lane; returns how many were published. A record that cannot be
    /// published (the broker refused it past the publisher's deadline) stays due for the next scan and does not hold back
    /// the records after it.
    @discardableResult
    public func forwardDue(now: Date = Date()) async throws -> Int {
        var published = 0
        for lane in Lane.allCases {
            while true {
                let (count, more) = try await forwardDue(lane, now: now)
                published += count
                if !more { break }
            }
        }
        return published
    }

    /// Forwards the lane's due records, up to `dueBatch`; `more`: the read was full and went out, more may be due.
    func forwardDue(_ lane: Lane, now: Date = Date()) async throws -> (published: Int, more: Bool) {
        var published = 0, together: [Ready] = []
        let entries = try await inbox.due(now: now, kinds: lane.filter, limit: Self.dueBatch)
        for entry in entries {
            try Task.checkCancellation()
            var prepared: Ready?
            _ = try await staysDueIfFailing(entry.key) { prepared = try await prepare(entry) }
            guard let ready = prepared else { continue }
            if lane.publishesTogether {
                together.append(ready)
            } else if try await staysDueIfFailing(entry.key, { try await publish([ready]) }) {
                published += 1
            }
        }
        if !together.isEmpty { published += try await publishTogether(together) }
        // A full read that published nothing (the broker refusing) is not read again at once: the records wait for the next scan.
        return (published, entries.count == Self.dueBatch && published > 0)
    }

    /// A record fetched from Heartland and made into its messages, to be published.
    struct Ready {
        var entry: IngestInbox.Entry
        var messageID: String
        var messages: [OutgoingMessage]
        var detail: String
        var log: Logger
    }

    /// Publishes the records' messages together, then marks them published. If the broker refuses the lot, one by one, so
    /// that a record it refuses does not hold back the others (it stays due); returns how many went out.
    private func publishTogether(_ records: [Ready]) async throws -> Int {
        do {
            try await publish(records)
            return records.count
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.warning("publishing records together failed; one by one", metadata: ["records": "\(records.count)", "error": "\(error)"])
        }
        var published = 0
        for ready in records {
            if try await staysDueIfFailing(ready.entry.key, { try await publish([ready]) }) { published += 1 }
        }
        return published
    }

    /// Runs `step` for the record; a failure (not a cancellation) is logged and the record stays in the inbox, due again.
    /// True when the step ran through.
    private func staysDueIfFailing(_ key: String, _ step: () async throws -> Void) async throws -> Bool {
        do {
            try await step()
            return true
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("publishing failed; the record stays in the inbox and is tried again", metadata: [
                "idempotency_key": .string(key), "error": "\(error)"])
            return false
        }
    }

    private func publish(_ records: [Ready]) async throws {
        try await publisher.publish(records.flatMap(\.messages))
        try await inbox.markPublished(records.map { (key: $0.entry.key, messageID: $0.messageID) })
        for ready in records {
            ready.log.info("published", metadata: ["kind": .string(ready.entry.kind), "detail": .string(ready.detail)])
        }
    }

    /// The record's messages once fetched; nil when Heartland failed (the record waits for a retry) or the record is unusable
    /// (marked failed, alerted).
    private func prepare(_ entry: IngestInbox.Entry) async throws -> Ready? {
        var log = logger
        log[metadataKey: "idempotency_key"] = .string(entry.key)
        let output: OutboundMessage, detail: String
        let started = ContinuousClock.now
        do {
            // A safety net for lost refund webhooks and a poller that is off: every card refund of the batch is posted on its
            // own, since the day's journal leaves them out. Their ids are read while the batch's event is built.
            let source = source, batchID = entry.sourceID
            async let refundIDs = entry.kind == "batch" ? source.refundIDs(batchID: batchID) : []
            (output, detail) = try await source.message(for: entry, eventsExchange: settings.eventsExchange, scoringExchange: settings.scoringExchange)
            if entry.kind == "batch" {
                for id in try await refundIDs {
                    if try await inbox.accept(key: HeartlandIdempotencyKey.transaction(id).description, kind: "refund", sourceID: id, seenBy: "batch") {
                        log.info("card refund found in its closed batch", metadata: ["transaction": "\(id)"])
                    }
                }
            }
        } catch let error as HeartlandError where error.isTransient || error.isCredentialProblem {
            try await failed(entry, reason: error.description, retryAfter: error.retryAfter, log: log)
            return nil
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The record itself is unusable (not found, not closed, no store): retrying cannot help.
            let reason = "\(entry.kind) \(entry.sourceID) cannot be ingested: \(error)"
            try await inbox.markFailed(entry.key, error: reason)
            log.error("ingest failed", metadata: ["reason": "\(reason)"])
            await alerts.raise(kind: .ingestFailed, severity: "error", reason: reason, key: entry.key, attempt: entry.attempts + 1)
            return nil
        }
        let messageID = MessageID.derived(IngestAlerts.stage, entry.key)
        var messages = [output.amqpMessage(correlationID: entry.key, messageID: messageID, traceparent: nil)]
        // The first hop of the event's trace (`bridgectl trace <key>`): fetched from Heartland and published.
        messages.append(try alerts.hopMessage(key: entry.key, messageID: messageID, routingKey: output.routingKey, attempt: entry.attempts + 1,
                                              outcome: "published 1 (\(output.routingKey)): \(detail); first seen by \(entry.firstSeenBy), "
                                                  + "\(entry.sightings) sighting(s)",
                                              duration: ContinuousClock.now - started))
        if entry.attempts >= settings.alertAfterAttempts {
            messages.append(try alerts.auditMessage(
                event: .sourceRecovered, detail: "\(entry.kind) \(entry.sourceID) fetched after \(entry.attempts) failed attempts; published",
                key: entry.key, messageID: messageID))
        }
        return Ready(entry: entry, messageID: messageID, messages: messages, detail: detail, log: log)
    }

    private func failed(_ entry: IngestInbox.Entry, reason: String, retryAfter: Duration?, log: Logger) async throws {
        let attempt = entry.attempts + 1
        var delay = settings.initialBackoff
        for _ in 1..<min(attempt, 20) { delay = min(delay * 2, settings.maxBackoff) }
        if let retryAfter { delay = max(delay, retryAfter) }
        try await inbox.markRetry(entry.key, error: reason, nextAttemptAt: Date().addingTimeInterval(delay.seconds))
        log.warning("Heartland failed; the batch waits in the inbox", metadata: [
            "attempt": .stringConvertible(attempt), "retry_in_ms": .stringConvertible(delay.milliseconds), "error": .string(reason),
        ])
        if attempt == settings.alertAfterAttempts || attempt > settings.alertAfterAttempts && (attempt - settings.alertAfterAttempts) % settings.alertEvery == 0 {
            let text = "\(reason); \(entry.kind) \(entry.sourceID) waits in the ingest inbox and is retried (attempt \(attempt), next in \(delay.seconds) s)"
            await alerts.raise(kind: .sourceUnavailable, severity: "warning", reason: text, key: entry.key, attempt: attempt)
        }
    }
}

extension HeartlandError {
    /// Refused credentials: not the batch's fault; keep it and keep trying until the secret is fixed.
    var isCredentialProblem: Bool {
        if case .unauthorized = self { return true }
        return false
    }

    var retryAfter: Duration? {
        if case .rateLimited(let after) = self { return after }
        return nil
    }
}
