import Foundation
import HeartlandWire

/// A Heartland webhook: `{id, event, created_at, account, data}` where `data` is the closed batch,
/// the refund transaction or the completed pay run.
public struct WebhookEvent: Sendable, Hashable, Decodable {
    public enum Payload: Sendable, Hashable {
        case batchClosed(SettlementBatch)
        case transactionRefunded(CardTransaction)
        case payrollCompleted(PayRun)
        /// An event type the bridge does not handle (kept so the inbox can record and skip it).
        case unhandled
    }

    public var id: String
    public var type: WebhookEventType
    public var createdAt: String?
    public var account: String?
    public var payload: Payload

    enum Keys: String, CodingKey {
        case id, event, account, data
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decodeLenientString(.id) ?? ""
        type = try c.decodeIfPresent(WebhookEventType.self, forKey: .event) ?? ""
        createdAt = try c.decodeLenientString(.createdAt)
        account = try c.decodeLenientString(.account)
        switch type {
        case .batchClosed: payload = .batchClosed(try c.decode(SettlementBatch.self, forKey: .data))
        case .transactionRefunded: payload = .transactionRefunded(try c.decode(CardTransaction.self, forKey: .data))
        case .payrollCompleted: payload = .payrollCompleted(try c.decode(PayRun.self, forKey: .data))
        default: payload = .unhandled
        }
    }

    /// The idempotency key of the record this event is about, the same one the poller derives, so
    /// a duplicate webhook and the poller seeing the same batch are recorded once.
    public var idempotencyKey: HeartlandIdempotencyKey {
        switch payload {
        case .batchClosed(let batch): .batch(batch.id)
        case .transactionRefunded(let transaction): .transaction(transaction.id)
        case .payrollCompleted(let run): .payRun(run.id)
        case .unhandled: .event(id)
        }
    }
}

/// `heartland:<entity>:<id>`, the ingest inbox key of a Heartland source record.
public struct HeartlandIdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    public let entity: String
    public let id: String

    public init(entity: String, id: String) {
        self.entity = entity
        self.id = id
    }

    public static func batch(_ id: String) -> Self { Self(entity: "batch", id: id) }
    public static func transaction(_ id: String) -> Self { Self(entity: "transaction", id: id) }
    public static func ticket(_ id: Int64) -> Self { Self(entity: "ticket", id: String(id)) }
    public static func payRun(_ id: String) -> Self { Self(entity: "pay_run", id: id) }
    public static func event(_ id: String) -> Self { Self(entity: "event", id: id) }

    public var description: String { "heartland:\(entity):\(id)" }
}
