import AMQP
import BridgeClock
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A stage's business logic. It receives one message and says what to publish, or throws a `StageError`.
public protocol StageHandler: Sendable {
    func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome
}

public struct StageRunnerConfiguration: Sendable {
    public var stage: StageTopology
    public var prefetch: UInt16
    /// Deliveries handled, published and acked together (one confirm wait and one ack per batch).
    public var maxBatch: Int
    /// The bodies a batch may hold together: after its first delivery, the next ones join while all their bodies come to
    /// no more than this. A large message (a day's batch event, 20–100 MB, whose handling takes several times its size)
    /// is then handled alone, never beside another. A delivery of this size or more is also taken alone from the broker:
    /// the consumer pauses until it is settled, so the next large one waits in the queue rather than in this worker's
    /// memory (`AMQPSession.consume(aloneAtBytes:)`; the prefetch counts messages, not bytes).
    public var maxBatchBytes = 4 << 20
    /// Where deliveries of 64 KiB or more that the broker sends beyond `maxBatchBytes` of bodies in memory (a prefetch's
    /// worth, before the consumer can pause) wait for their turn, in files (`SpilledBody`); nil: they wait in memory. On a
    /// disk, not a tmpfs: a tmpfs's pages are memory, counted against a container's limit.
    public var spillDirectory: String? = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    /// Handlers running at once within a batch.
    public var concurrency: Int
    public var breaker: CircuitBreaker
    /// Consecutive circuit openings (without a success between) after which an alert says the
    /// target keeps failing; a single pause, e.g. one 429, is not worth a person's attention.
    public var alertAfterOpens: Int = 3
    public var alertExchange: String
    public var auditExchange: String
    public var deadLetterExchange: String
    /// Publish a `HopNotice` per handled message here (nil: no tracing). Never for a stage that
    /// consumes from this exchange itself (the alerter), which would trace its own traces.
    public var traceExchange: String?

    public init(stage: StageTopology, prefetch: UInt16 = 200, maxBatch: Int = 100, concurrency: Int = 8,
                breaker: CircuitBreaker = CircuitBreaker(), alertExchange: String = "bridge.alerts",
                auditExchange: String = "bridge.audit", deadLetterExchange: String = "bridge.dead") {
        self.stage = stage
        self.prefetch = prefetch
        self.maxBatch = maxBatch
        self.concurrency = max(1, concurrency)
        self.breaker = breaker
        self.alertExchange = alertExchange
        self.auditExchange = auditExchange
        // The work queue's own dead-letter exchange is where the broker parks crashing messages; park ours there too.
        self.deadLetterExchange = stage.workQueue.arguments["x-dead-letter-exchange"]?.stringValue ?? deadLetterExchange
    }
}

/// What readiness and the operator see of a runner.
public struct RunnerStatus: Sendable, Equatable {
    public var connected = false
    public var topologyPresent = false
    public var circuitOpen = false
    public var lastError: String?
}

/// Consume → handle → publish results with confirms → ack. The one stage runner every worker uses
/// (ARCHITECTURE.md, "The stage runner"). A crash anywhere means redelivery, never loss.
public final class StageRunner: Service, Sendable {
    let configuration: StageRunnerConfiguration
    let connector: BrokerConnector
    let handler: any StageHandler
    let logger: Logger
    let metrics: StageMetrics
    private let state: Mutex<State>

    private struct State {
        var status = RunnerStatus()
        var stopping = false
        var session: AMQPSession?
        var breaker: CircuitBreaker
    }

    public init(configuration: StageRunnerConfiguration, connector: BrokerConnector, handler: any StageHandler, logger: Logger) {
        self.configuration = configuration
        self.connector = connector
        self.handler = handler
        self.logger = logger
        self.metrics = StageMetrics(stage: configuration.stage.name)
        self.state = Mutex(State(breaker: configuration.breaker))
    }

