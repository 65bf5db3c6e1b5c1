/// Pauses a stage whose target keeps failing, instead of cycling the whole queue through the
/// retry tiers (ARCHITECTURE.md, stage runner). Closed → open after `threshold` consecutive
/// transient failures → half-open after the pause (messages one at a time) → closed on the first
/// success, open again after `threshold` consecutive failures.
///
/// The pause is proportional to the outage: the first is the target's `Retry-After` or the short
/// `basePause`; each re-opening without a success in between multiplies the previous pause by
/// `growth` (at most `maxPause`, never below a `Retry-After`); the first success resets it. Each pause
/// is then about as long as all the earlier ones together, so a stage sits idle after the target has
/// recovered for at most about as long as the target had been failing, and never more than `maxPause`.
public struct CircuitBreaker: Sendable {
    public enum State: Equatable, Sendable { case closed, open(until: ContinuousClock.Instant), halfOpen }

    public var threshold: Int
    public var basePause: Duration
    public var maxPause: Duration
    /// Factor from one pause to the next while the target keeps failing.
    public var growth: Int
    public private(set) var state: State = .closed
    public private(set) var consecutiveFailures = 0
    /// How many times in a row it opened without a success in between.
    public private(set) var consecutiveOpens = 0
    /// The pause of the last opening in this run of failures (nil once a message succeeded).
    public private(set) var lastPause: Duration?

    public init(threshold: Int = 5, basePause: Duration = .seconds(2), maxPause: Duration = .seconds(60), growth: Int = 2) {
        self.threshold = threshold
        self.basePause = basePause
        self.maxPause = maxPause
        self.growth = max(1, growth)
    }

    public mutating func recordSuccess() {
        consecutiveFailures = 0
        consecutiveOpens = 0
        lastPause = nil
        state = .closed
    }

    /// Returns the pause to take now, if this failure opens the circuit.
    public mutating func recordTransientFailure(retryAfter: Duration?, now: ContinuousClock.Instant) -> Duration? {
        // Failures of messages handled together with the one that opened it belong to the same episode.
        if case .open = state { return nil }
        consecutiveFailures += 1
        // Half-open, messages go one at a time, and it takes as many failures in a row to re-open as it took to
        // open: a target failing one request in five must not be paused longer each time one probe is unlucky,
        // while a target that is down fails `threshold` probes in a row within moments.
        let opens = consecutiveFailures >= threshold || retryAfter != nil && consecutiveFailures >= 2
        guard opens else { return nil }
        // The target said when to come back: the first pause is exactly that; if it keeps refusing, the
        // growing pause applies (grown from the previous pause, not from a default), never shorter than asked.
        var pause = lastPause.map { min($0 * growth, max(maxPause, $0)) } ?? (retryAfter ?? basePause)
        if let retryAfter { pause = max(pause, retryAfter) }
        lastPause = pause
        consecutiveOpens += 1
        consecutiveFailures = 0
        state = .open(until: now + pause)
        return pause
    }

    /// Called when the pause is over: the next message is a probe.
    public mutating func pauseEnded() {
        if case .open = state { state = .halfOpen }
    }

    public var isHalfOpen: Bool { state == .halfOpen }
}
