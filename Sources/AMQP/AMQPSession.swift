import Foundation
import TransportSecurity
import Logging
import Synchronization
import CRabbitMQ

/// One broker connection with an async API. A dedicated thread owns the blocking `AMQPConnection`
/// and multiplexes three channels: consuming (1), publishing with confirms (2) and control RPCs (3).
///
/// A session does not reconnect: when its connection dies every waiter fails with `connectionLost`,
/// the delivery stream ends and `failure` says why. Owners (the stage runner, `ReliablePublisher`)
/// open a new session with `BrokerConnector`, which is what makes reconnection visible and testable.
public final class AMQPSession: Sendable {
    public static let consumeChannel: UInt16 = 1
    public static let publishChannel: UInt16 = 2
    public static let controlChannel: UInt16 = 3

    public let generation: UInt64
    public let url: AMQPURL
    private let wakeFD: Int32
    private let shared: Mutex<Shared>
    private let logger: Logger

    private static let generations = Atomic<UInt64>(0)

    struct Shared {
        var commands: [Command] = []
        var failure: AMQPError?
        var finished = false
        var consumerPaused = false
    }

    enum Command: Sendable {
        case perform(run: @Sendable (AMQPConnection) -> Void, fail: @Sendable (AMQPError) -> Void)
        case publish([OutgoingMessage], timeout: Duration, CheckedContinuation<Void, any Error>)
        case consume(queue: String, prefetch: UInt16, tag: String, aloneAtBytes: Int?, spillDirectory: String?, DeliveryQueue,
                     CheckedContinuation<Void, any Error>)
        case cancelConsumer(CheckedContinuation<Void, Never>)
        case ack(channel: UInt16, tag: UInt64, multiple: Bool)
        case nack(channel: UInt16, tag: UInt64, multiple: Bool, requeue: Bool)
        case close(CheckedContinuation<Void, Never>)
    }

    private init(url: AMQPURL, logger: Logger) {
        self.url = url
        self.logger = logger
        self.generation = Self.generations.add(1, ordering: .relaxed).newValue
        self.wakeFD = bridge_wake_fd_create()
        self.shared = Mutex(Shared())
    }

    deinit {
        bridge_wake_fd_close(wakeFD)
    }

