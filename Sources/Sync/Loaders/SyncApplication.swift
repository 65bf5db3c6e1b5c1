import BridgeClock
import Foundation
import HeartlandConnector
import Logging
import Messaging
import PipelineContracts
import SageConnector

/// What a loader did with one sync command.
struct SyncApplied {
    /// False when the target already held the values: nothing was written (a repeat, or the
    /// bridge's own change coming back).
    var wrote: Bool
    var detail: String
    /// Notices to publish besides the `synced` audit (e.g. `sync_conflict`).
    var notices: [OutboundMessage] = []
}

/// The loader side every sync handler shares: the Idempotent Consumer check on the ledger, writes to one
/// record one at a time and never older over newer (with `versions`), the audit record of a write, and the
/// classification of the target's errors.
struct SyncLoaderSupport: Sendable {
    let stage: String
    let ledger: IdempotencyStore
    let auditExchange: String
    /// The newest version applied per record: an older one is a no-op.
    var versions: RecordVersions?
    /// One writer per record across this process's handlers (a read-then-adjust is not raced).
    let locks = SerialGates()
    /// Records a person's match decision in the loader's memory (links, different people).
    var decisions: (@Sendable (CustomerMatchDecision) async throws -> Void)? = nil

    func apply(_ message: InboundMessage, record: RecordVersion? = nil, logger: Logger,
               _ body: (String) async throws -> SyncApplied) async throws -> StageOutcome {
        guard let key = message.idempotencyKey else {
            throw StageError.permanent("\(message.routingKey) message \(message.messageID) has no \(Header.idempotencyKey)")
        }
        if let earlier = try await ledger.result(for: key) {
            return .duplicate("\(key) was applied before: \(earlier)")
        }
        guard let record else { return try await applyOnce(message, key: key, record: nil, logger: logger, body) }
        return try await locks.withLock(record.record) { try await applyOnce(message, key: key, record: record, logger: logger, body) }
    }

    private func applyOnce(_ message: InboundMessage, key: String, record: RecordVersion?, logger: Logger,
                           _ body: (String) async throws -> SyncApplied) async throws -> StageOutcome {
        if let record, let versions, let newest = try await versions.newest(record.record), newest > record.version {
            _ = try await ledger.record(key: key, messageID: message.messageID, result: "older than version \(newest) already applied")
            return .duplicate("\(key): \(record.record) version \(record.version) is older than version \(newest) already applied; nothing written")
        }
        let applied: SyncApplied
        do {
            if let decision = try Self.decision(in: message) { try await decisions?(decision) }
            applied = try await body(key)
        } catch let hold as CustomerReviewHold {
            // Held for a person, not failed: the alerter keeps one review item per set of records and the
            // console releases the command with the decision. The key is not recorded, so it runs again then.
            logger.notice("customer review required", metadata: ["idempotency_key": .string(key), "review": .string(hold.reviewId)])
            let held = HeldCommand(routingKey: message.routingKey, body: String(decoding: message.body, as: UTF8.self), idempotencyKey: key,
                                   messageId: message.messageID, correlationId: message.correlationID)
            let notice = CustomerReviewNotice(stage: stage, customer: hold.customer, candidates: hold.candidates, reason: CardMask.mask(hold.reason),
                                              held: held, at: Timestamps.iso8601(Date()))
            return .publish([try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.customerReview.routingKey(stage), json: notice,
                                                 idempotencyKey: key, schema: CustomerReviewNotice.schema)])
        } catch let error as HeartlandError {
            throw error.isTransient ? StageError.transient("Heartland: \(error)", retryAfter: error.retryAfterDuration)
                : StageError.permanent("Heartland refused \(key): \(error)")
        } catch let error as SageError {
            throw error.isTransient ? StageError.transient("Sage: \(error)", retryAfter: error.retryAfter)
                : StageError.permanent("Sage refused \(key): \(error)")
        }
        _ = try await ledger.record(key: key, messageID: message.messageID, result: applied.detail)
        if let record, let versions { try await versions.advance(record.record, to: record.version) }
        guard applied.wrote else { return .duplicate(applied.detail, also: applied.notices) }
        logger.info("synced", metadata: ["idempotency_key": .string(key), "detail": .string(CardMask.mask(applied.detail))])
        let notice = AuditNotice(event: .synced, stage: stage, detail: applied.detail, messageId: message.messageID,
                                 correlationId: message.correlationID, idempotencyKey: key)
        return .publish([try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.synced.routingKey(stage), json: notice,
                                             idempotencyKey: key, schema: "bridge.audit.v1")] + applied.notices)
    }

    /// The decision a released held command carries (header `x-customer-decision`), applied before the command.
    static func decision(in message: InboundMessage) throws -> CustomerMatchDecision? {
        guard let text = message.delivery.properties.headers[CustomerMatchDecision.header]?.stringValue else { return nil }
        do { return try JSONDecoder().decode(CustomerMatchDecision.self, from: Data(text.utf8)) } catch {
            throw StageError.permanent("\(message.routingKey) message \(message.messageID): \(CustomerMatchDecision.header) is not a decision: \(error)")
        }
    }
}

extension HeartlandError {
    var retryAfterDuration: Duration? {
        if case .rateLimited(let after) = self { return after }
        return nil
    }

    var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}

/// The outcome of looking for a customer's twin on the other side.
enum CustomerResolution<Existing> {
    case existing(Existing, how: String)
    case create
}
