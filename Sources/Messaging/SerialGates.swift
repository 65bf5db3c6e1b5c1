/// Lets one task at a time through a section of async code per key, in arrival order, without blocking a thread (a
/// waiting task is suspended, never parked on a lock: the cooperative pool has two threads here). Tasks with different
/// keys do not wait for each other. Within one process only: replicas of a stage would need a lock they share.
///
/// Used where a stage's handlers (up to `--concurrency` at once) must not interleave on one thing: a heartland-loader's
/// writes to one record ("read, then adjust by the difference"), a loader's customer searches, the fraud scorer's feed
/// events of one store (a run's members and its flag see each other whatever order they are scored in).
public actor SerialGates {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// Runs `body` once every earlier task of `key` has left.
    public nonisolated func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await enter(key)
        do {
            let result = try await body()
            await leave(key)
            return result
        } catch {
            await leave(key)
            throw error
        }
    }

    private func enter(_ key: String) async {
        guard waiting[key] != nil else {
            waiting[key] = []
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    private func leave(_ key: String) {
        guard var queue = waiting[key] else { return }
        if queue.isEmpty {
            waiting[key] = nil
        } else {
            queue.removeFirst().resume()
            waiting[key] = queue
        }
    }
}
