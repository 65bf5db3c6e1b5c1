import Foundation

/// An alert published on `bridge.alerts` (schema `bridge.alert.v1`).
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

    public init(kind: String, severity: String, stage: String, reason: String, errorClass: String? = nil, attempt: Int? = nil,
                messageId: String? = nil, correlationId: String? = nil, idempotencyKey: String? = nil, routingKey: String? = nil,
                at: Date = Date()) {
        self.kind = kind
        self.severity = severity
        self.stage = stage
        self.reason = CardMask.mask(reason)
        self.errorClass = errorClass
        self.attempt = attempt
        self.messageId = messageId
        self.correlationId = correlationId
        self.idempotencyKey = idempotencyKey
        self.routingKey = routingKey
        self.at = Timestamp.rfc3339(at)
    }
}

/// An audit record published on `bridge.audit` (schema `bridge.audit.v1`): duplicates skipped, replays, postings.
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

    public init(event: String, stage: String, detail: String, messageId: String? = nil, correlationId: String? = nil,
                idempotencyKey: String? = nil, actor: String? = nil, at: Date = Date()) {
        self.event = event
        self.stage = stage
        self.detail = CardMask.mask(detail)
        self.messageId = messageId
        self.correlationId = correlationId
        self.idempotencyKey = idempotencyKey
        self.actor = actor
        self.at = Timestamp.rfc3339(at)
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
        self.at = Timestamp.rfc3339(at)
    }
}
