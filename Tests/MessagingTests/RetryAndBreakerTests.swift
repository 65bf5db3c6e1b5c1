import Testing
@testable import Messaging

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(tiers: [5, 30, 300, 1800].map { RetryTier(queue: "s.retry.\($0)", delay: .seconds($0)) }, jitter: 0.25)

    @Test func eachFailedAttemptGoesOneTierFurther() {
        #expect(policy.decide(failedAttempt: 1, retryAfter: nil, random: 0.9) == .retry(policy.tiers[0]))
        #expect(policy.decide(failedAttempt: 2, retryAfter: nil, random: 0.9) == .retry(policy.tiers[1]))
        #expect(policy.decide(failedAttempt: 4, retryAfter: nil, random: 0.9) == .retry(policy.tiers[3]))
        #expect(policy.decide(failedAttempt: 5, retryAfter: nil, random: 0.9) == .exhausted)
        #expect(policy.maxAttempts == 5)
    }

    @Test func jitterSometimesChoosesTheNextTierButNeverBeyondTheLast() {
        #expect(policy.decide(failedAttempt: 1, retryAfter: nil, random: 0.1) == .retry(policy.tiers[1]))
        #expect(policy.decide(failedAttempt: 4, retryAfter: nil, random: 0.1) == .retry(policy.tiers[3]))
    }

    @Test func retryAfterPicksATierAtLeastThatLong() {
        #expect(policy.decide(failedAttempt: 1, retryAfter: .seconds(20), random: 0.9) == .retry(policy.tiers[1]))
        #expect(policy.decide(failedAttempt: 1, retryAfter: .seconds(30), random: 0.9) == .retry(policy.tiers[1]))
        #expect(policy.decide(failedAttempt: 1, retryAfter: .seconds(7200), random: 0.9) == .retry(policy.tiers[3]))
        #expect(policy.decide(failedAttempt: 3, retryAfter: .seconds(1), random: 0.9) == .retry(policy.tiers[2]), "never shorter than the attempt's tier")
    }

    /// Three failures within 35 s: the third waits 30 s, not 5 or 30 min (the attempt alone would say 5 min,
    /// and jitter 30 min). The wait is never longer than the message has been failing.
    @Test func aShortOutageNeverReachesTheLongTiers() {
        #expect(policy.decide(failedAttempt: 3, retryAfter: nil, failingFor: .seconds(35), random: 0.1) == .retry(policy.tiers[1]))
        #expect(policy.decide(failedAttempt: 2, retryAfter: nil, failingFor: .seconds(6), random: 0.9) == .retry(policy.tiers[0]))
        #expect(policy.decide(failedAttempt: 1, retryAfter: nil, failingFor: .zero, random: 0.1) == .retry(policy.tiers[0]))
        #expect(policy.decide(failedAttempt: 4, retryAfter: nil, failingFor: .seconds(400), random: 0.9) == .retry(policy.tiers[2]))
        #expect(policy.decide(failedAttempt: 4, retryAfter: nil, failingFor: .seconds(4000), random: 0.9) == .retry(policy.tiers[3]))
        #expect(policy.decide(failedAttempt: 1, retryAfter: .seconds(20), failingFor: .zero, random: 0.9) == .retry(policy.tiers[1]),
                "Retry-After still picks a tier at least that long")
    }

    /// Short tiers make attempts cheap, so giving up is decided by time: parked only after one attempt per tier
    /// and as long a failure as the whole schedule (5 s + 30 s + 5 min + 30 min).
    @Test func givesUpOnlyAfterFailingForTheWholeSchedule() {
        #expect(policy.budget == .seconds(2135))
        #expect(policy.decide(failedAttempt: 5, retryAfter: nil, failingFor: .seconds(60), random: 0.9) == .retry(policy.tiers[1]))
        #expect(policy.decide(failedAttempt: 9, retryAfter: nil, failingFor: .seconds(1000), random: 0.9) == .retry(policy.tiers[2]))
        #expect(policy.decide(failedAttempt: 5, retryAfter: nil, failingFor: .seconds(2135), random: 0.9) == .exhausted)
        #expect(policy.decide(failedAttempt: 4, retryAfter: nil, failingFor: .seconds(9000), random: 0.9) == .retry(policy.tiers[3]))
    }

    @Test func tierLabels() {
        #expect(RetryTier.label(.seconds(5)) == "5s")
        #expect(RetryTier.label(.seconds(300)) == "5m")
        #expect(RetryTier.label(.seconds(7200)) == "2h")
        #expect(RetryTier.label(.milliseconds(300)) == "300ms")
    }
}

@Suite struct CircuitBreakerTests {
    @Test func opensAfterThresholdConsecutiveFailuresAndDoublesItsPause() {
        var breaker = CircuitBreaker(threshold: 3, basePause: .seconds(10), maxPause: .seconds(60))
        let now = ContinuousClock.now
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == nil)
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == nil)
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == .seconds(10))
        breaker.pauseEnded()
        #expect(breaker.isHalfOpen)
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == nil, "one unlucky probe does not re-open it")
        #expect(breaker.isHalfOpen)
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == nil)
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == .seconds(20), "as many failed probes as opened it: longer")
        breaker.pauseEnded()
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
        #expect(breaker.consecutiveOpens == 0)
    }

    @Test func successResetsTheCount() {
        var breaker = CircuitBreaker(threshold: 2)
        let now = ContinuousClock.now
        _ = breaker.recordTransientFailure(retryAfter: nil, now: now)
        breaker.recordSuccess()
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == nil)
    }

    @Test func rateLimitPausesAtLeastRetryAfter() {
        var breaker = CircuitBreaker(threshold: 5, basePause: .seconds(1))
        let now = ContinuousClock.now
        _ = breaker.recordTransientFailure(retryAfter: .seconds(42), now: now)
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(42), now: now) == .seconds(42))
    }

    /// A 429 with `Retry-After: 3` pauses exactly 3 s the first time (not the default pause); if the target
    /// keeps refusing, or a probe meets a 5xx, the pause doubles from there (3, 6, 12 s, not 3, 30, 60, 120 s),
    /// never below what it asked for, and the first success starts again from the beginning.
    @Test func firstRateLimitPauseIsRetryAfterThenItGrowsFromThere() {
        var breaker = CircuitBreaker(threshold: 1, basePause: .seconds(15), maxPause: .seconds(60))
        let now = ContinuousClock.now
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(3), now: now) == .seconds(3))
        breaker.pauseEnded()
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == .seconds(6), "a probe meeting a 5xx")
        breaker.pauseEnded()
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(3), now: now) == .seconds(12))
        breaker.pauseEnded()
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(400), now: now) == .seconds(400))
        #expect(breaker.consecutiveOpens == 4)
        breaker.pauseEnded()
        breaker.recordSuccess()
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(3), now: now) == .seconds(3), "reset by the success")
    }

    /// Without a Retry-After: the short default, then doubling, bounded by the maximum.
    @Test func pauseGrowsByABoundedFactor() {
        var breaker = CircuitBreaker(threshold: 1)
        let now = ContinuousClock.now
        var pauses: [Duration] = []
        for _ in 0..<8 {
            pauses.append(breaker.recordTransientFailure(retryAfter: nil, now: now) ?? .zero)
            breaker.pauseEnded()
        }
        #expect(pauses == [2, 4, 8, 16, 32, 60, 60, 60].map { .seconds($0) })
    }
}
