import Foundation
import Synchronization

/// A token bucket per client (keyed by credential). Over the limit the caller gets 429 with
/// `Retry-After` in whole seconds.
public final class RateLimiter: Sendable {
    public struct Limit: Sendable, Equatable {
        public var perSecond: Double
        public var burst: Double
        public var enabled: Bool

        public init(perSecond: Double = 50, burst: Double = 200, enabled: Bool = true) {
            self.perSecond = perSecond
            self.burst = burst
            self.enabled = enabled
        }

        /// `RATE/BURST`, e.g. `20/100`; `off` disables.
        public init?(flag: String) {
            if flag == "off" { self.init(enabled: false); return }
            let parts = flag.split(separator: "/")
            guard parts.count == 2, let rate = Double(parts[0]), let burst = Double(parts[1]), rate > 0, burst >= 1
            else { return nil }
            self.init(perSecond: rate, burst: burst)
        }

        public var json: JSONValue {
            ["per_second": .number(Decimal(perSecond)), "burst": .number(Decimal(burst)), "enabled": .bool(enabled)]
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private struct State {
        var limit: Limit
        var buckets: [String: Bucket] = [:]
    }

    private let state: Mutex<State>

    public init(limit: Limit = Limit()) {
        state = Mutex(State(limit: limit))
    }

    public var limit: Limit { state.withLock { $0.limit } }

    public func configure(_ limit: Limit) {
        state.withLock { $0 = State(limit: limit) }
    }

    /// Nil when allowed, otherwise the seconds to wait.
    public func take(client: String, now: Date = Date()) -> Int? {
        state.withLock { state in
            let limit = state.limit
            guard limit.enabled else { return nil }
            var bucket = state.buckets[client] ?? Bucket(tokens: limit.burst, updated: now)
            let elapsed = max(0, now.timeIntervalSince(bucket.updated))
            bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
            bucket.updated = now
            defer { state.buckets[client] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / limit.perSecond).rounded(.up)))
        }
    }
}
