import Foundation
import Synchronization

/// A check run off the console's request (docs/MAPPING.md, "Cost"): the mapping check and the fraud rules' backtest try
/// every kept batch of the window, minutes for a merchant with many stores, longer than a request may be held. A check is
/// one job per exact input (everything its result depends on), so asking again (the page reloading itself, or a
/// save) finds the same job, running with its progress or done with its result; a change to any input is a new job. Jobs
/// are kept in memory, a few at a time: a restarted console checks again.
public actor CheckJobs<Input: Hashable & Sendable, Outcome: Sendable> {
    /// What a check is run on; two equal keys give the same check.
    public typealias Key = Input

    public enum Status: Sendable {
        /// `tried` of `total` kept batches (and pay runs) tried so far.
        case running(tried: Int, total: Int)
        case finished(Outcome)
        case failed(String)
    }

    final class Job: Sendable {
        let state = Mutex<Status>(.running(tried: 0, total: 0))
        let started = ContinuousClock.now
    }

    private var jobs: [Key: Job] = [:]
    /// How many finished jobs are kept (the oldest are forgotten first).
    let keep: Int

    public init(keep: Int = 8) { self.keep = keep }

    /// The check of `key`: started with `run` unless a job for it runs or has finished (a failed one is started again),
    /// then awaited at most `wait`.
    public func status(of key: Key, wait: Duration,
                       run: @escaping @Sendable (_ progress: @escaping @Sendable (_ tried: Int, _ total: Int) -> Void) async throws -> Outcome) async -> Status {
        let job: Job
        if let known = jobs[key], known.state.withLock({ if case .failed = $0 { false } else { true } }) {
            job = known
        } else {
            job = Job()
            jobs[key] = job
            forgetOld()
            Task {
                let progress: @Sendable (Int, Int) -> Void = { tried, total in
                    job.state.withLock { if case .running = $0 { $0 = .running(tried: tried, total: total) } }
                }
                let outcome: Status
                do { outcome = .finished(try await run(progress)) } catch { outcome = .failed("\(error)") }
                job.state.withLock { $0 = outcome }
            }
        }
        let deadline = ContinuousClock.now + wait
        while true {
            let status = job.state.withLock { $0 }
            if case .running = status, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            return status
        }
    }

    private func forgetOld() {
        let finished = jobs.filter { $0.value.state.withLock { if case .running = $0 { false } else { true } } }
        guard finished.count > keep else { return }
        for (key, _) in finished.sorted(by: { $0.value.started < $1.value.started }).prefix(finished.count - keep) { jobs[key] = nil }
    }
}

extension CheckJobs.Status: Equatable where Outcome: Equatable {}
