/// Writes to one record one at a time: the handlers of a heartland-loader (up to 8 at once) queue per record,
/// in arrival order, so that a "read, then adjust by the difference" of one item's stock is never raced.
/// heartland-loader runs as one replica (docs/DEPLOYMENT.md); across replicas this would need a lock the
/// replicas share.
actor RecordLocks {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    nonisolated func withLock<T: Sendable>(_ record: String, _ body: () async throws -> T) async throws -> T {
        await acquire(record)
        do {
            let result = try await body()
            await release(record)
            return result
        } catch {
            await release(record)
            throw error
        }
    }

    private func acquire(_ record: String) async {
        if waiting[record] == nil {
            waiting[record] = []
            return
        }
        await withCheckedContinuation { waiting[record, default: []].append($0) }
    }

    private func release(_ record: String) {
        guard var queue = waiting[record] else { return }
        if queue.isEmpty {
            waiting[record] = nil
        } else {
            queue.removeFirst().resume()
            waiting[record] = queue
        }
    }
}
