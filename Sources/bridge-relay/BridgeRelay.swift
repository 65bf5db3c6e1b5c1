import AMQP
import ArgumentParser
import Foundation
import Logging
import Messaging
import WorkerRuntime

/// A configurable one-stage worker on the real stage runner: it forwards each message (relay) or
/// records it in an idempotency store (sink). The integration tests drive failures through its
/// flags, and `scripts/bench` measures the runner with it.
@main
struct BridgeRelay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge-relay",
        abstract: "Run a relay or sink stage on the bridge's stage runner (tests and benchmarks).")

    /// `--prefetch` and `--concurrency` are the worker's (WorkerOptions).
    @OptionGroup var worker: WorkerOptions

    @Option(help: "The stage (work queue) to consume.") var stage: String
    @Option(help: "Exchange to forward each message to (relay mode).") var toExchange: String?
    @Option(help: "Routing key for forwarded messages (default: the input's).") var toKey: String?
    @Option(help: "SQLite file of the idempotent end: record each idempotency key once (sink mode).") var sinkDB: String?
    @Option(help: "Fail transiently while the attempt number is below this.") var failUntilAttempt: Int = 0
    @Option(help: "Fail permanently when the body contains this text.") var permanentIfBodyContains: String?
    @Option(help: "Crash the process when the body contains this text.") var crashIfBodyContains: String?
    @Option(help: "Milliseconds each message takes.") var delayMs: Int = 0
    @Option(help: "Messages per publish/ack batch.") var batch: Int = 100
    @Option(help: "Bytes of bodies a batch holds together; a delivery this large or larger is taken alone (the consumer pauses).")
    var maxBatchBytes: Int = 4 << 20
    @Option(help: "Consecutive transient failures that open the circuit.") var breakerThreshold: Int = 5
    @Option(help: "Pause when the circuit opens, in milliseconds.") var breakerPauseMs: Int = 15_000
    @Option(help: "Exchange for alerts.") var alertExchange: String = "bridge.alerts"
    @Option(help: "Exchange for audit notices.") var auditExchange: String = "bridge.audit"

    func run() async throws {
        Worker.bootstrap(stage, options: worker)
        let store = try sinkDB.map { try IdempotencyStore(path: $0) }
        let handler = RelayHandler(
            toExchange: toExchange, toKey: toKey, store: store, failUntilAttempt: failUntilAttempt,
            permanentMarker: permanentIfBodyContains, crashMarker: crashIfBodyContains, delay: .milliseconds(delayMs))
        try await Worker.run(stage: stage, handler: handler, options: worker) { configuration in
            configuration.maxBatch = batch
            configuration.maxBatchBytes = maxBatchBytes
            configuration.breaker = CircuitBreaker(threshold: breakerThreshold, basePause: .milliseconds(breakerPauseMs))
            configuration.alertExchange = alertExchange
            configuration.auditExchange = auditExchange
            configuration.traceExchange = nil  // the relay is a test and benchmark worker: no hop records
        }
    }
}

struct RelayHandler: StageHandler {
    let toExchange: String?
    let toKey: String?
    let store: IdempotencyStore?
    let failUntilAttempt: Int
    let permanentMarker: String?
    let crashMarker: String?
    let delay: Duration

    func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        let body = crashMarker == nil && permanentMarker == nil ? "" : String(decoding: message.body, as: UTF8.self)
        if let crashMarker, body.contains(crashMarker) {
            logger.critical("crashing on purpose (--crash-if-body-contains)")
            exit(70)
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        if let permanentMarker, body.contains(permanentMarker) {
            throw StageError.permanent("body contains '\(permanentMarker)'")
        }
        if message.attempt < failUntilAttempt {
            throw StageError.transient("simulated transient failure on attempt \(message.attempt)")
        }
        if let store {
            let key = message.idempotencyKey ?? message.messageID
            return try await store.record(key: key, messageID: message.messageID) ? .done : .duplicate("key \(key) already recorded")
        }
        guard let toExchange else { return .done }
        // The attempt that succeeded travels on, so a test can see how many attempts it took.
        return .publish([OutboundMessage(exchange: toExchange, routingKey: toKey ?? message.routingKey, body: message.body,
                                         idempotencyKey: message.idempotencyKey,
                                         headers: ["x-handled-attempt": .int(Int64(message.attempt))])])
    }
}
