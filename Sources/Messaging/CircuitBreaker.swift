/// Pauses a stage whose target keeps failing, instead of cycling the whole queue through the
/// retry tiers (ARCHITECTURE.md, stage runner). Closed → open after `threshold` consecutive
/// transient failures → half-open after the pause (one message probes) → closed on success.
public struct CircuitBreaker: Sendable {
    public enum State: Equatable, Sendable { case closed, open(until: ContinuousClock.Instant), halfOpen }

    public var threshold: Int
    public var basePause: Duration
    public var maxPause: Duration
    public private(set) var state: State = .closed
    public private(set) var consecutiveFailures = 0
    /// How many times in a row it opened without a success in between.
    public private(set) var consecutiveOpens = 0

    public init(threshold: Int = 5, basePause: Duration = .seconds(15), maxPause: Duration = .seconds(300)) {
        self.threshold = threshold
        self.basePause = basePause
        self.maxPause = maxPause
    }

    public mutating func recordSuccess() {
        consecutiveFailures = 0
        consecutiveOpens = 0
        state = .closed
    }

    /// Returns the pause to take now, if this failure opens the circuit.
    public mutating func recordTransientFailure(retryAfter: Duration?, now: ContinuousClock.Instant) -> Duration? {
        // Failures of messages handled together with the one that opened it belong to the same episode.
        if case .open = state { return nil }
        consecutiveFailures += 1
        let opens = state == .halfOpen || consecutiveFailures >= threshold || retryAfter != nil && consecutiveFailures >= 2
        guard opens else { return nil }
        var pause = basePause
        for _ in 0..<min(consecutiveOpens, 8) { pause = pause * 2 }
        pause = min(pause, maxPause)
        if let retryAfter {
            // The target said when to come back: the first pause is exactly that; if it keeps refusing,
            // the growing pause applies, never shorter than what it asked for.
            pause = consecutiveOpens == 0 ? retryAfter : max(pause, retryAfter)
        }
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
