import Foundation
import Synchronization

/// Runs `work` on a thread of its own, not on the cooperative pool the console answers from (one thread per core: a
/// check's seconds or minutes of CPU there would hold every request). Work that is async (the backtest's in-memory feature
/// store) runs there too, between its awaits: `work` and the nonisolated async functions it calls prefer this thread's
/// executor (SE-0417); an actor's own code still runs on the actor.
func offThePool<T: Sendable, Failure: Error>(_ work: @Sendable () async throws(Failure) -> T) async throws(Failure) -> T {
    let thread = ThreadOfItsOwn()
    defer { thread.finish() }
    return try await withTaskExecutorPreference(thread, isolation: nil, operation: work)
}

/// A task executor with one thread, which runs the jobs enqueued on it in order until it is finished.
private final class ThreadOfItsOwn: TaskExecutor {
    private struct Queue: Sendable {
        var jobs: [UnownedJob] = []
        var finished = false
    }

    /// Changed only with `wake` locked, so that the thread, which looks at it with `wake` locked, never sleeps through a job.
    private let queue = Mutex(Queue())
    private let wake = NSCondition()

    init() {
        let thread = Thread { [self] in
            while let job = next() { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
        thread.name = "off-the-pool"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        change { $0.jobs.append(job) }
    }

    /// Lets the thread end once it has run the jobs enqueued so far.
    func finish() {
        change { $0.finished = true }
    }

    private func change(_ body: (inout Queue) -> Void) {
        wake.lock()
        queue.withLock { body(&$0) }
        wake.signal()
        wake.unlock()
    }

    /// The next job, waiting for it; nil once finished and none is left.
    private func next() -> UnownedJob? {
        wake.lock()
        defer { wake.unlock() }
        while true {
            let (job, finished) = queue.withLock { queue in (queue.jobs.isEmpty ? nil : queue.jobs.removeFirst(), queue.finished) }
            if job != nil || finished { return job }
            wake.wait()  // blocking-ok: the executor's own thread, waiting for its next job
        }
    }
}
