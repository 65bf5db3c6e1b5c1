import Foundation
import Logging
import Messaging
import PipelineContracts

/// The fraud-scorer stage until real scoring exists (its own issue): every journal is forwarded to
/// the loaders marked `not_assessed`, so nothing is held and nothing is claimed to have been scored.
public struct FraudPassThroughHandler: StageHandler {
    public let commandsExchange: String

    public init(commandsExchange: String = "bridge.commands") { self.commandsExchange = commandsExchange }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        var document = try message.decode(JournalDocument.self)
        document.fraudAssessment = "not_assessed"
        var output = try OutboundMessage(exchange: commandsExchange, routingKey: document.routingKey, json: document,
                                         idempotencyKey: message.idempotencyKey ?? document.journal.idempotencyKey,
                                         schema: JournalDocument.schema)
        output.headers["x-fraud-assessment"] = .string("not_assessed")
        return .publish([output])
    }
}
