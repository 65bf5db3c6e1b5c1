import Foundation
import HeartlandConnector
import Logging
import Messaging
import SageConnector

/// What a loader did with one sync command.
struct SyncApplied {
    /// False when the target already held the values: nothing was written (a repeat, or the
    /// bridge's own change coming back).
    var wrote: Bool
    var detail: String
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
    let locks = RecordLocks()

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
            applied = try await body(key)
        } catch let error as HeartlandError {
            throw error.isTransient ? StageError.transient("Heartland: \(error)", retryAfter: error.retryAfterDuration)
                : StageError.permanent("Heartland refused \(key): \(error)")
        } catch let error as SageError {
            throw error.isTransient ? StageError.transient("Sage: \(error)", retryAfter: error.retryAfter)
                : StageError.permanent("Sage refused \(key): \(error)")
        }
        _ = try await ledger.record(key: key, messageID: message.messageID, result: applied.detail)
        if let record, let versions { try await versions.advance(record.record, to: record.version) }
        guard applied.wrote else { return .duplicate(applied.detail) }
        logger.info("synced", metadata: ["idempotency_key": .string(key), "detail": .string(applied.detail)])
        let notice = AuditNotice(event: "synced", stage: stage, detail: applied.detail, messageId: message.messageID,
                                 correlationId: message.correlationID, idempotencyKey: key)
        return .publish([try OutboundMessage(exchange: auditExchange, routingKey: "audit.synced.\(stage)", json: notice,
                                             idempotencyKey: key, schema: "bridge.audit.v1")])
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

extension CustomerMatcher {
    /// `.existing` → the candidate; `.review` → a permanent error that explains the hold; `.new` → nil.
    func decide(_ incoming: SyncCustomer, among candidates: [CustomerRecord], target: String, stage: String) throws -> (id: String, because: String)? {
        switch match(incoming.matchable, among: candidates) {
        case .existing(let id, _, let because):
            return (id, because)
        case .review(let ids, let because):
            throw StageError.permanent(
                "customer review required: \(incoming.side.rawValue) customer \(incoming.number) (\(incoming.firstName) \(incoming.lastName), "
                    + "\(incoming.email ?? "no e-mail"), \(incoming.phone ?? "no phone")) may already exist in \(target) as "
                    + "\(ids.joined(separator: ", ")): \(because). Nothing was created or changed. Merge or correct the records in "
                    + "\(target) or Heartland so that they match confidently or clearly differ, then run `bridgectl dlq replay \(stage)`")
        case .new:
            return nil
        }
    }
}
