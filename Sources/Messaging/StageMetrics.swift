import Metrics

/// The runner's metrics through swift-metrics; the worker's `/metrics` renders them for Prometheus.
struct StageMetrics: Sendable {
    let stage: String

    func handled(_ outcome: String) {
        Counter(label: "bridge_messages_handled_total", dimensions: [("stage", stage), ("outcome", outcome)]).increment()
    }

    func failed(_ errorClass: ErrorClass) {
        Counter(label: "bridge_failures_total", dimensions: [("stage", stage), ("class", errorClass.rawValue)]).increment()
    }

    func retried(tier: RetryTier) {
        Counter(label: "bridge_retries_total", dimensions: [("stage", stage), ("tier", RetryTier.label(tier.delay))]).increment()
    }

    func deadLettered(_ reason: String) {
        Counter(label: "bridge_dead_lettered_total", dimensions: [("stage", stage), ("reason", reason)]).increment()
    }

    func handlerLatency(_ duration: Duration) {
        Timer(label: "bridge_handler_duration_seconds", dimensions: [("stage", stage)]).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func circuitOpen(_ open: Bool) {
        Gauge(label: "bridge_circuit_open", dimensions: [("stage", stage)]).record(open ? 1 : 0)
    }

    func connected(_ up: Bool) {
        Gauge(label: "bridge_broker_connected", dimensions: [("stage", stage)]).record(up ? 1 : 0)
    }
}
