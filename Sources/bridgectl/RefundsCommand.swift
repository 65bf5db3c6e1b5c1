import AMQP
import Accounting
import ArgumentParser
import BridgeSettings
import Foundation
import Messaging
import PipelineContracts

/// Gateway-only card refunds (keyed on the virtual terminal, no return ticket) wait in the suspense
/// account until an operator says how much of each was sales tax. `allocate` builds the journal that
/// moves one out of suspense and sends it through the pipeline like any journal (fraud-scorer, then
/// sage-loader); the loader posts it once, its reference being one per refund.
struct RefundsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refunds", abstract: "Gateway-only card refunds held in suspense: allocate one to returns and sales tax.",
        subcommands: [Allocate.self])

    struct Allocate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a gateway-only refund from suspense to returns (amount − tax) and sales tax, through the pipeline.",
            discussion: """
                The transformer's `refund_awaiting_allocation` alert gives the command with the transaction, store, date and \
                amount; add the sales tax refunded. Bad values (a negative or zero amount, tax over the amount, fractions of a \
                cent, an account outside the mapping's chart) exit with status 2 and nothing is sent.
                """)

        @OptionGroup var broker: BrokerOptions
        @Argument(help: "The refund's GP-API transaction id, e.g. TRN_0123.") var transaction: String
        @Option(help: "The store the refund was made for, e.g. S01.") var store: String
        @Option(help: "The refund's business day at the store, YYYY-MM-DD (in the alert); part of the reference.") var date: String
        @Option(help: "Post on another day, YYYY-MM-DD (e.g. the refund's period is closed). Default: --date.") var postingDate: String?
        // Unconditional: `--amount -5` is a bad amount (refused with status 2), not a missing one.
        @Option(parsing: .unconditional, help: "The refund's amount, e.g. 12.34: what is in suspense.") var amount: String
        @Option(parsing: .unconditional, help: "Of it, the sales tax refunded, e.g. 0.84 (0 if none).") var tax: String
        @Option(help: "An account of the mapping's chart for the merchandise instead of the returns rule (sales.returns).")
        var returnsAccount: String?
        @Option(help: "Mapping file. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
        var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"
        @Option(help: "Where journals enter the pipeline (the fraud-scorer's input).") var exchange = "bridge.scoring"
        @Option(help: "Where the allocation is recorded with who made it.") var auditExchange = "bridge.audit"
        @Option(help: "Who allocates (recorded on bridge.audit).") var actor: String = EnvironmentReader.current.value("USER") ?? "bridgectl"
        @Flag(help: "Print the journal and send nothing.") var dryRun = false

        func run() async throws {
            let rules = try MappingRules.load(path: mapping)
            let journal: JournalEntry
            do {
                let allocation = try RefundAllocation(transaction: transaction, store: store, date: date, postingDate: postingDate,
                                                      amount: amount, tax: tax, returnsAccount: returnsAccount, rules: rules)
                journal = try GatewayRefundJournalBuilder(rules: rules).buildAllocation(allocation)
            } catch {
                FileHandle.standardError.write(Data("bridgectl refunds allocate: \(error); nothing was sent\n".utf8))
                throw ExitCode(2)
            }
            let document = JournalDocument(journal: journal, storeID: store, batch: nil)
            if !dryRun {
                let session = try await broker.session()
                defer { Task { await session.close() } }
                try await session.publish(try messages(document))
                await session.close()
            }
            if broker.json { print(try Output.json(document)); return }
            print("\(dryRun ? "would send" : "sent") \(journal.reference) (\(journal.idempotencyKey)), posting date \(journal.postingDate.iso):")
            print(Output.table(["ACCOUNT", "DESCRIPTION", "DEBIT", "CREDIT"], journal.lines.map { line in
                [line.account.rawValue, line.description, line.side == .debit ? Money.decimalString(line.amount.minorUnits) : "",
                 line.side == .credit ? Money.decimalString(line.amount.minorUnits) : ""]
            }))
            if !dryRun { print("sage-loader posts it once; see it with `bridgectl sage journals --reference-prefix \(journal.reference)`") }
        }

        /// The journal for the fraud-scorer (which passes it on: it is no refund of its own) and the audit record.
        func messages(_ document: JournalDocument) throws -> [OutgoingMessage] {
            let key = document.journal.idempotencyKey
            let journal = try OutboundMessage(exchange: exchange, routingKey: document.routingKey, json: document, idempotencyKey: key,
                                              schema: JournalDocument.schema)
            let notice = AuditNotice(event: .refundAllocated, stage: "bridgectl",
                                     detail: "\(document.journal.reference): \(transaction) allocated, \(amount) of which tax \(tax)",
                                     idempotencyKey: key, actor: actor)
            let audit = try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.refundAllocated.routingKey("bridgectl"), json: notice,
                                            idempotencyKey: key)
            return [
                journal.amqpMessage(correlationID: key, messageID: MessageID.derived("allocation", document.journal.reference), traceparent: nil),
                audit.amqpMessage(correlationID: key, messageID: MessageID.derived("allocation", document.journal.reference, "audit"),
                                  traceparent: nil),
            ]
        }
    }
}
