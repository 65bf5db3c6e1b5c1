import AMQP
import Foundation
import Logging

/// Mutual exclusion per key (a record's identity), across the handlers of one process, processes and
/// hosts, on RabbitMQ's own means: an exclusive queue named after the key (`<stage>.key.lock.<key>`) can be
/// declared by one connection at a time, and the broker drops it when that connection goes away, so a
/// crashed holder never leaves a key locked. The same connection could declare it twice, so handlers of one
/// process also queue up in memory. Declaring and deleting a queue costs the broker a few milliseconds of
/// CPU: fit for master data (heartland-loader), too dear for every journal (sage-loader makes its journals
/// unique in Sage instead; see `SageLoaderHandler`).
public final class KeyLock: Sendable {
    public struct Settings: Sendable {
        /// How long a taken lock is waited for before the message is retried later (transient).
        public var acquireTimeout: Duration = .seconds(60)
        /// Between two attempts at a taken lock.
        public var pollInterval: Duration = .milliseconds(50)
        public init() {}
    }

    public let stage: String
    public let settings: Settings
    private let connector: BrokerConnector
    private let session = SessionSlot()
    private let local = LocalKeyLocks()

    public init(stage: String, connector: BrokerConnector, settings: Settings = Settings()) {
        self.stage = stage
        self.connector = connector
        self.settings = settings
    }

    /// Runs `body` holding `key`'s lock. Throws `StageError.transient` when the lock stays taken past
    /// `acquireTimeout` or the broker cannot be reached (the message is retried; nothing was done).
    public func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        try await local.acquire(key)
        do {
            try await acquireOnBroker(key)
            let result: T
            do {
                result = try await body()
            } catch {
                await releaseOnBroker(key)
                throw error
            }
            await releaseOnBroker(key)
            await local.release(key)
            return result
        } catch {
            await local.release(key)
            throw error
        }
    }

    public func close() async { await session.close() }

    // MARK: names

    static let channel: UInt16 = 7
    /// A queue name holds at most 255 bytes: long keys are shortened to a prefix and a hash.
    static func name(_ kind: String, stage: String, key: String) -> String {
        let full = "\(stage).key.\(kind).\(key)"
        guard full.utf8.count > 200 else { return full }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\(stage).key.\(kind).\(key.prefix(120))~\(String(hash, radix: 16))"
    }

    func lockName(_ key: String) -> String { Self.name("lock", stage: stage, key: key) }

    // MARK: broker

    private func acquireOnBroker(_ key: String) async throws {
        let lockQueue = lockName(key)
        let deadline = ContinuousClock.now.advanced(by: settings.acquireTimeout)
        while true {
            do {
                try await perform { connection in
                    try connection.declareQueue(channel: Self.channel, name: lockQueue, durable: false, exclusive: true)
                }
                return
            } catch AMQPError.channelClosed(code: 405, _) {
                // RESOURCE_LOCKED: another connection holds the key.
                guard ContinuousClock.now < deadline else {
                    throw StageError.transient("\(key) is held by another worker for more than \(settings.acquireTimeout)")
                }
                try await Task.sleep(for: settings.pollInterval)
            }
        }
    }

    private func releaseOnBroker(_ key: String) async {
        let lockQueue = lockName(key)
        // If this fails the connection is gone, and the broker has dropped the exclusive queue with it.
        _ = try? await perform { connection in try connection.deleteQueue(channel: Self.channel, name: lockQueue) }
    }

    /// Runs on the lock session, opening it (again) when needed. A lost connection is transient: whatever
    /// this process held is released by the broker with it.
    private func perform<T: Sendable>(_ body: @escaping @Sendable (AMQPConnection) throws -> T) async throws -> T {
        let current = try await session.get(connector)
        do {
            return try await current.perform(body)
        } catch let error as AMQPError where error.isConnectionFailure {
            await session.discard(current)
            throw StageError.transient("key lock: \(error)")
        }
    }
}

/// The one broker session of a `KeyLock`, opened on first use and again after a failure.
private actor SessionSlot {
    private var session: AMQPSession?

    func get(_ connector: BrokerConnector) async throws -> AMQPSession {
        if let session, session.isOpen { return session }
        var once = connector
        once.name += "-key-lock"
        // Bounded: a handler must not wait for the broker forever (its own delivery is redelivered meanwhile).
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        let opened = try await once.connect(until: { ContinuousClock.now > deadline })
        session = opened
        return opened
    }

    func discard(_ failed: AMQPSession) async {
        if session === failed { session = nil }
        await failed.close()
    }

    func close() async {
        await session?.close()
        session = nil
    }
}

/// Handlers of one process wait their turn for a key, in arrival order.
private actor LocalKeyLocks {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func acquire(_ key: String) async {
        if waiting[key] == nil {
            waiting[key] = []
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    func release(_ key: String) {
        guard var queue = waiting[key] else { return }
        if queue.isEmpty {
            waiting[key] = nil
        } else {
            queue.removeFirst().resume()
            waiting[key] = queue
        }
    }
}
