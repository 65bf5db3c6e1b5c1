import Foundation
import Synchronization

/// Decides, per request, which fault from the current plan applies. Holds the plan set at
/// runtime, the remaining 429 burst and the end of a downtime window.
public final class FaultInjector: Sendable {
    public enum Outcome: Sendable, Equatable {
        case proceed(malformed: Bool)
        case down
        case tooManyRequests(retryAfter: Int)
        case serverError(status: Int, message: String?)
        case hang(seconds: Int)
    }

    private struct State {
        var plan = FaultPlan()
        var burstRemaining = 0
        var errorBurstRemaining = 0
        var downUntil: Date?
    }

    private let state = Mutex(State())
    private let clock: SimClock

    public init(plan: FaultPlan = FaultPlan(), clock: SimClock) {
        self.clock = clock
        apply(plan)
    }

    public var plan: FaultPlan { state.withLock { $0.plan } }

    public func apply(_ plan: FaultPlan) {
        let now = clock.now()
        state.withLock { state in
            state.plan = plan
            state.burstRemaining = plan.rateLimitBurst
            state.errorBurstRemaining = plan.errorBurst
            state.downUntil = plan.downtimeSeconds > 0 ? now.addingTimeInterval(TimeInterval(plan.downtimeSeconds)) : nil
        }
    }

    public func clear() { apply(FaultPlan()) }

    /// Milliseconds of latency to add to this request.
    public func latencyMs() -> Int {
        let plan = self.plan
        guard plan.latencyJitterMs > 0 else { return plan.latencyMs }
        return plan.latencyMs + Int.random(in: 0...plan.latencyJitterMs)
    }

    public func decide() -> Outcome {
        let now = clock.now()
        return state.withLock { state in
            let plan = state.plan
            if let until = state.downUntil, now < until { return .down }
            if state.burstRemaining > 0 {
                state.burstRemaining -= 1
                return .tooManyRequests(retryAfter: plan.retryAfterSeconds)
            }
            if state.errorBurstRemaining > 0 {
                state.errorBurstRemaining -= 1
                return .serverError(status: plan.errorStatus, message: plan.errorMessage)
            }
            if plan.timeoutRate > 0, Double.random(in: 0..<1) < plan.timeoutRate {
                return .hang(seconds: plan.timeoutSeconds)
            }
            if plan.errorRate > 0, Double.random(in: 0..<1) < plan.errorRate {
                return .serverError(status: plan.errorStatus, message: plan.errorMessage)
            }
            return .proceed(malformed: plan.malformedRate > 0 && Double.random(in: 0..<1) < plan.malformedRate)
        }
    }

    public var statusJSON: JSONValue {
        let now = clock.now()
        return state.withLock { state in
            let remaining = state.downUntil.map { max(0, Int($0.timeIntervalSince(now).rounded(.up))) } ?? 0
            return state.plan.json
                .setting("rate_limit_burst_remaining", .int(state.burstRemaining))
                .setting("error_burst_remaining", .int(state.errorBurstRemaining))
                .setting("downtime_remaining_seconds", .int(remaining))
        }
    }
}
