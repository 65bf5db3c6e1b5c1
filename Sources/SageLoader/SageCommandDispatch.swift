import Logging
import Messaging

/// sage-loader's one handler: `sage.journal.*` to the journal poster (`SageLoaderHandler`), every other `sage.*`
/// command (customers, orders, AR documents) to the master-data half of the sync (`SageMasterDataHandler`), which only
/// the Sage Web API has: with GL import files (`SAGE_MODE=file`) those commands are parked as permanent.
public struct SageCommandDispatch: StageHandler {
    let journals: any StageHandler
    let masterData: (any StageHandler)?

    public init(journals: any StageHandler, masterData: (any StageHandler)?) {
        self.journals = journals
        self.masterData = masterData
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        if message.routingKey.hasPrefix("sage.journal.") { return try await journals.handle(message, logger: logger) }
        guard let masterData else {
            throw StageError.permanent("\(message.routingKey): customers and orders need the Sage Web API (SAGE_MODE=http); "
                + "this sage-loader writes GL import files only")
        }
        return try await masterData.handle(message, logger: logger)
    }
}
