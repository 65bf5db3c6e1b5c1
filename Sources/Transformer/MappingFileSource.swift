import Accounting
import Foundation
import Logging
import Messaging
import Synchronization

/// The mapping file the transformer reads, again whenever it changes (`Messaging.ReloadingFile`, the mechanism of the
/// fraud rules): a mapping saved from the console's mapping page (or edited by hand) applies from the next message,
/// without a restart. A file that does not validate keeps the previous mapping in force; the transformer logs it and
/// raises one `mapping_rejected` alert per rejected change with the next message it handles.
public final class MappingFileSource: Sendable {
    private let file: ReloadingFile<MappingRules>
    private let rejections: Rejections

    public var path: String { file.path }

    /// Fails when the file cannot be read or does not validate at start: the transformer does not start without it.
    public init(path: String, logger: Logger = Logger(label: "transformer.mapping")) throws {
        let rejections = Rejections()
        self.rejections = rejections
        file = try ReloadingFile(path: path, what: "mapping", logger: logger, onRejected: { rejections.add("\($0)") }) { text, path in
            try MappingRules(yaml: text, source: path)
        }
    }

    /// The mapping in force (read again first if the file changed).
    public func current() -> MappingRules { file.current() }

    /// Why the last change of the file was refused, while it is refused.
    public var lastError: (any Error)? { file.lastError }

    /// The alerts for the changes refused since the last call.
    func takeAlerts() throws -> [OutboundMessage] {
        try rejections.take().map { problem in
            let notice = AlertNotice(kind: .mappingRejected, severity: "error", stage: "transformer",
                                     reason: "the mapping file \(path) was changed but cannot be used, so the previous mapping stays in force: \(problem)")
            return try OutboundMessage(exchange: "bridge.alerts", routingKey: AlertKind.mappingRejected.routingKey("transformer"), json: notice)
        }
    }

    private final class Rejections: Sendable {
        private let problems = Mutex<[String]>([])
        func add(_ problem: String) { problems.withLock { $0.append(problem) } }
        func take() -> [String] { problems.withLock { taken in defer { taken = [] }; return taken } }
    }
}

extension StageOutcome {
    /// The same outcome with `more` published too.
    func publishing(_ more: [OutboundMessage]) -> StageOutcome {
        guard !more.isEmpty else { return self }
        switch self {
        case .publish(let messages): return .publish(messages + more)
        case .duplicate(let reason, let also): return .duplicate(reason, also: also + more)
        case .confirming(let outcome, let then): return .confirming(outcome.publishing(more), then: then)
        }
    }
}
