import BridgeClock
import Foundation
import Logging

/// What an alert is about: `kind` in `bridge.alert.v1`, and the middle word of its routing key.
public enum AlertKind: String, Sendable, CaseIterable {
    case deadLettered = "dead_lettered"
    case targetFailing = "target_failing"
    case documentQuarantined = "document_quarantined"
    case mappingRejected = "mapping_rejected"
    case refundAwaitingAllocation = "refund_awaiting_allocation"
    case sourceUnavailable = "source_unavailable"
    case ingestFailed = "ingest_failed"
    case reviewRequired = "review_required"
    case refundBlocked = "refund_blocked"
    case refundExceptionAllowed = "refund_exception_allowed"
    case fraudException = "fraud_exception"
    case cardTesting = "card_testing"
    case reconciliationMismatch = "reconciliation_mismatch"
    case customerReview = "customer_review"

    /// `alert.<kind>.<publisher>`, the publisher being the stage or tool that sends it.
    public func routingKey(_ publisher: String) -> String { "alert.\(rawValue).\(publisher)" }
}

/// What an audit record says happened: `event` in `bridge.audit.v1`, and the middle word of its routing key on `bridge.audit`.
public enum AuditEvent: String, Sendable, CaseIterable {
    // every stage
    case duplicateSkipped = "duplicate_skipped"
    case parkedExpired = "parked_expired"
    // heartland-ingest
    case sourceRecovered = "source_recovered"
    // transformer
    case batchDisagrees = "batch_disagrees"
    case nothingToPost = "nothing_to_post"
    // fraud-scorer and the review decisions
    case fraudException = "fraud_exception"
    case blocked
    case heldForReview = "held_for_review"
    case reviewApproved = "review_approved"
    case reviewRejected = "review_rejected"
    case exceptionAcknowledged = "exception_acknowledged"
    // sage-loader
    case posted
    // the two-way sync
    /// A loader wrote a record version.
    case synced
    /// The side that does not own a field changed it; the owner's value stands.
    case syncConflict = "sync_conflict"
    // bridgectl
    case quarantineReplayed = "quarantine_replayed"
    case refundAllocated = "refund_allocated"
    // the console
    case consoleActionRequested = "console_action_requested"
    case alertAcknowledged = "alert_acknowledged"
    case dlqReplayed = "dlq_replayed"
    case dlqPurged = "dlq_purged"
    case customerMatchSame = "customer_match_same"
    case customerMatchDifferent = "customer_match_different"
    case rulesSaved = "rules_saved"
    case rulesRestored = "rules_restored"
    case mappingSaved = "mapping_saved"
    case mappingRestored = "mapping_restored"
    // notices of their own schema on `bridge.audit`, routed by this word
    /// `HopNotice`, `audit.hop.<stage>`.
    case hop
    /// `ReconciliationReport`, `audit.reconciliation.<status>`.
    case reconciliation
    /// A customer match for a person to decide, `audit.customer_review.<stage>`.
    case customerReview = "customer_review"

    /// `audit.<event>.<publisher>` (for a reconciliation report, its status in place of the publisher).
    public func routingKey(_ publisher: String) -> String { "audit.\(rawValue).\(publisher)" }

    /// `audit.<event>.`: what every routing key of this event starts with.
    public var routingPrefix: String { "audit.\(rawValue)." }
}

/// An alert published on `bridge.alerts` (schema `bridge.alert.v1`).
///
/// `kind` stays text: the notice is a wire record, read by the alerter from stages of any version, and a kind it does not
/// know is still grouped and shown. Code writes kinds only through `AlertKind` (the initialiser takes one).
public struct AlertNotice: Codable, Sendable, Equatable {
    public var schema = "bridge.alert.v1"
    public var kind: String
    public var severity: String
    public var stage: String
    public var reason: String
    public var errorClass: String?
    public var attempt: Int?
    public var messageId: String?
    public var correlationId: String?
    public var idempotencyKey: String?
    public var routingKey: String?
    public var at: String

    public init(kind: AlertKind, severity: String, stage: String, reason: String, errorClass: String? = nil, attempt: Int? = nil,
                messageId: String? = nil, correlationId: String? = nil, idempotencyKey: String? = nil, routingKey: String? = nil,
                at: Date = Date()) {
        self.kind = kind.rawValue
        self.severity = severity
        self.stage = stage
        self.reason = CardMask.mask(reason)
        self.errorClass = errorClass
        self.attempt = attempt
        self.messageId = messageId
        self.correlationId = correlationId
        self.idempotencyKey = idempotencyKey
        self.routingKey = routingKey
        self.at = Timestamps.iso8601Millis(at)
    }
}

/// An audit record published on `bridge.audit` (schema `bridge.audit.v1`): duplicates skipped, replays, postings.
///
/// `event` stays text for the reason `AlertNotice.kind` does; code writes events only through `AuditEvent`.
public struct AuditNotice: Codable, Sendable, Equatable {
    public var schema = "bridge.audit.v1"
    public var event: String
    public var stage: String
    public var detail: String
    public var messageId: String?
    public var correlationId: String?
    public var idempotencyKey: String?
    public var actor: String?
    public var at: String

    public init(event: AuditEvent, stage: String, detail: String, messageId: String? = nil, correlationId: String? = nil,
                idempotencyKey: String? = nil, actor: String? = nil, at: Date = Date()) {
        self.event = event.rawValue
        self.stage = stage
        self.detail = CardMask.mask(detail)
        self.messageId = messageId
        self.correlationId = correlationId
        self.idempotencyKey = idempotencyKey
        self.actor = actor
        self.at = Timestamps.iso8601Millis(at)
    }
}

/// One hop of one message through one stage (schema `bridge.hop.v1`), on `bridge.audit` with key
/// `audit.hop.<stage>`: what `bridgectl trace <correlation-id>` shows.
public struct HopNotice: Codable, Sendable, Equatable {
    public var schema = "bridge.hop.v1"
    public var stage: String
    public var correlationId: String
    public var messageId: String
    public var idempotencyKey: String?
    public var routingKey: String
    public var attempt: Int
    /// `published 1`, `duplicate`, `retry 30s: <reason>`, `dead-lettered: <reason>`.
    public var outcome: String
    public var durationMs: Int
    public var at: String

    public init(stage: String, correlationId: String, messageId: String, idempotencyKey: String?, routingKey: String, attempt: Int,
                outcome: String, durationMs: Int, at: Date = Date()) {
        self.stage = stage
        self.correlationId = correlationId
        self.messageId = messageId
        self.idempotencyKey = idempotencyKey
        self.routingKey = routingKey
        self.attempt = attempt
        self.outcome = CardMask.mask(outcome)
        self.durationMs = durationMs
        self.at = Timestamps.iso8601Millis(at)
    }
}

extension OutboundMessage {
    /// A notice (alert, audit record, hop) as the message that carries it, or nil when it cannot be encoded: the failure
    /// is logged as an error with the routing key. The runner emits notices beside the stage's own outputs, which must not
    /// fail with them; and an empty body on `bridge.alerts` would be an alert nobody can read.
    public static func notice<T: Encodable>(_ notice: T, exchange: String, routingKey: String, logger: Logger) -> OutboundMessage? {
        do {
            return try OutboundMessage(exchange: exchange, routingKey: routingKey, json: notice)
        } catch {
            logger.error("notice not published: it cannot be encoded", metadata: ["routing_key": .string(routingKey), "error": .string("\(error)")])
            return nil
        }
    }
}
