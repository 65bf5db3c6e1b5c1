import BridgeClock
import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Delivers queued webhook events: signs each body, retries failures with exponential backoff,
/// and now and then sends a delivery twice, as real providers do.
public struct WebhookDispatcher: Service {
    public struct Policy: Sendable {
        /// First retry after this; doubled per attempt, capped at `maxDelay`.
        public var baseDelay: Duration = .seconds(1)
        public var maxDelay: Duration = .seconds(300)
        public var maxAttempts: Int = 8
        /// Share of successful deliveries that are sent a second time.
        public var duplicateRate: Double = 0.02
        public var requestTimeout: TimeInterval = 5
        public var pollInterval: Duration = .milliseconds(50)

        public init() {}

        public func delay(afterAttempt attempt: Int) -> Duration {
            let factor = 1 << min(max(attempt - 1, 0), 20)
            return min(baseDelay * factor, maxDelay)
        }
    }

    /// The policy, changeable while the dispatcher runs (`POST /admin/webhooks/policy`).
    public final class Settings: Sendable {
        private let current: Mutex<Policy>
        public init(_ policy: Policy) { current = Mutex(policy) }
        public var policy: Policy { current.withLock { $0 } }
        public func update(_ change: (inout Policy) -> Void) { current.withLock { change(&$0) } }

        public var json: JSONValue {
            let p = policy
            return [
                "base_delay_ms": .int(p.baseDelay.milliseconds),
                "max_attempts": .int(p.maxAttempts), "duplicate_rate": .number(Decimal(p.duplicateRate)),
            ]
        }
    }

    /// Extra headers for a body sent at an instant (the signatures, made again for every attempt).
    public typealias Signer = @Sendable (Data, Date) -> [String: String]

    let outbox: WebhookOutbox
    let settings: Settings
    var policy: Policy { settings.policy }
    let sign: Signer
    let clock: SimClock
    let logger: Logger

    public init(outbox: WebhookOutbox, settings: Settings, clock: SimClock, logger: Logger, sign: @escaping Signer) {
        self.outbox = outbox
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.sign = sign
    }

    public func run() async throws {
        let session = URLSession(configuration: .ephemeral)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let due = await (try? outbox.due(now: clock.now())) ?? []
            for delivery in due { await attempt(delivery, session: session) }
            if due.isEmpty {
                try? await Task.sleep(for: policy.pollInterval)
            }
        }
    }

    private func attempt(_ original: WebhookOutbox.Delivery, session: URLSession) async {
        let policy = self.policy
        var delivery = original
        delivery.attempts += 1
        let result = await post(delivery, session: session)
        switch result {
        case .success(let status):
            delivery.status = "delivered"
            delivery.lastStatus = status
            delivery.lastError = nil
            if policy.duplicateRate > 0, Double.random(in: 0..<1) < policy.duplicateRate {
                _ = await post(delivery, session: session)
                delivery.duplicatesSent += 1
            }
        case .failure(let status, let reason):
            delivery.lastStatus = status
            delivery.lastError = reason
            if delivery.attempts >= policy.maxAttempts {
                delivery.status = "failed"
            } else {
                let wait = policy.delay(afterAttempt: delivery.attempts)
                let seconds = wait.seconds
                delivery.nextAttemptAt = clock.now().addingTimeInterval(seconds)
            }
            logger.info(
                "webhook delivery failed",
                metadata: ["event": "\(delivery.event)", "url": "\(delivery.url)", "attempt": "\(delivery.attempts)",
                    "reason": "\(reason)"])
        }
        do { try await outbox.save(delivery) } catch {
            logger.error("could not record webhook delivery", metadata: ["error": "\(error)"])
        }
    }

    enum PostResult {
        case success(Int)
        case failure(Int?, String)
    }

    private func post(_ delivery: WebhookOutbox.Delivery, session: URLSession) async -> PostResult {
        guard let url = URL(string: delivery.url) else { return .failure(nil, "invalid URL") }
        var request = URLRequest(url: url, timeoutInterval: settings.policy.requestTimeout)
        request.httpMethod = "POST"
        request.httpBody = delivery.body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(delivery.eventId, forHTTPHeaderField: "X-Webhook-Id")
        request.setValue(delivery.event, forHTTPHeaderField: "X-Webhook-Event")
        request.setValue(String(delivery.attempts), forHTTPHeaderField: "X-Webhook-Attempt")
        for (name, value) in sign(delivery.body, clock.now()) { request.setValue(value, forHTTPHeaderField: name) }
        do {
            let (_, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return (200..<300).contains(status) ? .success(status) : .failure(status, "HTTP \(status)")
        } catch {
            return .failure(nil, "\(error.localizedDescription)")
        }
    }
}

/// The two signature schemes the simulators send.
public enum WebhookSignature {
    /// GP-API `X-GP-Signature`: lowercase hex SHA-512 of (raw body + app key). Not an HMAC.
    public static func gpSignature(body: Data, appKey: String) -> String {
        hex(SHA512.hash(data: body + Data(appKey.utf8)))
    }

    /// `X-Heartland-Signature: t=<unix seconds>,sha256=<hex HMAC-SHA256(secret, "<t>." + raw body)>`
    /// (invented; see SIMULATORS.md): the time of the attempt is signed with the body, so a receiver
    /// can refuse a delivery replayed later.
    public static func heartlandSignature(body: Data, secret: String, at timestamp: Date) -> String {
        let t = Int(timestamp.timeIntervalSince1970.rounded(.down))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(t).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(t),sha256=" + hex(mac)
    }

    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
