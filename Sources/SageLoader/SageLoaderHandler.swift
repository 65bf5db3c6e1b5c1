import Accounting
import Foundation
import Logging
import Messaging
import Metrics
import PipelineContracts
import SageConnector

/// The sage-loader stage: posts each journal to Sage exactly once, reads it back, and publishes the
/// reconciliation on `bridge.audit`.
///
/// Duplicate protection has two layers: the local ledger (a cache: key → Sage batch number) and Sage
/// itself, which is the authority across replicas and hosts: the external reference is looked up
/// before posting, and Sage refuses a second journal with the same reference.
///
/// Notices are derived, not remembered: whenever a journal is known to be posted (ledger or Sage) and
/// the ledger has not recorded its notices as confirmed, the `posted` audit and the reconciliation are
/// sent from Sage's copy; the runner records them confirmed once the broker has them.
public struct SageLoaderHandler: StageHandler {
    public let client: any SageClient
    public let ledger: IdempotencyStore
    public let rules: MappingRules
    public let company: String
    public let auditExchange: String

    public init(client: any SageClient, ledger: IdempotencyStore, rules: MappingRules, company: String, auditExchange: String = "bridge.audit") {
        self.client = client
        self.ledger = ledger
        self.rules = rules
        self.company = company
        self.auditExchange = auditExchange
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        let document = try message.decode(JournalDocument.self)
        let journal = document.journal
        let key = message.idempotencyKey ?? journal.idempotencyKey
        let ledgered = try ledger.result(for: key)
        if let batchNumber = ledgered, try ledger.noticesConfirmed(key: key) {
            return .duplicate("\(journal.reference) already posted as Sage batch \(batchNumber), its notices confirmed (local ledger)")
        }
        // Once the broker has confirmed the notices, they need not be derived again.
        let confirm: @Sendable () async throws -> Void = { [ledger] in try ledger.confirmNotices(key: key) }
        do {
            if let existing = try await client.findJournal(reference: journal.reference) {
                // Posted before: by this loader before a failure (the read-back, the reconciliation or a crash came
                // between posting and confirming the notices), or by a replica that may have failed the same way.
                // Notices are derived, not remembered: they are sent from Sage's copy until they are confirmed.
                if ledgered == nil { _ = try ledger.record(key: key, messageID: message.messageID, result: existing.batchNumber.rawValue) }
                let source = ledgered == nil ? "" : " (local ledger)"
                return .confirming(.duplicate("Sage already holds \(journal.reference) as batch \(existing.batchNumber)\(source); notices sent from Sage's copy",
                                              also: try await notices(document, batchNumber: existing.batchNumber, readBack: existing, postedNow: false)),
                                   then: confirm)
            }
            if let batchNumber = ledgered {
                // The ledger says posted but Sage does not show it (yet: an import file not processed): never post twice.
                throw StageError.transient("\(journal.reference) was posted as Sage batch \(batchNumber) (local ledger) but Sage does not show it; "
                                           + "its notices wait for Sage's copy")
            }
            let receipt = try await client.post(SageBatchMapping.batch(for: journal))
            _ = try ledger.record(key: key, messageID: message.messageID, result: receipt.batchNumber.rawValue)
            let readBack = try await client.readJournal(batchNumber: receipt.batchNumber)
            logger.info("posted", metadata: ["reference": .string(journal.reference), "sage_batch": .string(receipt.batchNumber.rawValue)])
            BusinessMetrics.posted(journal)
            return .confirming(.publish(try await notices(document, batchNumber: receipt.batchNumber, readBack: readBack, postedNow: true)),
                               then: confirm)
        } catch SageError.duplicateReference(let existing) {
            // Another delivery of the same journal (a replica, or a concurrent handler) posted it first: Sage refused ours.
            // That one may not get its notices out; they are derived here from Sage's copy as well.
            let batch = existing.batchNumber?.rawValue ?? "unknown"
            _ = try ledger.record(key: key, messageID: message.messageID, result: batch)
            guard let held = try await client.findJournal(reference: journal.reference) else {
                return .duplicate("Sage refused a second \(journal.reference): already posted as batch \(batch)")
            }
            return .confirming(.duplicate("Sage refused a second \(journal.reference): already posted as batch \(batch); notices sent from Sage's copy",
                                          also: try await notices(document, batchNumber: held.batchNumber, readBack: held, postedNow: false)),
                               then: confirm)
        } catch let error as SageError {
            throw stageError(error, journal: journal)
        }
    }

