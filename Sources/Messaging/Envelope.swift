import AMQP
import BridgeClock
import Foundation
import StableHash

/// The message contract (ARCHITECTURE.md, "The message"): header names every stage reads and writes.
public enum Header {
    public static let idempotencyKey = "x-idempotency-key"
    /// The attempt number of the next processing: absent or 1 on a first delivery. Our own count,
    /// because `x-death` and `x-delivery-count` do not survive a republish.
    public static let attempt = "x-attempt"
    public static let firstFailedAt = "x-first-failed-at"
    public static let lastError = "x-last-error"
    public static let errorClass = "x-error-class"
    public static let failedStage = "x-failed-stage"
    /// The cause a parked message is held for with others (`StageError.held`): one alert between them.
    public static let holdKey = "x-hold-key"
    public static let retryTier = "x-retry-tier"
    /// On the tier watchdog's poke (see `TierWatchdog.swift`): acknowledged by the stage, never handled.
    public static let tierPoke = "x-tier-poke"
    public static let replayedAt = "x-replayed-at"
    public static let replayCount = "x-replay-count"
    public static let schema = "x-schema"
    public static let traceparent = "traceparent"
}

public enum ErrorClass: String, Sendable, Codable {
    case transient, permanent
}

/// A delivery seen through the contract.
public struct InboundMessage: Sendable {
    public let delivery: Delivery

    public init(_ delivery: Delivery) { self.delivery = delivery }

    public var body: [UInt8] { delivery.body }
    public var routingKey: String { delivery.properties.type ?? delivery.routingKey }
    public var messageID: String { delivery.properties.messageID ?? "" }
    public var correlationID: String { delivery.properties.correlationID ?? messageID }
    public var idempotencyKey: String? { delivery.properties.headers[Header.idempotencyKey]?.stringValue }
    public var attempt: Int { Int(delivery.properties.headers[Header.attempt]?.intValue ?? 1) }
    public var firstFailedAt: String? { delivery.properties.headers[Header.firstFailedAt]?.stringValue }
    /// How long since this message first failed (zero if it never has): how long its target has been failing.
    public func failingFor(now: Date = Date()) -> Duration {
        guard let first = firstFailedAt.flatMap(Timestamps.instant) else { return .zero }
        return .milliseconds(Int64(max(0, now.timeIntervalSince(first)) * 1000))
    }
    public var traceparent: String? { delivery.properties.headers[Header.traceparent]?.stringValue }
    /// The broker delivered this message before (to a consumer that died, lost its connection or was
    /// cancelled): a handler may have been working on it.
    public var redelivered: Bool { delivery.redelivered }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decode(type) { try JSONDecoder().decode(type, from: Data($0)) }
    }

    /// The body read by `read` instead of JSONDecoder (a batch event's, `BatchClosedEvent(bytes:)`), as delivered (not copied
    /// into a `Data`); what it cannot read is a permanent error, as with `decode(_:)`.
    public func decode<T>(_ type: T.Type, reading read: ([UInt8]) throws -> T) throws -> T {
        do {
            return try read(body)
        } catch {
            throw StageError.permanent("message \(messageID) is not a valid \(T.self): \(error)")
        }
    }
}

/// What a stage emits. The runner fills in message id, correlation id, type, timestamp and trace.
public struct OutboundMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var idempotencyKey: String?
    public var schema: String?
    public var headers: FieldTable

    public init(exchange: String, routingKey: String, body: [UInt8], idempotencyKey: String? = nil, schema: String? = nil,
                headers: FieldTable = [:]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.idempotencyKey = idempotencyKey
        self.schema = schema
        self.headers = headers
    }

    public init<T: Encodable>(exchange: String, routingKey: String, json: T, idempotencyKey: String? = nil, schema: String? = nil) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        self.init(exchange: exchange, routingKey: routingKey, body: Array(try encoder.encode(json)),
                  idempotencyKey: idempotencyKey, schema: schema)
    }
}

extension OutboundMessage {
    /// The AMQP message for this output. `messageID` is derived from the input so that reprocessing
    /// the same input yields the same ids (deterministic ids make downstream deduplication possible).
    public func amqpMessage(correlationID: String, messageID: String, traceparent: String?, now: Date = Date()) -> OutgoingMessage {
        var headers = self.headers
        if let idempotencyKey { headers[Header.idempotencyKey] = .string(idempotencyKey) }
        if let schema { headers[Header.schema] = .string(schema) }
        if let traceparent { headers[Header.traceparent] = .string(traceparent) }
        let properties = MessageProperties(
            contentType: "application/json", messageID: messageID, correlationID: correlationID, type: routingKey,
            timestamp: now, persistent: true, headers: headers)
        return OutgoingMessage(exchange: exchange, routingKey: routingKey, properties: properties, body: body)
    }
}

public enum MessageID {
    /// A UUID-shaped id that is a pure function of its parts (FNV-1a, 128 bits).
    public static func derived(_ parts: String...) -> String {
        // The parts are hashed as joined by U+001F, without making the joined string.
        var lanes = Lanes()
        for (index, part) in parts.enumerated() {
            if index > 0 { lanes.add(0x1F) }
            for byte in part.utf8 { lanes.add(byte) }
        }
        let (a, b) = (lanes.a.value, lanes.b)
        // Hex by hand: String(format:) is slow on Linux and this runs for every message a stage emits.
        return String(unsafeUninitializedCapacity: 36) { out in
            var count = 0
            for position in 0..<32 {
                if position == 8 || position == 12 || position == 16 || position == 20 { out[count] = UInt8(ascii: "-"); count += 1 }
                let word = position < 16 ? a : b
                let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - (position % 16) * 4)) & 0xF
                out[count] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                count += 1
            }
            return count
        }
    }

    /// Lane a is FNV-1a; lane b starts from the basis with its halves swapped and adds lane a at every step.
    private struct Lanes {
        var a = FNV1a()
        var b: UInt64 = 0x8422_2325_cbf2_9ce4

        mutating func add(_ byte: UInt8) {
            a.add(byte)
            b = (b ^ UInt64(byte)) &* FNV1a.prime &+ a.value
        }
    }

    public static func random() -> String { UUID().uuidString.lowercased() }
}
