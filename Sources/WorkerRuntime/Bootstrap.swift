import Logging
import Metrics
import Prometheus
import Synchronization

/// Chooses the logging and metrics backends once, in `main`.
public enum Bootstrap {
    private static let registryStore = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Logs go to stderr as `timestamp level label : key=value… message` (swift-log's stream handler);
    /// metrics to a Prometheus registry served on `/metrics`.
    public static func run(label: String, level: Logger.Level) -> (Logger, PrometheusCollectorRegistry) {
        let registry = registryStore.withLock { stored -> PrometheusCollectorRegistry in
            if let stored { return stored }
            let registry = PrometheusCollectorRegistry()
            LoggingSystem.bootstrap { name in
                var handler = StreamLogHandler.standardError(label: name)
                handler.logLevel = level
                return handler
            }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            stored = registry
            return registry
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return (logger, registry)
    }
}
