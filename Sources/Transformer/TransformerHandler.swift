import Accounting
import Foundation
import Logging
import Messaging
import PipelineContracts
import Sync

/// The transformer stage: validates a Heartland event, repairs what the mapping rules can repair
/// (amount strings, brand spellings), and turns it into one balanced journal with the mapping file.
/// Data it cannot repair is a permanent error that names the record and the field.
public struct TransformerHandler: StageHandler {
    public let rules: MappingRules
    public let scoringExchange: String
    public let commandsExchange: String

    public init(rules: MappingRules, scoringExchange: String = "bridge.scoring", commandsExchange: String = "bridge.commands") {
        self.rules = rules
        self.scoringExchange = scoringExchange
        self.commandsExchange = commandsExchange
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        if MasterDataTransform.handles(message.routingKey) {
            return try MasterDataTransform.outcome(for: message, commandsExchange: commandsExchange, logger: logger)
        }
        let document: JournalDocument
        switch message.routingKey {
        case BatchClosedEvent.routingKey:
            document = try settlement(message.decode(BatchClosedEvent.self))
        case PayrollCompletedEvent.routingKey:
            document = try payroll(message.decode(PayrollCompletedEvent.self))
        default:
            throw StageError.permanent("transformer has no rule for events of type '\(message.routingKey)'")
        }
        logger.info("journal built", metadata: [
            "reference": .string(document.journal.reference), "lines": .stringConvertible(document.journal.lines.count),
            "debits_cents": .stringConvertible(document.journal.totalDebits),
        ])
        return .publish([try OutboundMessage(exchange: scoringExchange, routingKey: document.routingKey, json: document,
                                             idempotencyKey: document.journal.idempotencyKey, schema: JournalDocument.schema)])
    }

    func settlement(_ event: BatchClosedEvent) throws -> JournalDocument {
        try permanent(record: "batch of store \(event.store.id) on \(event.businessDate)") {
            guard event.schema == BatchClosedEvent.schema else { throw StageError.permanent("unknown schema \(event.schema)") }
            let currency = try CurrencyCode(event.store.currency)
            let timeZone = try StoreTimeZone(event.store.timeZone)
            let businessDate = try BusinessDate(parsing: event.businessDate)
            let batch = try HeartlandJSON.settlementBatch(from: event.batch.data)
            let tickets = try HeartlandJSON.tickets(from: event.tickets.data, currency: currency)
                .filter { $0.businessDate(in: timeZone) == businessDate }
            let day = StoreDay(storeID: StoreID(event.store.id), timeZone: timeZone, businessDate: businessDate, currency: currency,
                               batch: batch, tickets: tickets)
            return JournalDocument(journal: try SettlementJournalBuilder(rules: rules).build(day), storeID: event.store.id, batch: batch)
        }
    }

    func payroll(_ event: PayrollCompletedEvent) throws -> JournalDocument {
        try permanent(record: "pay run") {
            let run = try HeartlandJSON.payRun(from: event.payRun.data, currency: try CurrencyCode(event.currency))
            return JournalDocument(journal: try PayrollJournalBuilder(rules: rules).build(run), batch: nil)
        }
    }

    /// Every failure here is about the data or the mapping: retrying cannot help.
    private func permanent<T>(record: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StageError {
            throw error
        } catch {
            throw StageError.permanent("\(record): \(error)")
        }
    }
}