    /// Opens a connection on a new thread; throws `connectFailed` if the broker cannot be reached.
    public static func connect(url: AMQPURL, name: String, logger: Logger) async throws -> AMQPSession {
        do { try url.checkTransport(try TransportPolicy.fromEnvironment()) } catch { throw AMQPError.connectFailed(error.description) }
        let session = AMQPSession(url: url, logger: logger)
        try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                let connection: AMQPConnection
                do {
                    connection = try AMQPConnection(url: url, connectionName: name)
                    try connection.openChannel(consumeChannel)
                    try connection.confirmSelect(channel: publishChannel)
                    try connection.openChannel(controlChannel)
                } catch {
                    session.shared.withLock { $0.failure = error as? AMQPError ?? .connectFailed("\(error)"); $0.finished = true }
                    ready.resume(throwing: error)
                    return
                }
                ready.resume()
                SessionLoop(session: session, connection: connection).run()
            }
            thread.name = "amqp-\(name)"
            thread.stackSize = 1 << 20
            thread.start()
        }
        return session
    }

    /// Why the connection ended, once it has.
    public var failure: AMQPError? { shared.withLock { $0.failure } }
    public var isOpen: Bool { shared.withLock { !$0.finished } }
    /// Whether the consumer is paused for a large delivery in hand (`consume(aloneAtBytes:)`): cancelled, the broker keeping
    /// the queue's messages, until it is settled.
    public var consumerPaused: Bool { shared.withLock { $0.consumerPaused } }

    // MARK: API

    /// Runs `body` on the connection's thread (declarations, basic.get, passive checks) on the control channel.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (AMQPConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(.perform(run: { connection in
                do { continuation.resume(returning: try body(connection)) } catch { continuation.resume(throwing: error) }
            }, fail: { continuation.resume(throwing: $0) }), orFail: { continuation.resume(throwing: $0) })
        }
    }

    /// Publishes the messages and returns when the broker has confirmed every one of them.
    /// A nack, an unroutable message, a missing confirm or a lost connection throws.
    public func publish(_ messages: [OutgoingMessage], confirmTimeout: Duration = .seconds(30)) async throws {
        guard !messages.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(.publish(messages, timeout: confirmTimeout, continuation), orFail: { continuation.resume(throwing: $0) })
        }
    }

    /// Starts consuming `queue` on the consume channel with manual acks and the given prefetch.
    /// The queue ends when the consumer is cancelled or the connection dies.
    ///
    /// `aloneAtBytes`: a delivery of that many bytes or more is taken alone. The consumer is cancelled when it arrives and
    /// consumes again once every such delivery is acked or nacked, so the broker keeps the queue's next messages meanwhile
    /// (for another consumer, or for this one afterwards). RabbitMQ's prefetch counts messages, not bytes: without this a
    /// worker handling a 100 MB batch event is sent the next one beside it. The cancel goes as soon as the delivery's header
    /// announces its size. Nil: never paused.
    ///
    /// Large deliveries the broker sent before the cancel took effect still arrive: a consumer that starts on a queue
    /// holding several is sent as many as `prefetch` allows, and one holding many middling messages (a store's 3 MB batch
    /// event each) is sent a prefetch of them. With `spillDirectory`, a delivery of 64 KiB or more
    /// (`AMQPConnection.holdableBytes`) that would take such bodies in memory and not yet settled beyond `aloneAtBytes` is
    /// written to a file there as it arrives (`Delivery.spilledBody`, read back with `loadingSpilledBody()`), so about
    /// `aloneAtBytes` of bodies (or one large one) are in memory at a time; without it they are kept in memory.
    public func consume(queue: String, prefetch: UInt16, consumerTag: String, aloneAtBytes: Int? = nil,
                        spillDirectory: String? = nil) async throws -> DeliveryQueue {
        let stream = DeliveryQueue()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(.consume(queue: queue, prefetch: prefetch, tag: consumerTag, aloneAtBytes: aloneAtBytes, spillDirectory: spillDirectory,
                             stream, continuation),
                    orFail: { stream.finish(); continuation.resume(throwing: $0) })
        }
        return stream
    }

    /// basic.cancel, then waits for cancel-ok, so that acks sent before closing are not lost
    /// (rabbitmq-server#10327). Deliveries already received stay in the stream to be finished.
    public func cancelConsumer() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enqueue(.cancelConsumer(continuation), orFail: { _ in continuation.resume() })
        }
    }

    public func ack(_ delivery: Delivery, multiple: Bool = false) {
        guard owns(delivery) else { return }
        enqueue(.ack(channel: delivery.channel, tag: delivery.deliveryTag, multiple: multiple), orFail: { _ in })
    }

    public func nack(_ delivery: Delivery, multiple: Bool = false, requeue: Bool) {
        guard owns(delivery) else { return }
        enqueue(.nack(channel: delivery.channel, tag: delivery.deliveryTag, multiple: multiple, requeue: requeue), orFail: { _ in })
    }

    /// Closes the connection after the commands queued before it.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enqueue(.close(continuation), orFail: { _ in continuation.resume() })
        }
    }

    private func owns(_ delivery: Delivery) -> Bool {
        if delivery.connectionGeneration == generation { return true }
        // The delivery tag belongs to a dead connection: the broker has already requeued the message.
        logger.debug("ignoring ack for a delivery of an earlier connection", metadata: ["tag": "\(delivery.deliveryTag)"])
        return false
    }

    private func enqueue(_ command: Command, orFail: (AMQPError) -> Void) {
        let failure: AMQPError? = shared.withLock { shared in
            if shared.finished { return shared.failure ?? .closed }
            shared.commands.append(command)
            return nil
        }
        if let failure { orFail(failure); return }
        bridge_wake_fd_signal(wakeFD)
    }

    // MARK: used by the loop

    /// The commands queued since the last call; `woken`: the wake descriptor polled readable, so it is read first (a
    /// command queued after that read signals it again).
    fileprivate func takeCommands(woken: Bool) -> [Command] {
        if woken { bridge_wake_fd_drain(wakeFD) }
        return shared.withLock { shared in
            let commands = shared.commands
            shared.commands.removeAll(keepingCapacity: true)
            return commands
        }
    }

    fileprivate func finish(with failure: AMQPError) -> [Command] {
        shared.withLock { shared in
            shared.finished = true
            if shared.failure == nil { shared.failure = failure }
            let left = shared.commands
            shared.commands.removeAll()
            return left
        }
    }

    fileprivate func setConsumerPaused(_ paused: Bool) { shared.withLock { $0.consumerPaused = paused } }

    fileprivate var wakeDescriptor: Int32 { wakeFD }
    fileprivate var log: Logger { logger }
}

/// The thread side of a session: reads frames, runs commands, tracks publisher confirms.
private final class SessionLoop {
    let session: AMQPSession
    let connection: AMQPConnection
    var confirms = ConfirmTracker()
    var deliveries: DeliveryQueue?
    var consumer: Consumer? {
        // What `consumerPaused` says is this, read from the consumer's phase: set in one place, before a cancel's waiters
        // are resumed.
        didSet { if (oldValue?.phase == .paused) != (consumer?.phase == .paused) { session.setConsumerPaused(consumer?.phase == .paused) } }
    }
    /// The delivery tags of large deliveries (`Consumer.aloneAtBytes`) not yet acked or nacked.
    var largeInHand: [UInt64] = []
    var cancelWaiters: [CheckedContinuation<Void, Never>] = []

