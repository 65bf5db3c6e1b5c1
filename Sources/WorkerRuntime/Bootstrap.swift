import Logging
import Messaging
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
                var handler = RenderedWhenWritten(StreamLogHandler.standardError(label: name))
                handler.logLevel = level
                return handler
            }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            FreedMemory.configure()
            stored = registry
            return registry
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return (logger, registry)
    }
}

/// swift-log's stream handler, its lines unchanged, with the logger's metadata kept as set and rendered only when a line
/// is written. The stream handler renders all of its metadata again each time one key is set, which the stage runner
/// does four times a message at any log level: 8 % of a relay's CPU at saturation (issue 21).
struct RenderedWhenWritten: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// `stream`'s metadata provider becomes this handler's (applied here, in the stream handler's order).
    init(_ stream: StreamLogHandler) {
        self.stream = stream
        metadataProvider = stream.metadataProvider
        self.stream.metadataProvider = nil
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// As the stream handler merges them: the logger's metadata, then the provider's, then the line's; it writes them
    /// sorted by key.
    func log(event: LogEvent) {
        var event = event
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, provided in provided } }
        if let line = event.metadata, !line.isEmpty { merged.merge(line) { _, line in line } }
        event.metadata = merged.isEmpty ? nil : merged
        stream.log(event: event)
    }
}
