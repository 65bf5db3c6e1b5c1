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
        #expect(breaker.recordTransientFailure(retryAfter: nil, now: now) == .seconds(20), "a failed probe re-opens for longer")
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

    /// A 429 with `Retry-After: 2` pauses exactly 2 s the first time (not the 15 s default pause);
    /// if the target keeps refusing, the doubling pause takes over, never below what it asked for.
    @Test func firstRateLimitPauseIsRetryAfterThenItGrows() {
        var breaker = CircuitBreaker(threshold: 5, basePause: .seconds(15), maxPause: .seconds(300))
        let now = ContinuousClock.now
        _ = breaker.recordTransientFailure(retryAfter: .seconds(2), now: now)
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(2), now: now) == .seconds(2))
        breaker.pauseEnded()
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(2), now: now) == .seconds(30))
        breaker.pauseEnded()
        #expect(breaker.recordTransientFailure(retryAfter: .seconds(400), now: now) == .seconds(400))
        #expect(breaker.consecutiveOpens == 3)
    }
}
