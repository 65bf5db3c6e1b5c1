import AMQP
import Foundation
import Messaging
import PipelineContracts

/// The messages a review decision sends, for every tool that decides (`bridgectl review`, the
/// operations console): the approved document as the loaders' command, and the decision on
/// `bridge.audit` with who and why. Ids are derived from the held document, so sending again after
/// a failure is absorbed downstream.
public enum ReviewRelease {
    /// The approved document as the loaders' command; the same message id on every send.
    public static func release(_ held: ReviewStore.HeldDocument) throws -> (message: OutgoingMessage, document: JournalDocument) {
        var document = try JSONDecoder().decode(JournalDocument.self, from: held.document)
        document.fraudAssessment = "approved"
        let message = try FraudScoringHandler.command(document, key: held.idempotencyKey)
            .amqpMessage(correlationID: held.idempotencyKey, messageID: MessageID.derived("review", held.idempotencyKey), traceparent: nil)
        return (message, document)
    }

    /// The decision (`review_approved`, `review_rejected`) as an audit notice; `origin` is the tool that
    /// decided, the last part of the routing key.
    public static func audit(_ event: AuditEvent, _ held: ReviewStore.HeldDocument, document: JournalDocument?, actor: String, why: String,
                             origin: String = "bridgectl") throws -> OutgoingMessage {
        let notice = AuditNotice(event: event, stage: "fraud-scorer",
                                 detail: "\(document?.journal.reference ?? held.idempotencyKey) (review \(held.id)): \(why)",
                                 idempotencyKey: held.idempotencyKey, actor: actor)
        return try OutboundMessage(exchange: "bridge.audit", routingKey: event.routingKey(origin), json: notice, idempotencyKey: held.idempotencyKey)
            .amqpMessage(correlationID: held.idempotencyKey, messageID: MessageID.derived("review", held.idempotencyKey, event.rawValue), traceparent: nil)
    }
}

extension ReviewRelease {
    /// An exception's acknowledgement (`exception_acknowledged`) as an audit notice with who and why.
    public static func audit(acknowledged exception: FraudException, actor: String, why: String,
                             origin: String = "bridgectl") throws -> OutgoingMessage {
        let notice = AuditNotice(event: .exceptionAcknowledged, stage: "fraud-scorer",
                                 detail: "\(exception.reference) exception \(exception.label) (\(exception.summary)): \(why)",
                                 idempotencyKey: exception.key, actor: actor)
        return try OutboundMessage(exchange: "bridge.audit", routingKey: AuditEvent.exceptionAcknowledged.routingKey(origin), json: notice,
                                   idempotencyKey: exception.key)
            .amqpMessage(correlationID: exception.key, messageID: MessageID.derived("exception", exception.key, "acknowledged"), traceparent: nil)
    }
}
