/// Publisher-confirm bookkeeping for one channel: which batch each sequence number belongs to,
/// `multiple` acks, nacks, returns matched by message id, and deadlines. Owned by the session thread.
struct ConfirmTracker {
    final class Batch {
        var remaining: Int
        var error: AMQPError?
        let deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>?

        init(remaining: Int, deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Void, any Error>) {
            self.remaining = remaining
            self.deadline = deadline
            self.continuation = continuation
        }

        func settle() {
            guard let continuation else { return }
            self.continuation = nil
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        }
    }

    private var nextSequence: UInt64 = 1
    /// Unconfirmed publishes in sequence order.
    private var outstanding: [(sequence: UInt64, batch: Batch, messageID: String)] = []
    private var head = 0
    private var batches: [ObjectIdentifier: Batch] = [:]

    mutating func begin(count: Int, deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Void, any Error>) -> Batch {
        let batch = Batch(remaining: count, deadline: deadline, continuation: continuation)
        batches[ObjectIdentifier(batch)] = batch
        return batch
    }

    mutating func published(batch: Batch, messageID: String) {
        outstanding.append((nextSequence, batch, messageID))
        nextSequence += 1
    }

    mutating func acknowledge(tag: UInt64, multiple: Bool, error: AMQPError?) {
        if multiple {
            while head < outstanding.count, outstanding[head].sequence <= tag {
                confirm(outstanding[head], error: error)
                head += 1
            }
        } else if let index = indexOf(tag) {
            confirm(outstanding[index], error: error)
            outstanding.remove(at: index)
        }
        compact()
    }

    /// A basic.return precedes the ack of the same message: remember the failure for its batch.
    mutating func returned(messageID: String, exchange: String, routingKey: String) {
        for entry in outstanding[head...] where entry.messageID == messageID {
            entry.batch.error = .unroutable(exchange: exchange, routingKey: routingKey, messageID: messageID)
        }
    }

    mutating func fail(_ batch: Batch, _ error: AMQPError) {
        batch.error = error
        batch.settle()
        batches[ObjectIdentifier(batch)] = nil
    }

    mutating func expire(now: ContinuousClock.Instant) {
        for batch in batches.values where batch.deadline < now {
            fail(batch, .confirmTimeout(pending: batch.remaining))
        }
    }

    mutating func failAll(_ error: AMQPError) {
        for batch in batches.values { fail(batch, error) }
        outstanding.removeAll()
        head = 0
    }

    private mutating func confirm(_ entry: (sequence: UInt64, batch: Batch, messageID: String), error: AMQPError?) {
        let batch = entry.batch
        if let error, batch.error == nil {
            batch.error = error == .publishNacked(messageID: "") ? .publishNacked(messageID: entry.messageID) : error
        }
        batch.remaining -= 1
        if batch.remaining == 0 {
            batch.settle()
            batches[ObjectIdentifier(batch)] = nil
        }
    }

    private func indexOf(_ tag: UInt64) -> Int? {
        var low = head, high = outstanding.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let sequence = outstanding[mid].sequence
            if sequence == tag { return mid }
            if sequence < tag { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }

    private mutating func compact() {
        if head > 1024 && head * 2 > outstanding.count {
            outstanding.removeFirst(head)
            head = 0
        }
    }
}
