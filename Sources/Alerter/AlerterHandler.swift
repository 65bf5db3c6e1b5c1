import Accounting
import ConnectorHTTP
import Foundation
import Logging
import Messaging
import Metrics
import PipelineContracts

/// The alerter stage: stores alerts, audit notices, reconciliation reports, dead-letter copies and the
/// expiry of parked messages (an audit line, never the body) in the operations store, and tells a person. Alerts with the same cause are grouped: a group is
/// announced when it first appears and again at 10, 100, 1000… occurrences, not once per message.
public struct AlerterHandler: StageHandler {
    public let store: OperationsStore
    public let webhook: URL?
    public let deadLetterExchange: String
    /// Where the stages' hop records go (`bridgectl trace`); nil: they are acknowledged and dropped.
    public let traces: TraceStore?
    /// Uncertain customer matches held by the sync loaders, one item per set of records; nil: kept as audit entries only.
    public let customerReviews: CustomerReviewStore?

    public init(store: OperationsStore, webhook: URL?, deadLetterExchange: String = "bridge.dead", traces: TraceStore? = nil,
                customerReviews: CustomerReviewStore? = nil) {
        self.store = store
        self.webhook = webhook
        self.deadLetterExchange = deadLetterExchange
        self.traces = traces
        self.customerReviews = customerReviews
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        // The message's own type, not the delivery's routing key: a message back from a delay tier was
        // dead-lettered to this queue under the key `alerter`, through the default exchange.
        let key = message.routingKey
        let headers = message.delivery.properties.headers
        if let parkingLot = DeadLetterChannel.ParkedMessage(delivery: message.delivery).expiredFromParkingLot {
            try await recordExpiry(message, from: parkingLot, logger: logger)
            return .done
        }
        let parked = message.delivery.exchange == deadLetterExchange
            || !key.hasPrefix("alert.") && !key.hasPrefix("audit.") && (headers["x-death"] != nil || headers[Header.errorClass] != nil)
        if parked {
            // Messages held for one cause (a store the mapping gives no account) are one alert between them.
            let hold = headers[Header.holdKey]?.stringValue.map(StageError.holdAlertID)
            try await raise(deadLetterAlert(message), messageID: hold ?? "dead:\(message.messageID):\(message.attempt)", logger: logger)
        } else if key.hasPrefix("alert.") {
            try await raise(message.decode(AlertNotice.self), messageID: message.messageID, logger: logger)
        } else if key.hasPrefix(AuditEvent.hop.routingPrefix) {
            try await traces?.record(message.decode(HopNotice.self))
        } else if key == QuarantinedDocument.routingKey {
            // A ticket set aside by the transformer: kept until its corrected version posts (the alert came on bridge.alerts).
            let document = try message.decode(QuarantinedDocument.self)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try await store.recordQuarantine(QuarantinedDocumentRecord(json: String(decoding: try encoder.encode(document), as: UTF8.self)))
        } else if key.hasPrefix(AuditEvent.reconciliation.routingPrefix) {
            let received = try message.decode(ReconciliationReport.self)
            if let resolves = received.resolves, received.status != .incomplete {
                try await store.resolveQuarantine(storeID: received.storeID.rawValue, documentID: resolves, reference: received.reference)
            }
            // A refund's report is folded into its batch's: the batch report as it now stands is what is judged.
            let batch = try await store.record(received)
            let report = received.status == .mismatched ? received : (batch ?? received)
            if report.status == .mismatched {
                let differences = report.differences.map { "\($0.label): \($0.differenceCents.map(Money.decimalString) ?? "missing")" }
                    + report.receivableDifferences.map { "AR \($0.summary)" }
                try await raise(AlertNotice(kind: .reconciliationMismatch, severity: "error", stage: "sage-loader",
                                            reason: "\(report.reference) does not reconcile: \(differences.joined(separator: "; "))",
                                            correlationId: message.correlationID),
                                messageID: "mismatch:\(message.messageID)", logger: logger)
            }
        } else if key.hasPrefix(AuditEvent.customerReview.routingPrefix), let customerReviews {
            // Both loaders may hold the same records (each finds the other side's customer): one item, one alert.
            let notice = try message.decode(CustomerReviewNotice.self)
            if try await customerReviews.record(notice) {
                try await raise(AlertNotice(kind: .customerReview, severity: "warning", stage: notice.stage,
                                            reason: "customer review \(notice.reviewId): \(notice.reason)", correlationId: message.correlationID,
                                            idempotencyKey: notice.held.idempotencyKey),
                                messageID: "review:\(notice.reviewId)", logger: logger)
            }
        } else if key.hasPrefix("audit.") {
            try await store.record(message.decode(AuditNotice.self), messageID: message.messageID, correlationID: message.correlationID)
        } else {
            throw StageError.permanent("alerter does not know messages of type \(key)")
        }
        return .done
    }