    /// The consume channel's consumer.
    struct Consumer {
        enum Phase {
            case consuming
            /// Cancelled for a large delivery in hand, its cancel-ok not yet here.
            case pausing
            /// Cancelled until the large deliveries in hand are settled.
            case paused
            /// Cancelled for good (`cancelConsumer`): its cancel-ok ends the deliveries.
            case cancelling
        }
        var queue: String
        /// The tag the consumer was started with.
        var baseTag: String
        var aloneAtBytes: Int?
        var phase = Phase.consuming
        /// How many times it consumed again after a pause.
        var resumes = 0

        /// The tag of the current basic.consume: `baseTag`, then a new one on each resume. Never the cancelled one:
        /// RabbitMQ 3.10's quorum queues crash the channel (INTERNAL_ERROR, the connection closed) when a consumer
        /// cancelled while deliveries were in flight is subscribed again with the same tag (rabbitmq-server#5927): its
        /// next deliveries count as out of sequence. Seen in `scripts/compose-test`'s backlog day: three connections lost
        /// in two minutes.
        var tag: String { resumes == 0 ? baseTag : "\(baseTag).\(resumes)" }
    }

    init(session: AMQPSession, connection: AMQPConnection) {
        self.session = session
        self.connection = connection
        connection.logger = session.log
    }

    func run() {
        var closeWaiter: CheckedContinuation<Void, Never>?
        var failure = AMQPError.closed
        do {
            // Whether the socket may be read: once each time it polls readable, or the poll times out (rabbitmq-c sees to
            // heartbeats when it reads); frames already read are handled in between. The wake descriptor is read only
            // when it polls readable.
            var receiving = true
            var woken = false
            loop: while true {
                for command in session.takeCommands(woken: woken) {
                    if case .close(let waiter) = command {
                        closeWaiter = waiter
                        break loop
                    }
                    try handle(command)
                }
                var read = 0
                while read < 512, let event = try connection.nextEvent(generation: session.generation, receiving: &receiving) {
                    try handle(event)
                    read += 1
                }
                confirms.expire(now: .now)
                woken = false
                if read == 0 && !connection.hasBufferedFrames {
                    let readiness = connection.waitReadable(timeoutMilliseconds: 100, wakeFD: session.wakeDescriptor)
                    woken = readiness.contains(.wake)
                    receiving = readiness.contains(.socket) || readiness.isEmpty
                }
            }
            connection.close()
        } catch let error as AMQPError {
            failure = error
            session.log.warning("broker connection ended", metadata: ["error": "\(error)"])
        } catch {
            failure = .connectionLost("\(error)")
        }
        let lost: AMQPError = failure == .closed ? .closed : failure
        confirms.failAll(lost)
        deliveries?.finish()
        cancelWaiters.forEach { $0.resume() }
        for command in session.finish(with: lost) { fail(command, lost) }
        closeWaiter?.resume()
    }

    private func handle(_ command: AMQPSession.Command) throws {
        switch command {
        case .perform(let body, _):
            body(connection)
        case .publish(let messages, let timeout, let continuation):
            try publish(messages, timeout: timeout, continuation)
        case .consume(let queue, let prefetch, let tag, let aloneAtBytes, let spillDirectory, let stream, let continuation):
            do {
                try connection.qos(channel: AMQPSession.consumeChannel, prefetch: prefetch)
                try connection.consume(channel: AMQPSession.consumeChannel, queue: queue, consumerTag: tag)
                deliveries = stream
                consumer = Consumer(queue: queue, baseTag: tag, aloneAtBytes: aloneAtBytes)
                connection.largeDeliveryBytes = aloneAtBytes
                connection.spillDirectory = spillDirectory
                continuation.resume()
            } catch let error as AMQPError {
                stream.finish()
                continuation.resume(throwing: error)
                if case .channelClosed = error { return }
                throw error
            }
        case .cancelConsumer(let waiter):
            guard let current = consumer else { waiter.resume(); return }
            cancelWaiters.append(waiter)
            switch current.phase {
            case .consuming:
                try connection.sendCancel(channel: AMQPSession.consumeChannel, consumerTag: current.tag)
                consumer?.phase = .cancelling
            case .pausing:
                consumer?.phase = .cancelling  // the pause's cancel-ok ends the deliveries
            case .paused:
                endConsumer()  // nothing is consuming: nothing to cancel
            case .cancelling:
                break
            }
        case .ack(let channel, let tag, let multiple):
            try connection.ack(channel: channel, deliveryTag: tag, multiple: multiple)
            if channel == AMQPSession.consumeChannel { try settled(tag, multiple: multiple) }
        case .nack(let channel, let tag, let multiple, let requeue):
            try connection.nack(channel: channel, deliveryTag: tag, multiple: multiple, requeue: requeue)
            if channel == AMQPSession.consumeChannel { try settled(tag, multiple: multiple) }
        case .close:
            break
        }
    }

