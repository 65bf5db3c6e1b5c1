import Accounting
import Logging
import Messaging
import SageLoader
import Synchronization

/// The journals' handler with the mapping in force: the loader checks each journal's accounts against the mapping's chart
/// (`JournalValidation`) and reconciles with its rules, so a mapping saved on the console's mapping page (a new account
/// added to its chart) must reach the loader too, not only the transformer. The file is read again when it changes
/// (`Messaging.ReloadingFile`, as the transformer's `MappingFileSource`); a file that does not validate keeps the previous
/// mapping (the transformer raises the alert for it). A new handler is made only when the rules changed; it keeps the
/// record of the messages this process handled to the end.
final class JournalsWithMappingInForce: StageHandler {
    private let mapping: ReloadingFile<MappingRules>
    private let make: @Sendable (MappingRules) -> SageLoaderHandler
    private let made: Mutex<(rules: MappingRules, handler: SageLoaderHandler)>

    /// Fails when the file cannot be read or does not validate at start: the loader does not start without it.
    init(path: String, logger: Logger, make: @escaping @Sendable (MappingRules) -> SageLoaderHandler) throws {
        mapping = try ReloadingFile(path: path, what: "mapping", logger: logger) { text, path in try MappingRules(yaml: text, source: path) }
        self.make = make
        let rules = mapping.current()
        made = Mutex((rules, make(rules)))
    }

    func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        let rules = mapping.current()
        let handler = made.withLock { made in
            if made.rules != rules { made = (rules, make(rules).remembering(handledBy: made.handler)) }
            return made.handler
        }
        return try await handler.handle(message, logger: logger)
    }
}
