import Foundation
import HeartlandConnector
import Hummingbird
import Logging
import Messaging
import Metrics

/// `POST /heartland/webhooks`: Heartland's event deliveries. A body over `maxBodyBytes` is answered
/// 413 before it is read whole (at once when `Content-Length` says so, else as soon as the bytes
/// read pass the limit). The signature and its signed timestamp (`WebhookVerifier`) are checked on
/// the raw body before anything else; a delivery that fails them gets 401, is logged, and is neither
/// recorded nor published. Values from the delivery reach the log escaped (`LogSafe`), so a header
/// cannot write log lines of its own. A verified `batch.closed`, `payroll.completed` or `transaction.refunded` (a card refund) is recorded in the inbox under the batch's key (the
/// forwarder publishes it) and answered 200 at once, so Heartland never times out waiting for us;
/// a repeat of the same batch answers 200 `duplicate`. If the inbox cannot be written the answer is
/// 500 and Heartland delivers again.
public struct WebhookReceiver: Sendable {
    public static let path = "/heartland/webhooks"
    /// Heartland's events are a few kilobytes (a batch with its card-brand totals); 1 MiB leaves room.
    public static let defaultMaxBodyBytes = 1 << 20

    let verifier: WebhookVerifier
    let inbox: IngestInbox
    let maxBodyBytes: Int
    let now: @Sendable () -> Date
    let logger: Logger

    /// - Parameters:
    ///   - maxBodyBytes: larger deliveries are refused with 413 (`HEARTLAND_WEBHOOK_MAX_BYTES`).
    ///   - now: the clock the signed timestamps are checked against (heartland-ingest's `--clock`).
    public init(verifier: WebhookVerifier, inbox: IngestInbox, maxBodyBytes: Int = defaultMaxBodyBytes,
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.verifier = verifier
        self.inbox = inbox
        self.maxBodyBytes = maxBodyBytes
        self.now = now
        self.logger = logger
    }

    public func application(host: String, port: Int, onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        let limit = maxBodyBytes
        router.post(RouterPath(stringLiteral: Self.path)) { request, _ -> Response in
            if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                return tooLarge(bytes: "\(length)")
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: limit)
            } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                return tooLarge(bytes: "over \(limit)")
            }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            return await receive(body: Data(buffer.readableBytesView)) { headers[$0.lowercased()] }
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "heartland-ingest"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    private func tooLarge(bytes: String) -> Response {
        Counter(label: "bridge_webhooks_rejected_total", dimensions: [("reason", "too_large")]).increment()
        logger.warning("webhook rejected: body too large", metadata: ["bytes": .string(bytes), "limit": "\(maxBodyBytes)"])
        return Self.answer(.contentTooLarge, ["status": "rejected", "reason": "body over \(maxBodyBytes) bytes"])
    }

    /// The whole decision, separate from HTTP so that it is tested directly.
    public func receive(body: Data, header: (String) -> String?) async -> Response {
        let verified: WebhookVerifier.Verified
        do {
            verified = try verifier.verify(body: body, now: now(), header: header)
        } catch {
            Counter(label: "bridge_webhooks_rejected_total", dimensions: [("reason", Self.reasonLabel(error))]).increment()
            switch error {
            case .undecodableBody:
                logger.warning("webhook rejected: signed but not a Heartland event", metadata: ["reason": .untrusted("\(error)"), "bytes": "\(body.count)"])
                return Self.answer(.badRequest, ["status": "rejected", "reason": error.description])
            default:
                logger.warning("webhook rejected: signature", metadata: [
                    "reason": .untrusted("\(error)"), "bytes": "\(body.count)", "delivery_id": .untrusted(header("X-Webhook-Id") ?? "-"),
                ])
                if case .stale = error { return Self.answer(.unauthorized, ["status": "rejected", "reason": "signature too old or from the future"]) }
                return Self.answer(.unauthorized, ["status": "rejected", "reason": "invalid signature"])
            }
        }
        let event = verified.event
        let key = verified.idempotencyKey.description
        let recorded: Bool
        do {
            switch event.payload {
            case .batchClosed(let batch):
                recorded = try await inbox.accept(key: key, kind: "batch", sourceID: batch.id, seenBy: "webhook")
            case .payrollCompleted(let run):
                recorded = try await inbox.accept(key: key, kind: "pay_run", sourceID: run.id, seenBy: "webhook")
            case .transactionRefunded(let transaction) where transaction.type == .refund:
                // Posted on its own as it happens; the forwarder fetches the return ticket and its sale.
                recorded = try await inbox.accept(key: key, kind: "refund", sourceID: transaction.id, seenBy: "webhook")
            case .transactionRefunded, .unhandled:
                recorded = try await inbox.accept(key: key, kind: event.type.rawValue, sourceID: event.id, seenBy: "webhook", status: .ignored)
            }
        } catch {
            logger.error("webhook not recorded; asking Heartland to deliver again", metadata: ["event_id": .untrusted(event.id), "error": "\(error)"])
            return Self.answer(.internalServerError, ["status": "error", "reason": "inbox unavailable"])
        }
        Counter(label: "bridge_webhooks_received_total", dimensions: [("event", event.type.rawValue), ("new", recorded ? "true" : "false")]).increment()
        logger.info(recorded ? "webhook recorded" : "webhook repeat recorded as a sighting", metadata: [
            "event": .untrusted(event.type.rawValue), "event_id": .untrusted(event.id), "delivery_id": .untrusted(verified.deliveryId),
            "idempotency_key": .untrusted(key),
        ])
        return Self.answer(.ok, ["status": recorded ? "accepted" : "duplicate", "idempotency_key": key])
    }

    static func reasonLabel(_ rejection: WebhookVerifier.Rejection) -> String {
        switch rejection {
        case .missingSignature: "missing_signature"
        case .badSignature: "bad_signature"
        case .malformedSignature: "malformed_signature"
        case .stale: "stale"
        case .undecodableBody: "undecodable"
        }
    }

    static func answer(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
