import AMQP
import BridgeClock
import Foundation
import Logging
import Messaging

/// heartland-ingest's alerts and audit notices, on `bridge.alerts` / `bridge.audit` like every
/// stage's (the alerter groups repeats of the same cause).
public struct IngestAlerts: Sendable {
    public static let stage = "heartland-ingest"
    let publisher: any MessagePublisher
    let alertExchange: String
    let auditExchange: String
    let logger: Logger

    public init(publisher: any MessagePublisher, alertExchange: String = "bridge.alerts", auditExchange: String = "bridge.audit", logger: Logger) {
        self.publisher = publisher
        self.alertExchange = alertExchange
        self.auditExchange = auditExchange
        self.logger = logger
    }

    func alertMessage(kind: AlertKind, severity: String, reason: String, key: String, attempt: Int? = nil) throws -> OutgoingMessage {
        let notice = AlertNotice(kind: kind, severity: severity, stage: Self.stage, reason: reason, attempt: attempt,
                                 correlationId: key, idempotencyKey: key)
        let routingKey = kind.routingKey(Self.stage)
        return try OutboundMessage(exchange: alertExchange, routingKey: routingKey, json: notice)
            .amqpMessage(correlationID: key, messageID: MessageID.random(), traceparent: nil)
    }

    func auditMessage(event: AuditEvent, detail: String, key: String, messageID: String) throws -> OutgoingMessage {
        let notice = AuditNotice(event: event, stage: Self.stage, detail: detail, messageId: messageID, correlationId: key, idempotencyKey: key)
        return try OutboundMessage(exchange: auditExchange, routingKey: event.routingKey(Self.stage), json: notice)
            .amqpMessage(correlationID: key, messageID: MessageID.derived(messageID, event.rawValue), traceparent: nil)
    }

    func hopMessage(key: String, messageID: String, routingKey: String, attempt: Int, outcome: String, duration: Duration) throws -> OutgoingMessage {
        let hop = HopNotice(stage: Self.stage, correlationId: key, messageId: messageID, idempotencyKey: key, routingKey: routingKey,
                            attempt: attempt, outcome: outcome, durationMs: Int(duration.milliseconds))
        return try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.hop.routingKey(Self.stage), json: hop)
            .amqpMessage(correlationID: key, messageID: MessageID.derived(messageID, "hop"), traceparent: nil)
    }

    /// Publishes an alert; a broker that is away too is logged, not thrown (the log is the last resort).
    func raise(kind: AlertKind, severity: String, reason: String, key: String, attempt: Int? = nil) async {
        logger.log(level: severity == "error" ? .error : .warning, "alert", metadata: ["kind": "\(kind.rawValue)", "reason": "\(reason)"])
        do {
            try await publisher.publish([try alertMessage(kind: kind, severity: severity, reason: reason, key: key, attempt: attempt)])
        } catch {
            logger.error("could not publish the alert", metadata: ["error": "\(error)"])
        }
    }
}