    public var status: RunnerStatus { state.withLock { $0.status } }
    var stage: StageTopology { configuration.stage }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await runUntilStopped()
        } onGracefulShutdown: {
            self.requestStop()
        }
    }

    /// Stops consuming; deliveries already received are finished and acked, then `run` returns.
    public func requestStop() {
        let session: AMQPSession? = state.withLock { state in
            state.stopping = true
            return state.session
        }
        logger.info("stopping: cancelling the consumer and finishing in-flight messages")
        if let session { Task { await session.cancelConsumer() } }
    }

    private var stopping: Bool { state.withLock { $0.stopping } }

    private func runUntilStopped() async throws {
        while !stopping {
            let session: AMQPSession
            do {
                session = try await connector.connect(until: { [weak self] in self?.stopping ?? true }) { session in
                    let stage = self.stage
                    try await session.perform { connection in try stage.declare(on: connection, channel: AMQPSession.controlChannel) }
                }
            } catch is CancellationError {
                break
            }
            setSession(session)
            defer { setSession(nil) }
            do {
                let tag = "\(stage.name)-\(ProcessInfo.processInfo.processIdentifier)-\(session.generation)"
                let deliveries = try await session.consume(queue: stage.name, prefetch: configuration.prefetch, consumerTag: tag,
                                                           aloneAtBytes: configuration.maxBatchBytes,
                                                           spillDirectory: configuration.spillDirectory)
                if stopping { await session.cancelConsumer() }
                logger.info("consuming", metadata: ["queue": "\(stage.name)", "prefetch": "\(configuration.prefetch)"])
                let watchdog = Task { await self.watchTiers(on: session) }
                await consume(deliveries, on: session)
                watchdog.cancel()
            } catch {
                logger.warning("consumer failed; reconnecting", metadata: ["error": "\(error)"])
            }
            if session.isOpen {
                await session.close()
            } else if let failure = session.failure {
                state.withLock { $0.status.lastError = failure.description }
            }
        }
        logger.info("stopped")
    }

    private func setSession(_ session: AMQPSession?) {
        state.withLock { state in
            state.session = session
            state.status.connected = session != nil
            state.status.topologyPresent = session != nil
        }
        metrics.connected(session != nil)
    }

    // MARK: the consume loop

    private func consume(_ deliveries: DeliveryQueue, on session: AMQPSession) async {
        while let large = await handleNext(deliveries, on: session) {
            // What a large message freed goes back to the system once it is settled and released (a batch event: 20 MB
            // and more).
            if large { FreedMemory.release() }
        }
    }

    /// Handles the next delivery and what else is waiting, up to a batch; nil when the deliveries end or the connection is
    /// gone, otherwise whether the batch's bodies were large.
    private func handleNext(_ deliveries: DeliveryQueue, on session: AMQPSession) async -> Bool? {
        guard let next = await deliveries.next() else { return nil }
        // A body held in a file comes back now, its turn (alone: `drain` takes none held in a file).
        guard let first = await loaded(next, on: session) else { return true }
        await waitWhileCircuitOpen()
        let probing = state.withLock { $0.breaker.isHalfOpen }
        let batch = probing ? [first] : [first] + deliveries.drain(max: configuration.maxBatch - 1, maxBytes: configuration.maxBatchBytes - first.size)
        let resolutions = await resolve(batch, on: session)
        let left = resolutions.count(where: \.abandoned)
        guard left == 0 else {
            // Handled or not, nothing of this batch can be acked on a lost connection: the broker gives every delivery
            // again on the next one. Those not begun are left for it (a loader went on for a minute through the rest of a
            // batch of 200 on a closed connection, each against a Sage that was down, before connecting again).
            logger.warning("broker connection lost during a batch; the deliveries not yet begun are left to be redelivered",
                           metadata: ["begun": "\(batch.count - left)", "left": "\(left)"])
            return nil
        }
        guard await settle(batch, resolutions, on: session) else { return nil }
        if let alert = recordBreaker(resolutions) {
            do { try await session.publish([alert]) } catch {
                logger.error("could not publish the circuit alert", metadata: ["error": "\(error)"])
            }
        }
        return batch.reduce(0) { $0 + $1.body.count } >= FreedMemory.largeBody
    }

    /// The delivery with its body in memory, read back off the cooperative pool if it was held in a file. If it cannot be
    /// read back, it goes back to the queue (nil), to come again.
    private func loaded(_ delivery: Delivery, on session: AMQPSession) async -> Delivery? {
        guard delivery.spilledBody != nil else { return delivery }
        metrics.readBackFromFile(bytes: delivery.size)
        logger.debug("a delivery held in a file is read back for its turn", metadata: [
            "message_id": "\(delivery.properties.messageID ?? "")", "bytes": "\(delivery.size)"])
        do {
            return try await NIOThreadPool.singleton.runIfActive { try delivery.loadingSpilledBody() }
        } catch {
            logger.error("a delivery held in a file could not be read back; returning it to the queue", metadata: [
                "message_id": "\(delivery.properties.messageID ?? "")", "error": "\(error)"])
            session.nack(delivery, requeue: true)
            return nil
        }
    }

    /// Publishes every resolution's messages with confirms, then acks the inputs. False when the
    /// connection is gone (the unacked inputs will be redelivered by the broker).
    private func settle(_ batch: [Delivery], _ resolutions: [Resolution], on session: AMQPSession) async -> Bool {
        do {
            try await session.publish(resolutions.flatMap(\.messages))
            for resolution in resolutions { await confirmed(resolution) }
            session.ack(batch[batch.count - 1], multiple: true)
            return true
        } catch let error as AMQPError where error.isConnectionFailure {
            logger.warning("publish failed with the connection; inputs will be redelivered", metadata: ["error": "\(error)"])
            return false
        } catch let error as AMQPError where error.isNack {
            // The broker could not take the results for now (a quorum queue between leaders). On a cluster, a channel that
            // published while its queues' leader node died was refused for minutes while new channels were served: the
            // results go out on a new connection, the inputs stay held (unacked, their delivery count unchanged) until
            // they are confirmed, and this session is replaced. Retrying or parking them would turn a broker hiccup
            // into parked messages (seen with compose-test's cluster day: 51 parked by the transformer).
            logger.warning("broker refused the results; republishing them on a new connection", metadata: [
                "error": "\(error)", "messages": "\(batch.count)"])
            let republisher = ReliablePublisher(connector: connector, deadline: Self.refusedResultsDeadline, logger: logger)
            do {
                try await republisher.publish(resolutions.flatMap(\.messages))
                await republisher.close()
            } catch {
                await republisher.close()
                logger.error("results still refused; inputs will be redelivered", metadata: ["error": "\(error)"])
                return false
            }
            for resolution in resolutions { await confirmed(resolution) }
            session.ack(batch[batch.count - 1], multiple: true)
            return false
        } catch {
            // An unroutable result: settle one by one so one bad message cannot hold the others.
            logger.error("batch publish refused; settling messages one by one", metadata: ["error": "\(error)"])
            for (delivery, resolution) in zip(batch, resolutions) {
                guard await settleOne(delivery, resolution, on: session) else { return false }
            }
            return true
        }
    }

    /// How long refused results are offered again before their inputs are given back to the queue.
    static let refusedResultsDeadline: Duration = .seconds(300)

    private func settleOne(_ delivery: Delivery, _ resolution: Resolution, on session: AMQPSession) async -> Bool {
        do {
            try await session.publish(resolution.messages)
            await confirmed(resolution)
            session.ack(delivery)
            return true
        } catch let error as AMQPError where error.isConnectionFailure {
            return false
        } catch {
            let message = InboundMessage(delivery)
            let fallback = failure(message, StageError.transient("publishing the result failed: \(error)"))
            do {
                try await session.publish(fallback.messages)
                session.ack(delivery)
                return true
            } catch {
                logger.error("cannot route the message to retry or dead letter; returning it to the queue",
                             metadata: ["message_id": "\(message.messageID)", "error": "\(error)"])
                session.nack(delivery, requeue: true)
                return true
            }
        }
    }

    /// Runs what the handler asked to run once its messages are confirmed. A failure is logged, not retried:
    /// the messages are out, and what was not recorded is only sent again on the next delivery.
    private func confirmed(_ resolution: Resolution) async {
        for step in resolution.onConfirmed {
            do { try await step() } catch {
                logger.warning("could not record that the results were confirmed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: resolving messages

    struct Resolution: Sendable {
        var messages: [OutgoingMessage]
        var transientFailure: StageError?
        var succeeded: Bool
        /// In words, for the trace.
        var outcome: String = ""
        var onConfirmed: [@Sendable () async throws -> Void] = []
        /// Not handled: the delivery's connection was gone by its turn.
        var abandoned = false

        static let abandoned = Resolution(messages: [], transientFailure: nil, succeeded: false, outcome: "connection lost", abandoned: true)
    }

    /// Each delivery of the batch handled, unless the connection it came on is gone by its turn (`abandoned`).
    private func resolve(_ batch: [Delivery], on session: AMQPSession) async -> [Resolution] {
        await batch.mapConcurrently(limit: configuration.concurrency) { delivery in
            guard session.isOpen else { return .abandoned }
            return await self.resolve(InboundMessage(delivery))
        }
    }

    private func resolve(_ message: InboundMessage) async -> Resolution {
        // Neither a success nor a failure: it says nothing about the stage's downstream, so the circuit breaker does not count it.
        if Self.isTierPoke(message.delivery) { return Resolution(messages: [], transientFailure: nil, succeeded: false, outcome: "tier poke") }
        let started = ContinuousClock.now
        var resolution = await handle(message)
        if let exchange = traceExchange {
            let hop = HopNotice(stage: stage.name, correlationId: message.correlationID, messageId: message.messageID,
                                idempotencyKey: message.idempotencyKey, routingKey: message.routingKey, attempt: message.attempt,
                                outcome: resolution.outcome, durationMs: Int((ContinuousClock.now - started).milliseconds))
            resolution.messages += notify(exchange, AuditEvent.hop.routingKey(stage.name), hop, message)
        }
        return resolution
    }

    /// Where traces go, unless this stage consumes from there itself.
    private var traceExchange: String? {
        guard let exchange = configuration.traceExchange, !stage.bindings.contains(where: { $0.source == exchange }) else { return nil }
        return exchange
    }

    /// "published 2 (a.b, c.d)", for the trace.
    private static func published(_ outputs: [OutboundMessage]) -> String {
        "published \(outputs.count)" + (outputs.isEmpty ? "" : " (" + Set(outputs.map(\.routingKey)).sorted().joined(separator: ", ") + ")")
    }

    private func handle(_ message: InboundMessage) async -> Resolution {
        // The message's metadata set on the handler at once, in a dictionary made at its size: set key by key it was four
        // calls through the handler and a dictionary grown twice, for every message at any log level (6 % of a relay's CPU).
        var metadata = logger.handler.metadata
        metadata.reserveCapacity(metadata.count + 4)
        metadata["correlation_id"] = .string(message.correlationID)
        metadata["message_id"] = .string(message.messageID)
        if let key = message.idempotencyKey { metadata["idempotency_key"] = .string(key) }
        metadata["attempt"] = .stringConvertible(message.attempt)
        var log = logger
        log.handler.metadata = metadata
        let started = ContinuousClock.now
        do {
            let outcome = try await handler.handle(message, logger: log)
            metrics.handlerLatency(ContinuousClock.now - started)
            var resolution: Resolution
            switch outcome.base {
            case .publish(let outputs):
                metrics.handled(duplicate: false)
                resolution = Resolution(messages: amqpMessages(outputs, for: message), succeeded: true,
                                        outcome: traceExchange == nil ? "" : Self.published(outputs))
            case .duplicate(let detail, let also):
                metrics.handled(duplicate: true)
                log.info("duplicate skipped", metadata: ["detail": "\(detail)"])
                let notice = AuditNotice(event: .duplicateSkipped, stage: stage.name, detail: detail, messageId: message.messageID,
                                         correlationId: message.correlationID, idempotencyKey: message.idempotencyKey)
                resolution = Resolution(messages: amqpMessages(also, for: message)
                                            + notify(configuration.auditExchange, AuditEvent.duplicateSkipped.routingKey(stage.name), notice, message),
                                        succeeded: true, outcome: "duplicate: \(detail)")
            case .confirming:
                preconditionFailure("StageOutcome.base never returns .confirming")
            }
            resolution.onConfirmed = outcome.onConfirmed
            return resolution
        } catch {
            metrics.handlerLatency(ContinuousClock.now - started)
            let stageError = StageError.classify(error)
            metrics.failed(stageError.errorClass)
            log.warning("handler failed", metadata: ["error_class": "\(stageError.errorClass.rawValue)", "error": "\(CardMask.mask(stageError.description))"])
            return failure(message, stageError)
        }
    }

    /// A handler's outputs as AMQP messages whose ids derive from the input's (the same input, the same ids).
    private func amqpMessages(_ outputs: [OutboundMessage], for message: InboundMessage) -> [OutgoingMessage] {
        outputs.enumerated().map { index, output in
            output.amqpMessage(correlationID: message.correlationID, messageID: MessageID.derived(message.messageID, stage.name, String(index)),
                               traceparent: message.traceparent)
        }
    }

    /// The next delay tier for a transient failure, or the parking lot plus an alert.
    func failure(_ message: InboundMessage, _ error: StageError) -> Resolution {
        let reason = CardMask.mask(error.description)
        var properties = message.delivery.properties
        properties.headers[Header.attempt] = .int(Int64(message.attempt))
        properties.headers[Header.firstFailedAt] = .string(message.firstFailedAt ?? Timestamps.iso8601Millis(Date()))
        properties.headers[Header.lastError] = .string(String(reason.prefix(2000)))
        properties.headers[Header.errorClass] = .string(error.errorClass.rawValue)
        properties.headers[Header.failedStage] = .string(stage.name)
        if let holdKey = error.holdKey { properties.headers[Header.holdKey] = .string(holdKey) }
        if properties.messageID == nil { properties.messageID = MessageID.random() }

        if error.errorClass == .transient,
           case .retry(let tier) = stage.retryPolicy.decide(failedAttempt: message.attempt, retryAfter: error.retryAfter,
                                                            failingFor: message.failingFor()) {
            properties.headers[Header.attempt] = .int(Int64(message.attempt + 1))
            properties.headers[Header.retryTier] = .string(RetryTier.label(tier.delay))
            metrics.retried(tier: tier)
            let retry = OutgoingMessage(exchange: stage.retryExchange, routingKey: tier.queue, properties: properties, body: message.body)
            return Resolution(messages: [retry], transientFailure: error, succeeded: false,
                              outcome: "retry in \(RetryTier.label(tier.delay)): \(reason)")
        }

        let why = error.errorClass == .permanent ? "permanent" : "retries_exhausted"
        metrics.deadLettered(why)
        let parked = OutgoingMessage(exchange: configuration.deadLetterExchange, routingKey: stage.name, properties: properties, body: message.body)
        let alert = AlertNotice(
            kind: .deadLettered, severity: "error", stage: stage.name,
            reason: error.errorClass == .permanent ? reason : "gave up after \(message.attempt) attempts: \(reason)",
            errorClass: error.errorClass.rawValue, attempt: message.attempt, messageId: message.messageID,
            correlationId: message.correlationID, idempotencyKey: message.idempotencyKey, routingKey: message.routingKey)
        logger.error("dead-lettered", metadata: [
            "correlation_id": "\(message.correlationID)", "message_id": "\(message.messageID)", "why": "\(why)", "reason": "\(reason)",
        ])
        let alertID = error.holdKey.map(StageError.holdAlertID)
        return Resolution(messages: [parked] + notify(configuration.alertExchange, AlertKind.deadLettered.routingKey(stage.name), alert, message, id: alertID),
                          transientFailure: error.errorClass == .transient ? error : nil, succeeded: false,
                          outcome: "dead-lettered (\(why)): \(reason)")
    }

    /// The notice as a message about `message`; none (logged) when it cannot be encoded.
    private func notify<T: Encodable>(_ exchange: String, _ key: String, _ notice: T, _ message: InboundMessage, id: String? = nil) -> [OutgoingMessage] {
        guard let output = OutboundMessage.notice(notice, exchange: exchange, routingKey: key, logger: logger) else { return [] }
        return [output.amqpMessage(correlationID: message.correlationID,
                                   messageID: id ?? MessageID.derived(message.messageID, stage.name, key, String(message.attempt)),
                                   traceparent: message.traceparent)]
    }

    // MARK: circuit breaker

    /// Feeds the batch's outcomes to the breaker; returns an alert when the circuit has opened
    /// `alertAfterOpens` times in a row (and every tenth time after that).
    private func recordBreaker(_ resolutions: [Resolution]) -> OutgoingMessage? {
        let now = ContinuousClock.now
        let opened: (pause: Duration, cause: StageError, opens: Int)? = state.withLock { state in
            var opened: (Duration, StageError, Int)?
            for resolution in resolutions {
                if resolution.succeeded {
                    state.breaker.recordSuccess()
                } else if let failure = resolution.transientFailure,
                          let pause = state.breaker.recordTransientFailure(retryAfter: failure.retryAfter, now: now) {
                    opened = (pause, failure, state.breaker.consecutiveOpens)
                }
            }
            state.status.circuitOpen = opened != nil
            return opened
        }
        guard let opened else { return nil }
        metrics.circuitOpen(true)
        logger.warning("circuit open: pausing consumption", metadata: [
            "pause_ms": "\(opened.pause.milliseconds)", "consecutive_opens": "\(opened.opens)", "cause": "\(CardMask.mask(opened.cause.description))",
        ])
        let threshold = configuration.alertAfterOpens
        guard opened.opens == threshold || opened.opens > threshold && (opened.opens - threshold) % 10 == 0 else { return nil }
        let alert = AlertNotice(
            kind: .targetFailing, severity: "warning", stage: stage.name,
            reason: "paused \(opened.opens) times in a row, now for \(opened.pause.milliseconds / 1000) s; messages wait in the queue. "
                + "Last error: \(CardMask.mask(opened.cause.description))",
            errorClass: "transient")
        guard let output = OutboundMessage.notice(alert, exchange: configuration.alertExchange,
                                                  routingKey: AlertKind.targetFailing.routingKey(stage.name), logger: logger) else { return nil }
        return output.amqpMessage(correlationID: "\(stage.name)-circuit", messageID: MessageID.random(), traceparent: nil)
    }

    private func waitWhileCircuitOpen() async {
        while true {
            let until: ContinuousClock.Instant? = state.withLock { state in
                if case .open(let until) = state.breaker.state { return until }
                return nil
            }
            guard let until else { return }
            if ContinuousClock.now >= until || stopping {
                state.withLock { state in
                    state.breaker.pauseEnded()
                    state.status.circuitOpen = false
                }
                metrics.circuitOpen(false)
                logger.info("circuit half-open: probing with one message")
                return
            }
            try? await Task.sleep(for: min(.milliseconds(100), until - ContinuousClock.now))
        }
    }
}