    /// The `posted` audit record and the reconciliation of a settlement journal (with its batch's real-time
    /// refunds as Sage holds them now) or of a refund. `postedNow`: this delivery posted it (else the notices
    /// come from Sage's copy of an earlier posting, and the refund latency is not measured again).
    func notices(_ document: JournalDocument, batchNumber: SageBatchNumber, readBack: SagePostedJournal, postedNow: Bool) async throws
        -> [OutboundMessage]
    {
        let journal = document.journal
        var outputs: [OutboundMessage] = []
        var detail = "\(journal.reference) posted as Sage batch \(batchNumber) in company \(company)"
        if !postedNow {
            detail += " (confirmed from Sage's copy)"
        } else if let facts = document.refund, let received = try? Date(facts.receivedAt, strategy: .iso8601) {
            let latency = Date().timeIntervalSince(received)
            Metrics.Timer(label: "bridge_refund_latency_seconds").recordNanoseconds(Int64(max(0, latency) * 1e9))
            detail += String(format: ", %.3f s after Heartland reported refund %@", latency, facts.transactionId)
        }
        let notice = AuditNotice(event: "posted", stage: "sage-loader", detail: detail, idempotencyKey: journal.idempotencyKey)
        outputs.append(try OutboundMessage(exchange: auditExchange, routingKey: "audit.posted.sage-loader", json: notice,
                                           idempotencyKey: journal.idempotencyKey, schema: "bridge.audit.v1"))
        if let store = document.storeID {
            var refunds: [(refund: RealTimeRefund, sage: SageReadBack?)] = []
            for refund in document.refunds ?? [] {
                let found = try await client.findJournal(reference: refund.journal.reference)
                refunds.append((refund, found.map { Self.readBack($0, reference: refund.journal.reference) }))
            }
            var report = Reconciler.reconcile(storeID: StoreID(store), expected: journal, batch: document.batch,
                                              sage: Self.readBack(readBack, reference: journal.reference), refunds: refunds, rules: rules)
            report.partOf = document.refund?.dayReference
            BusinessMetrics.reconciled(report.status)
            outputs.append(try OutboundMessage(exchange: auditExchange, routingKey: "audit.reconciliation.\(report.status.rawValue)",
                                               json: report, idempotencyKey: "reconciliation:\(journal.reference)",
                                               schema: "bridge.reconciliation.v1"))
        }
        return outputs
    }

    /// The lines of one entry of a Sage batch, as the reconciliation compares them.
    static func readBack(_ posted: SagePostedJournal, reference: String) -> SageReadBack {
        SageReadBack(reference: reference, lines: posted.entries.filter { $0.reference == reference }
            .flatMap(\.lines).map { PostedLine(account: AccountNumber($0.account), signedCents: $0.amountCents) })
    }

    /// Sage's answer in the runner's terms. A missing account says which mapping rule names it and what to do.
    func stageError(_ error: SageError, journal: JournalEntry) -> StageError {
        switch error {
        case .validation(let message, let account?):
            let rules = Set(journal.lines.filter { $0.account.rawValue == account }.map(\.rule)).sorted()
            let rule = rules.isEmpty ? "" : " (mapping rule \(rules.joined(separator: ", ")))"
            return .permanent("GL account \(account)\(rule) does not exist in Sage company \(company): \(message). "
                              + "Create it in Sage or change Config/mapping.yaml, then run `bridgectl dlq replay sage-loader`")
        case .rateLimited(let after):
            return .transient("Sage rate limit: \(error)", retryAfter: after)
        default:
            return error.isTransient ? .transient("Sage: \(error)") : .permanent("Sage refused \(journal.reference): \(error)")
        }
    }
}

/// From the bridge's journal to Sage's GL batch: one entry, one line per journal line, signed cents.
enum SageBatchMapping {
    static func batch(for journal: JournalEntry) throws -> SageJournalBatch {
        guard let date = SageDate(mmddyyyy: journal.sagePostingDate) else {
            throw StageError.permanent("\(journal.reference): posting date \(journal.sagePostingDate) is not MM/DD/YYYY")
        }
        let lines = journal.lines.map { SageJournalLine(account: $0.account.rawValue, amountCents: $0.signedCents, description: $0.description) }
        return SageJournalBatch(description: journal.description, entries: [
            SageJournalEntry(reference: journal.reference, postingDate: date, description: journal.description, lines: lines),
        ])
    }
}

/// What finance watches on the dashboard: journals and amounts posted, reconciliation outcomes.
enum BusinessMetrics {
    static func posted(_ journal: JournalEntry) {
        Counter(label: "bridge_journals_posted_total", dimensions: [("source", journal.source.rawValue)]).increment()
        for line in journal.lines {
            Counter(label: "bridge_posted_amount_cents_total", dimensions: [("account", line.account.rawValue), ("side", line.side.rawValue)])
                .increment(by: Int64(line.amount.minorUnits))
        }
    }

    static func reconciled(_ status: ReconciliationStatus) {
        Counter(label: "bridge_reconciliations_total", dimensions: [("status", status.rawValue)]).increment()
    }
}
