import BridgeClock
/// Chooses the delay tier for a failed attempt. Tiers are queues with a fixed TTL, so jitter is
/// applied by sometimes choosing the next tier up: concurrent failures spread over two delays
/// instead of returning as one wave (symfony/symfony#53328).
///
/// The wait is proportional to the outage: each attempt goes one tier further, but never to a tier
/// longer than the message has been failing (from `x-first-failed-at`), so three failures within
/// 35 s wait 30 s, not 30 min. A `Retry-After` still picks a tier at least that long. Because short
/// outages now use short tiers, giving up is decided by time too: a message is parked only once it
/// has had one attempt per tier and has been failing for as long as the whole schedule lasts.
public struct RetryPolicy: Sendable {
    public var tiers: [RetryTier]
    /// Probability of moving one tier up.
    public var jitter: Double

    /// How long a message keeps being retried after its first failure: by default the sum of the tiers' delays.
    public var budget: Duration

    public init(tiers: [RetryTier], jitter: Double = 0.25, budget: Duration? = nil) {
        self.tiers = tiers.sorted { $0.delay < $1.delay }
        self.jitter = jitter
        self.budget = budget ?? tiers.reduce(.zero) { $0 + $1.delay }
    }

    /// Attempts at least: the first one plus one per tier.
    public var maxAttempts: Int { tiers.count + 1 }

    public enum Decision: Equatable, Sendable {
        case retry(RetryTier)
        case exhausted
    }

    /// - Parameters:
    ///   - attempt: the number of the attempt that just failed (1 for a first delivery).
    ///   - failingFor: how long since the message's first failure (nil: unknown, the attempt alone decides).
    public func decide(failedAttempt attempt: Int, retryAfter: Duration?, failingFor: Duration? = nil,
                       random: Double = Double.random(in: 0..<1)) -> Decision {
        guard attempt >= 1, !tiers.isEmpty else { return .exhausted }
        if attempt > tiers.count {
            guard let failingFor, failingFor < budget else { return .exhausted }
        }
        var index = min(attempt, tiers.count) - 1
        if index + 1 < tiers.count, random < jitter { index += 1 }
        if let failingFor {
            // Never wait longer than the target has been failing (the shortest tier at least).
            let bound = tiers.lastIndex { $0.delay <= failingFor } ?? 0
            index = min(index, bound)
        }
        if let retryAfter, let longEnough = tiers.firstIndex(where: { $0.delay >= retryAfter }) {
            index = max(index, longEnough)
        } else if retryAfter != nil {
            index = tiers.count - 1
        }
        return .retry(tiers[index])
    }
}

public struct RetryTier: Sendable, Equatable, Hashable {
    public var queue: String
    public var delay: Duration

    public init(queue: String, delay: Duration) {
        self.queue = queue
        self.delay = delay
    }

    /// The stage's tier of this delay: `S.delay.30s`.
    public init(stage: String, delay: Duration) {
        self.init(queue: "\(stage).\(Self.infix).\(Self.label(delay))", delay: delay)
    }

    /// Tier queues are `<stage>.delay.<label>` (quorum). `<stage>.retry.<label>` were the classic tiers of
    /// earlier releases; see `Topology.retiredRetryTiers`.
    public static let infix = "delay"

    /// Whether `queue` is one of `stage`'s delay tiers.
    public static func isTier(_ queue: String, of stage: String) -> Bool {
        queue.hasPrefix("\(stage).\(infix).")
    }

    /// `5s`, `30s`, `5m`, `30m`, `200ms`: the suffix of the tier's queue name.
    public static func label(_ delay: Duration) -> String {
        let ms = delay.milliseconds
        if ms % 1000 != 0 { return "\(ms)ms" }
        let s = ms / 1000
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }

    public var milliseconds: Int64 { delay.milliseconds }
}
