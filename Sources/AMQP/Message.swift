import Foundation

/// A value in an AMQP field table (message headers, queue arguments).
public enum FieldValue: Sendable, Equatable, Hashable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case double(Double)
    case timestamp(UInt64)
    case bytes([UInt8])
    case array([FieldValue])
    case table([String: FieldValue])
    case void

    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .int(let i): return String(i)
        default: return nil
        }
    }

    /// The value as a person reads it in a header listing (nested arrays and tables included, keys sorted).
    public var displayText: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .double(let d): return String(d)
        case .timestamp(let t): return String(t)
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .array(let items): return "[" + items.map(\.displayText).joined(separator: ", ") + "]"
        case .table(let t): return "{" + t.sorted(by: { $0.key < $1.key }).map { "\($0.key): \($0.value.displayText)" }.joined(separator: ", ") + "}"
        case .void: return "null"
        }
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .timestamp(let t): return Int64(clamping: t)
        case .string(let s): return Int64(s)
        default: return nil
        }
    }
}

public typealias FieldTable = [String: FieldValue]

/// The AMQP basic properties we use. Unset fields are nil.
public struct MessageProperties: Sendable, Equatable {
    public var contentType: String?
    public var messageID: String?
    public var correlationID: String?
    public var type: String?
    public var timestamp: Date?
    public var persistent: Bool
    public var headers: FieldTable
    public var appID: String?
    public var replyTo: String?
    public var expiration: String?

    public init(
        contentType: String? = "application/json", messageID: String? = nil, correlationID: String? = nil,
        type: String? = nil, timestamp: Date? = nil, persistent: Bool = true, headers: FieldTable = [:],
        appID: String? = nil, replyTo: String? = nil, expiration: String? = nil
    ) {
        self.contentType = contentType
        self.messageID = messageID
        self.correlationID = correlationID
        self.type = type
        self.timestamp = timestamp
        self.persistent = persistent
        self.headers = headers
        self.appID = appID
        self.replyTo = replyTo
        self.expiration = expiration
    }
}

/// A message to publish. `mandatory` makes an unroutable message an error instead of a silent drop.
public struct OutgoingMessage: Sendable, Equatable {
    public var exchange: String
    public var routingKey: String
    public var properties: MessageProperties
    public var body: [UInt8]
    public var mandatory: Bool

    public init(exchange: String, routingKey: String, properties: MessageProperties, body: [UInt8], mandatory: Bool = true) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
        self.mandatory = mandatory
    }
}

/// A message received from a queue, by a consumer or `basic.get`. Ack it through the session that delivered it.
public struct Delivery: Sendable {
    public var channel: UInt16
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var properties: MessageProperties
    /// Empty while the body is held in a file (`spilledBody`).
    public var body: [UInt8]
    /// Which connection of the session delivered it; an ack on a newer connection would be meaningless.
    public var connectionGeneration: UInt64
    /// Messages left in the queue after this one (basic.get only).
    public var messageCount: UInt32?
    /// The body, when it arrived beyond the session's budget of bodies in memory and waits in a file for its turn
    /// (`AMQPSession.consume(aloneAtBytes:spillDirectory:)`): read it back with `loadingSpilledBody()`.
    public var spilledBody: SpilledBody?

    /// The body's size, in memory or in its file.
    public var size: Int { spilledBody?.count ?? body.count }

    /// This delivery with its body in memory: read back from its file if it was held in one. Blocks while it reads (see
    /// `SpilledBody.read`).
    public func loadingSpilledBody() throws -> Delivery {
        guard let spilledBody else { return self }
        var loaded = self
        loaded.body = try spilledBody.read()
        loaded.spilledBody = nil
        return loaded
    }

    public init(channel: UInt16 = 0, deliveryTag: UInt64 = 0, redelivered: Bool = false, exchange: String = "", routingKey: String,
                properties: MessageProperties, body: [UInt8], connectionGeneration: UInt64 = 0, messageCount: UInt32? = nil) {
        self.channel = channel
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
        self.connectionGeneration = connectionGeneration
        self.messageCount = messageCount
    }
}
