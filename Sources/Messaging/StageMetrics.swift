import BridgeClock
import Metrics

/// The runner's metrics through swift-metrics; the worker's `/metrics` renders them for Prometheus.
/// Handles for the per-message metrics are made once: creating one looks it up in the registry under a lock.
struct StageMetrics: Sendable {
    let stage: String
    private let handledOK: Counter
    private let handledDuplicate: Counter
    private let failedTransient: Counter
    private let failedPermanent: Counter
    private let latency: Timer

    init(stage: String) {
        self.stage = stage
        handledOK = Counter(label: "bridge_messages_handled_total", dimensions: [("stage", stage), ("outcome", "ok")])
        handledDuplicate = Counter(label: "bridge_messages_handled_total", dimensions: [("stage", stage), ("outcome", "duplicate")])
        failedTransient = Counter(label: "bridge_failures_total", dimensions: [("stage", stage), ("class", ErrorClass.transient.rawValue)])
        failedPermanent = Counter(label: "bridge_failures_total", dimensions: [("stage", stage), ("class", ErrorClass.permanent.rawValue)])
        latency = Timer(label: "bridge_handler_duration_seconds", dimensions: [("stage", stage)])
    }

    func handled(duplicate: Bool) {
        (duplicate ? handledDuplicate : handledOK).increment()
    }

    func failed(_ errorClass: ErrorClass) {
        (errorClass == .transient ? failedTransient : failedPermanent).increment()
    }

    func retried(tier: RetryTier) {
        Counter(label: "bridge_retries_total", dimensions: [("stage", stage), ("tier", RetryTier.label(tier.delay))]).increment()
    }

    func deadLettered(_ reason: String) {
        Counter(label: "bridge_dead_lettered_total", dimensions: [("stage", stage), ("reason", reason)]).increment()
    }

    func handlerLatency(_ duration: Duration) {
        latency.recordNanoseconds(duration.nanoseconds)
    }

    /// A delivery that arrived beyond the memory budget and waited in a file (`Delivery.spilledBody`), read back for its
    /// turn: how many, and their bytes. A steady rise means the stage keeps a backlog of large messages.
    func readBackFromFile(bytes: Int) {
        Counter(label: "bridge_deliveries_held_in_files_total", dimensions: [("stage", stage)]).increment()
        Counter(label: "bridge_delivery_bytes_held_in_files_total", dimensions: [("stage", stage)]).increment(by: Int64(bytes))
    }

    func circuitOpen(_ open: Bool) {
        Gauge(label: "bridge_circuit_open", dimensions: [("stage", stage)]).record(open ? 1 : 0)
    }

    func connected(_ up: Bool) {
        Gauge(label: "bridge_broker_connected", dimensions: [("stage", stage)]).record(up ? 1 : 0)
    }
}
