import Crypto
import Foundation
import Messaging

/// Verifies Heartland webhook deliveries before anything is recorded or published:
/// `X-GP-Signature` = lowercase hex SHA-512(raw body + app key) (the GP-API scheme, not an HMAC) and
/// `X-Heartland-Signature: sha256=<hex HMAC-SHA256(webhook secret, raw body)>`. At least one must be
/// present; every one present must match (compared in constant time). The raw body is verified as
/// received, then scrubbed of card numbers and decoded.
public struct WebhookVerifier: Sendable {
    public enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        case missingSignature
        case badSignature(header: String)
        case malformedSignature(header: String)
        case undecodableBody(String)

        public var description: String {
            switch self {
            case .missingSignature: "no X-GP-Signature or X-Heartland-Signature header"
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

    private let appKey: String
    private let webhookSecret: String

    /// - Parameters:
    ///   - appKey: the GP-API app key (`X-GP-Signature`).
    ///   - webhookSecret: the HMAC key of `X-Heartland-Signature` (defaults to the app key).
    public init(appKey: String, webhookSecret: String? = nil) {
        self.appKey = appKey
        self.webhookSecret = webhookSecret ?? appKey
    }

    /// Checks the signatures only. `header` looks a header up case-insensitively.
    public func checkSignature(body: Data, header: (String) -> String?) throws(Rejection) {
        let gp = header(Self.gpSignatureHeader)
        let heartland = header(Self.heartlandSignatureHeader)
        guard gp != nil || heartland != nil else { throw .missingSignature }
        if let gp {
            guard let given = Self.bytes(hex: gp) else { throw .malformedSignature(header: Self.gpSignatureHeader) }
            let expected = Array(SHA512.hash(data: body + Data(appKey.utf8)))
            guard Self.constantTimeEqual(given, expected) else { throw .badSignature(header: Self.gpSignatureHeader) }
        }
        if let heartland {
            let trimmed = heartland.trimmingCharacters(in: .whitespaces)
            guard trimmed.lowercased().hasPrefix("sha256="), let given = Self.bytes(hex: String(trimmed.dropFirst(7))) else {
                throw .malformedSignature(header: Self.heartlandSignatureHeader)
            }
            let expected = Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(webhookSecret.utf8))))
            guard Self.constantTimeEqual(given, expected) else { throw .badSignature(header: Self.heartlandSignatureHeader) }
        }
    }

    /// Checks the signatures, then decodes the event.
    public func verify(body: Data, header: (String) -> String?) throws(Rejection) -> Verified {
        try checkSignature(body: body, header: header)
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
    public func verify(body: Data, headers: [String: String]) throws(Rejection) -> Verified {
        try verify(body: body) { name in headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value }
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
