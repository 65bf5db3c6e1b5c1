import Crypto
import Foundation
import Messaging

/// Verifies Heartland webhook deliveries before anything is recorded or published.
///
/// `X-Heartland-Signature: t=<unix seconds>,sha256=<hex HMAC-SHA256(webhook secret, "<t>." + raw body)>`
/// is required: the timestamp is signed with the body, and a delivery signed more than `maxAge`
/// (default 5 minutes) before now, or as far ahead, is refused, so a captured delivery cannot be
/// replayed later. The webhook secret is its own secret, never the app key. `X-GP-Signature`
/// (lowercase hex SHA-512(raw body + app key), the GP-API scheme, not an HMAC, and without a
/// timestamp) is checked too when present, but is never enough alone. Signatures are compared in
/// constant time. The raw body is verified as received, then scrubbed of card numbers and decoded.
public struct WebhookVerifier: Sendable {
    public enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        case missingSignature
        case badSignature(header: String)
        case malformedSignature(header: String)
        /// Signed `ageSeconds` before now (negative: ahead of now), outside the window.
        case stale(ageSeconds: Int)
        case undecodableBody(String)

        public var description: String {
            switch self {
            case .missingSignature: "no X-Heartland-Signature header (t=<unix seconds>,sha256=<hex>): the timestamped signature is required"
            case .stale(let age): age >= 0 ? "signed \(age) s ago, outside the window: a late or replayed delivery"
                : "signed \(-age) s in the future, outside the window: check the sender's clock"
            case .badSignature(let header): "\(header) does not match the body"
            case .malformedSignature(let header): "\(header) is not a hex digest"
            case .undecodableBody(let detail): "signed body is not a Heartland event: \(detail)"
            }
        }
    }

    /// A verified delivery: the event and the inbox key.
    public struct Verified: Sendable, Hashable {
        public let event: WebhookEvent
        /// `X-Webhook-Id` (same on retries and duplicates) or the body's `id`.
        public let deliveryId: String
        public var eventId: String { event.id }
        public var eventType: WebhookEventType { event.type }
        public var idempotencyKey: HeartlandIdempotencyKey { event.idempotencyKey }
    }

    public static let gpSignatureHeader = "X-GP-Signature"
    public static let heartlandSignatureHeader = "X-Heartland-Signature"

    /// How far the signed timestamp may be from now, either way.
    public static let defaultMaxAge: TimeInterval = 5 * 60

    private let appKey: String
    private let webhookSecret: String
    public let maxAge: TimeInterval

    /// - Parameters:
    ///   - appKey: the GP-API app key (`X-GP-Signature`, when present).
    ///   - webhookSecret: the HMAC key of `X-Heartland-Signature` (`HEARTLAND_WEBHOOK_SECRET`).
    ///   - maxAge: the window around now the signed timestamp must fall in.
    public init(appKey: String, webhookSecret: String, maxAge: TimeInterval = defaultMaxAge) {
        self.appKey = appKey
        self.webhookSecret = webhookSecret
        self.maxAge = maxAge
    }

    /// Checks the signatures and the signed timestamp against `now`. `header` looks a header up case-insensitively.
    public func checkSignature(body: Data, now: Date, header: (String) -> String?) throws(Rejection) {
        guard let heartland = header(Self.heartlandSignatureHeader) else { throw .missingSignature }
        var timestamp: Int?
        var digest: [UInt8]?
        for part in heartland.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if part.hasPrefix("t=") { timestamp = Int(part.dropFirst(2)) }
            if part.lowercased().hasPrefix("sha256=") { digest = Self.bytes(hex: String(part.dropFirst(7))) }
        }
        guard let timestamp, let digest else { throw .malformedSignature(header: Self.heartlandSignatureHeader) }
        let expected = Array(HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).".utf8) + body, using: SymmetricKey(data: Data(webhookSecret.utf8))))
        guard Self.constantTimeEqual(digest, expected) else { throw .badSignature(header: Self.heartlandSignatureHeader) }
        let age = Int(now.timeIntervalSince1970.rounded(.down)) - timestamp
        guard Double(abs(age)) <= maxAge else { throw .stale(ageSeconds: age) }
        if let gp = header(Self.gpSignatureHeader) {
            guard let given = Self.bytes(hex: gp) else { throw .malformedSignature(header: Self.gpSignatureHeader) }
            let expected = Array(SHA512.hash(data: body + Data(appKey.utf8)))
            guard Self.constantTimeEqual(given, expected) else { throw .badSignature(header: Self.gpSignatureHeader) }
        }
    }

    /// Checks the signatures and their age, then decodes the event.
    public func verify(body: Data, now: Date, header: (String) -> String?) throws(Rejection) -> Verified {
        try checkSignature(body: body, now: now, header: header)
        let event: WebhookEvent
        do {
            event = try JSONDecoder().decode(WebhookEvent.self, from: CardMask.scrub(body).body)
        } catch {
            throw .undecodableBody(URLSessionHeartlandClient.describe(error))
        }
        guard !event.id.isEmpty, !event.type.rawValue.isEmpty else { throw .undecodableBody("missing id or event") }
        let delivery = header("X-Webhook-Id").flatMap { $0.isEmpty ? nil : $0 } ?? event.id
        return Verified(event: event, deliveryId: delivery)
    }

    /// Convenience for a header dictionary.
    public func verify(body: Data, headers: [String: String], now: Date = Date()) throws(Rejection) -> Verified {
        try verify(body: body, now: now) { name in headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func bytes(hex: String) -> [UInt8]? {
        let characters = Array(hex.trimmingCharacters(in: .whitespaces).utf8)
        guard !characters.isEmpty, characters.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
