import AMQP
import Logging
import Messaging
import SageLoader
import Synchronization
import Testing

/// sage-loader's router: journals to the journal poster, every other Sage command to the master-data half,
/// and those parked as permanent when this loader writes GL import files (no master-data half).
@Suite struct SageCommandDispatchTests {
    /// Records the routing keys it was handed and answers with its own name.
    final class Recorder: StageHandler {
        let name: String
        let seen = Mutex<[String]>([])
        init(_ name: String) { self.name = name }
        func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
            seen.withLock { $0.append(message.routingKey) }
            return .duplicate(name)
        }
        var keys: [String] { seen.withLock { $0 } }
    }

    static let logger = Logger(label: "dispatch-tests")

    static func message(_ routingKey: String, queueKey: String? = nil) -> InboundMessage {
        InboundMessage(Delivery(routingKey: queueKey ?? routingKey, properties: MessageProperties(type: routingKey), body: Array("{}".utf8)))
    }

    static func answer(_ outcome: StageOutcome) -> String? {
        if case .duplicate(let name, _) = outcome { return name }
        return nil
    }

    @Test func journalsGoToTheJournalPosterAndEveryOtherCommandToTheMasterDataHalf() async throws {
        let journals = Recorder("journals"), masterData = Recorder("master data")
        let dispatch = SageCommandDispatch(journals: journals, masterData: masterData)
        for key in ["sage.journal.settlement", "sage.journal.refund", "sage.journal.payroll"] {
            #expect(Self.answer(try await dispatch.handle(Self.message(key), logger: Self.logger)) == "journals", "\(key)")
        }
        for key in ["sage.customer.upsert", "sage.order.create", "sage.order.update", "sage.item.upsert", "sage.ar.invoice", "sage.ar.receipt",
                    "sage.customer.decision"] {
            #expect(Self.answer(try await dispatch.handle(Self.message(key), logger: Self.logger)) == "master data", "\(key)")
        }
        #expect(journals.keys == ["sage.journal.settlement", "sage.journal.refund", "sage.journal.payroll"])
        #expect(masterData.keys.count == 7)
    }

    /// The message's type decides, not the key it was delivered with (a retry tier or a replay republishes it under another).
    @Test func theMessageTypeDecides() async throws {
        let journals = Recorder("journals"), masterData = Recorder("master data")
        let dispatch = SageCommandDispatch(journals: journals, masterData: masterData)
        let replayed = Self.message("sage.journal.settlement", queueKey: "sage-loader")
        #expect(Self.answer(try await dispatch.handle(replayed, logger: Self.logger)) == "journals")
        #expect(masterData.keys.isEmpty)
    }

    /// With GL import files there is no master-data half: such a command is parked at once, naming its key and SAGE_MODE=http.
    @Test func withoutTheWebAPIMasterDataIsPermanentAndJournalsStillPost() async throws {
        let journals = Recorder("journals")
        let dispatch = SageCommandDispatch(journals: journals, masterData: nil)
        #expect(Self.answer(try await dispatch.handle(Self.message("sage.journal.settlement"), logger: Self.logger)) == "journals")
        do {
            _ = try await dispatch.handle(Self.message("sage.customer.upsert"), logger: Self.logger)
            Issue.record("a customer command without the Web API was handled")
        } catch let error as StageError {
            guard case .permanent(let reason) = error else { Issue.record("expected permanent, got \(error)"); return }
            #expect(reason.contains("sage.customer.upsert") && reason.contains("SAGE_MODE=http"))
        }
        #expect(journals.keys == ["sage.journal.settlement"])
    }
}