    private func publish(_ messages: [OutgoingMessage], timeout: Duration, _ continuation: CheckedContinuation<Void, any Error>) throws {
        let batch = confirms.begin(count: messages.count, deadline: .now + timeout, continuation: continuation)
        var messages = messages
        for index in messages.indices where messages[index].properties.messageID == nil {
            messages[index].properties.messageID = UUID().uuidString.lowercased()
        }
        do {
            try connection.publish(channel: AMQPSession.publishChannel, messages)
        } catch let error as AMQPError {
            confirms.fail(batch, error)
            throw error
        }
        for message in messages { confirms.published(batch: batch, messageID: message.properties.messageID!) }
    }

    private func handle(_ event: AMQPConnection.Event) throws {
        switch event {
        case .delivery(let delivery):
            guard delivery.channel == AMQPSession.consumeChannel else { return }
            deliveries?.push(delivery)
        case .largeDelivery(let channel, let tag, let bytes, let held):
            guard channel == AMQPSession.consumeChannel, let current = consumer else { return }
            largeInHand.append(tag)
            if current.phase == .consuming {
                try connection.sendCancel(channel: AMQPSession.consumeChannel, consumerTag: current.tag)
                consumer?.phase = .pausing
                session.log.info("a large delivery is taken alone: consumer paused until it is settled", metadata: [
                    "bytes": "\(bytes)", "queue": "\(current.queue)"])
            }
            if held {
                session.log.info("a large delivery sent before the pause waits in a file for its turn", metadata: [
                    "bytes": "\(bytes)", "queue": "\(current.queue)", "directory": "\(connection.spillDirectory ?? "")"])
            }
        case .confirmAck(_, let tag, let multiple):
            confirms.acknowledge(tag: tag, multiple: multiple, error: nil)
        case .confirmNack(_, let tag, let multiple):
            confirms.acknowledge(tag: tag, multiple: multiple, error: .publishNacked(messageID: ""))
        case .returned(_, let exchange, let routingKey, let messageID, _):
            confirms.returned(messageID: messageID ?? "", exchange: exchange, routingKey: routingKey)
        case .cancelOk(_, let tag):
            guard let current = consumer, tag == current.tag else { return }
            switch current.phase {
            case .pausing:
                consumer?.phase = .paused
                try resumeIfFree()
            case .cancelling:
                endConsumer()
            case .consuming, .paused:
                break
            }
        case .cancelledByBroker(_, let tag):
            session.log.warning("broker cancelled the consumer (queue deleted or its node down)", metadata: ["consumer": "\(tag)"])
            throw AMQPError.connectionLost("consumer \(tag) cancelled by the broker")
        case .channelClosed(let channel, let code, let text):
            // The publishing or consuming channel closing leaves the session unusable: end it so the owner reconnects.
            if channel != AMQPSession.controlChannel { throw AMQPError.channelClosed(code: code, text: text) }
        case .blocked(let reason):
            session.log.warning("broker blocked publishing", metadata: ["reason": "\(reason)"])
        case .unblocked:
            session.log.info("broker unblocked publishing")
        }
    }

    /// The consumer is gone for good: the deliveries end once those received are taken.
    private func endConsumer() {
        consumer = nil
        deliveries?.finish()
        deliveries = nil
        cancelWaiters.forEach { $0.resume() }
        cancelWaiters.removeAll()
    }

    /// A delivery (or, `multiple`, every one up to it) was acked or nacked: once no large one is in hand, a paused consumer
    /// consumes again.
    private func settled(_ tag: UInt64, multiple: Bool) throws {
        connection.settled(deliveryTag: tag, multiple: multiple)
        guard !largeInHand.isEmpty else { return }
        largeInHand.removeAll { multiple ? $0 <= tag : $0 == tag }
        try resumeIfFree()
    }

    private func resumeIfFree() throws {
        guard var current = consumer, current.phase == .paused, largeInHand.isEmpty else { return }
        current.resumes += 1
        try connection.consume(channel: AMQPSession.consumeChannel, queue: current.queue, consumerTag: current.tag)
        current.phase = .consuming
        consumer = current
        session.log.info("large deliveries settled: consuming again", metadata: ["queue": "\(current.queue)"])
    }

    private func fail(_ command: AMQPSession.Command, _ error: AMQPError) {
        switch command {
        case .perform(_, let failure): failure(error)
        case .publish(_, _, let continuation): continuation.resume(throwing: error)
        case .consume(_, _, _, _, _, let stream, let continuation): stream.finish(); continuation.resume(throwing: error)
        case .cancelConsumer(let waiter), .close(let waiter): waiter.resume()
        case .ack, .nack: break
        }
    }
}