    /// A message the broker or a stage parked: its headers say where and why.
    func deadLetterAlert(_ message: InboundMessage) -> AlertNotice {
        let parked = DeadLetterChannel.ParkedMessage(delivery: message.delivery)
        return AlertNotice(kind: .deadLettered, severity: "error", stage: parked.failedStage ?? message.delivery.routingKey,
                           reason: parked.lastError, errorClass: parked.errorClass, attempt: parked.attempt,
                           messageId: message.messageID, correlationId: message.correlationID, idempotencyKey: message.idempotencyKey)
    }

    /// A parked message whose retention ran out: an audit line says which message left and when, without its
    /// body (the reason it may not be kept), and the message is dropped.
    func recordExpiry(_ message: InboundMessage, from parkingLot: String, logger: Logger) async throws {
        let parked = DeadLetterChannel.ParkedMessage(delivery: message.delivery)
        let stage = parked.failedStage ?? String(parkingLot.dropLast(".dlq".count))
        let age = parked.age().components.seconds
        let detail = "parked message \(message.messageID) (routing key \(parked.routingKey), idempotency key \(parked.idempotencyKey ?? "none")) "
            + "expired from \(parkingLot) after its retention, \(age / 86_400) d \(age % 86_400 / 3600) h since it first failed "
            + "(\(age) s); dropped, body not kept"
        try await store.record(AuditNotice(event: .parkedExpired, stage: stage, detail: detail, messageId: message.messageID,
                                           correlationId: message.correlationID, idempotencyKey: parked.idempotencyKey),
                               messageID: "expired:\(message.messageID)", correlationID: message.correlationID)
        logger.notice("parked message expired", metadata: [
            "stage": .string(stage), "queue": .string(parkingLot), "message_id": .string(message.messageID),
            "routing_key": .string(parked.routingKey), "idempotency_key": .string(parked.idempotencyKey ?? ""), "age_s": .stringConvertible(age),
        ])
    }

    func raise(_ alert: AlertNotice, messageID: String, logger: Logger) async throws {
        let (group, isNew) = try await store.record(alert, messageID: messageID)
        if isNew {
            Counter(label: "bridge_alerts_total", dimensions: [("kind", alert.kind), ("stage", alert.stage), ("severity", alert.severity)]).increment()
        }
        guard group.notifiedCount == 0 || group.count >= group.notifiedCount * 10 else { return }
        let text = "[\(group.severity.uppercased())] \(group.stage): \(group.reason)"
            + (group.count > 1 ? " (\(group.count) times since \(group.firstSeen))" : "")
        logger.error("alert", metadata: ["stage": .string(group.stage), "kind": .string(group.kind), "count": .stringConvertible(group.count),
                                         "reason": .string(group.reason)])
        if let webhook { try await post(text, group: group, to: webhook) }
        try await store.markNotified(group.fingerprint, count: group.count)
    }

    /// A JSON body chat tools accept (`text`), with the group's fields beside it.
    func post(_ text: String, group: OperationsStore.AlertGroup, to url: URL) async throws {
        let body = try JSONSerialization.data(withJSONObject: [
            "text": text, "stage": group.stage, "kind": group.kind, "count": group.count, "first_seen": group.firstSeen,
        ], options: [.sortedKeys])
        // The connectors' transport and pool (docs/HTTP.md): TLS verified, keep-alive, no redirects followed.
        let status: Int
        do {
            status = try await ConnectorTransport(settings: HTTPPoolSettings(connectionsPerHost: 2, timeout: .seconds(10)))
                .send("POST", url, headers: [("Content-Type", "application/json")], body: body).status
        } catch let failure as ConnectorTransport.Failure {
            throw StageError.transient("alert webhook unreachable: \(failure)")
        }
        guard (200..<300).contains(status) else { throw StageError.transient("alert webhook answered \(status)") }
    }
}
