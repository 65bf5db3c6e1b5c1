import Synchronization

/// Deliveries received by a session's consumer, waiting for the stage to take them.
/// Unlike an AsyncStream it can be drained without waiting, so a stage can take a whole batch.
public final class DeliveryQueue: Sendable {
    fileprivate struct State {
        var buffer: [Delivery] = []
        var head = 0
        var finished = false
        var waiter: CheckedContinuation<Delivery?, Never>?
    }
    private let state = Mutex(State())

    public init() {}

    func push(_ delivery: Delivery) {
        let waiter: CheckedContinuation<Delivery?, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.append(delivery)
            return nil
        }
        waiter?.resume(returning: delivery)
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Delivery?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next delivery, waiting for one; nil once the consumer has ended and the buffer is empty.
    public func next() async -> Delivery? {
        await withCheckedContinuation { continuation in
            let ready: Delivery?? = state.withLock { state in
                if let delivery = state.take() { return .some(delivery) }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Up to `max` deliveries that are already here, in order, without waiting, as long as their bodies (in memory or held
    /// in files) come to no more than `maxBytes` together: the first that would go over it stays for the next batch. One
    /// held in a file also stays: `next()` takes it, to be read back and handled alone.
    public func drain(max: Int, maxBytes: Int = .max) -> [Delivery] {
        state.withLock { state in
            var taken: [Delivery] = []
            var bytes = 0
            while taken.count < max, let next = state.peek(), next.spilledBody == nil, next.size <= maxBytes - bytes,
                  let delivery = state.take() {
                bytes += delivery.size
                taken.append(delivery)
            }
            return taken
        }
    }

    public var isFinished: Bool { state.withLock { $0.finished && $0.head >= $0.buffer.count } }
}

extension DeliveryQueue.State {
    fileprivate func peek() -> Delivery? { head < buffer.count ? buffer[head] : nil }

    fileprivate mutating func take() -> Delivery? {
        guard head < buffer.count else { return nil }
        let delivery = buffer[head]
        head += 1
        if head > 256 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        return delivery
    }
}
