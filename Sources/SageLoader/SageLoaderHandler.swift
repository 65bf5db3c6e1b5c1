import Accounting
import BridgeClock
import Foundation
import Logging
import Messaging
import Metrics
import PipelineContracts
import SageConnector
import Synchronization

/// The sage-loader stage: posts each journal to Sage exactly once, reads it back, and publishes the
/// reconciliation on `bridge.audit`.
///
/// Sage 300 keeps no unique key on a journal's reference, so two deliveries of one journal (copies,
/// redeliveries, on any handler of any replica) can both find nothing and both post. The loaders make it
/// one: the local ledger is a cache; Sage is looked up before the post and again right after it, the entry
/// with the lowest batch number is the journal, and any other is deleted while it is still an entered
/// (unposted) batch, by whichever delivery sees it (the later poster, or any later delivery). A message
/// redelivered after a crash waits `inDoubtWindow` before anything else, so a post the crashed handler had
/// sent lands, and is found (and its copy deleted), before it looks or posts. A message this process has
/// already handled to the end (its connection to the broker was lost before the ack: a node of the cluster
/// went away) has no post in doubt and does not wait: the Compose cluster day stalled 35 s per round of
/// redeliveries before.
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
    public let validation: JournalValidation
    /// How long a post sent by a handler that then died may take to land (the Sage client's timeout and a margin).
    public let inDoubtWindow: Duration
    /// Sage AR as the batch reconciliation reads it (the Web API); nil with GL import files.
    public let receivables: ReceivablesReadBack?

    public init(client: any SageClient, ledger: IdempotencyStore, rules: MappingRules, company: String, auditExchange: String = "bridge.audit",
                validation: JournalValidation? = nil, inDoubtWindow: Duration = .seconds(35), receivables: ReceivablesReadBack? = nil) {
        self.receivables = receivables
        self.client = client
        self.ledger = ledger
        self.rules = rules
        self.company = company
        self.auditExchange = auditExchange
        self.validation = validation ?? JournalValidation(rules: rules)
        self.inDoubtWindow = inDoubtWindow
    }

    /// The messages this process has handled to the end, without an error (the latest `HandledHere.capacity`).
    private(set) var handledHere = HandledHere()

    /// This handler with `other`'s record of the messages this process handled to the end: a loader that makes a new
    /// handler when its mapping changes still answers their redeliveries without waiting the in-doubt window.
    public func remembering(handledBy other: SageLoaderHandler) -> SageLoaderHandler {
        var handler = self
        handler.handledHere = other.handledHere
        return handler
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        let outcome = try await handleJournal(message, logger: logger)
        handledHere.record(message.messageID)
        return outcome
    }

    private func handleJournal(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        let document = try message.decode(JournalDocument.self)
        let journal = document.journal
        try validation.check(journal)
        let key = message.idempotencyKey ?? journal.idempotencyKey
        if message.redelivered && handledHere.contains(message.messageID) {
            logger.info("redelivered journal handled here to the end before: no post in doubt", metadata: ["reference": .string(journal.reference)])
        } else if message.redelivered {
            // The delivery before this one may have died with its post on the way to Sage (on this loader or another,
            // whatever their ledgers say): let that post land before Sage is looked at, so the copy is found and deleted.
            // Waited here rather than in a delay tier: the tier at least this long would be minutes.
            logger.notice("redelivered journal: waiting for a post in doubt to land before looking at Sage",
                          metadata: ["reference": .string(journal.reference), "wait": "\(inDoubtWindow)"])
            try await Task.sleep(for: inDoubtWindow)
        }
        let ledgered = try await ledger.result(for: key)
        if let batchNumber = ledgered, try await ledger.noticesConfirmed(key: key) {
            return .duplicate("\(journal.reference) already posted as Sage batch \(batchNumber), its notices confirmed (local ledger)")
        }
        // Once the broker has confirmed the notices, they need not be derived again.
        let confirm: @Sendable () async throws -> Void = { [ledger] in try await ledger.confirmNotices(key: key) }
        do {
            if let kept = try await onlyOne(journal.reference, logger: logger) {
                // Posted before: by this loader before a failure (the read-back, the reconciliation or a crash came
                // between posting and confirming the notices), or by a replica that may have failed the same way.
                // Notices are derived, not remembered: they are sent from Sage's copy until they are confirmed.
                if ledgered == nil { _ = try await ledger.record(key: key, messageID: message.messageID, result: kept.batchNumber.rawValue) }
                let source = ledgered == nil ? "" : " (local ledger)"
                return .confirming(.duplicate("Sage already holds \(journal.reference) as batch \(kept.batchNumber)\(source); notices sent from Sage's copy",
                                              also: try await notices(document, batchNumber: kept.batchNumber, readBack: kept, postedNow: false)),
                                   then: confirm)
            }
            if let batchNumber = ledgered {
                // The ledger says posted but Sage does not show it (yet: an import file not processed): never post twice.
                throw StageError.transient("\(journal.reference) was posted as Sage batch \(batchNumber) (local ledger) but Sage does not show it; "
                                           + "its notices wait for Sage's copy")
            }
            let receipt = try await client.post(try SageBatchMapping.batch(for: journal))
            // Another delivery may have posted the same journal meanwhile: the lowest batch number stays. The
            // answer is also the read-back the reconciliation compares.
            guard let kept = try await onlyOne(journal.reference, logger: logger) else {
                throw StageError.transient("\(journal.reference) was posted as batch \(receipt.batchNumber) but Sage does not list it; looking again")
            }
            _ = try await ledger.record(key: key, messageID: message.messageID, result: kept.batchNumber.rawValue)
            guard kept.batchNumber == receipt.batchNumber else {
                // The keeper's own delivery says what was posted; if it died, its redelivery derives the notices.
                return .duplicate("\(journal.reference) was posted by another delivery at the same time as batch \(kept.batchNumber); "
                    + "this delivery's batch \(receipt.batchNumber) was deleted")
            }
            logger.info("posted", metadata: ["reference": .string(journal.reference), "sage_batch": .string(receipt.batchNumber.rawValue)])
            BusinessMetrics.posted(journal)
            return .confirming(.publish(try await notices(document, batchNumber: receipt.batchNumber, readBack: kept, postedNow: true)),
                               then: confirm)
        } catch SageError.duplicateReference(let existing) {
            // A Sage that refuses a second reference (sage-pro-sim --unique-references) turned our copy away.
            // The delivery that posted it may not get its notices out; they are derived here from Sage's copy as well.
            let batch = existing.batchNumber?.rawValue ?? "unknown"
            _ = try await ledger.record(key: key, messageID: message.messageID, result: batch)
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

    /// The batch that holds `reference` in Sage, as Sage holds it, after deleting every other batch holding it
    /// (copies posted by racing deliveries): the lowest number, which a later post can never undercut. Nil if none.
    func onlyOne(_ reference: String, logger: Logger) async throws -> SagePostedJournal? {
        let batches = try await client.postedJournals(reference: reference)
        guard let kept = batches.first else { return nil }
        for copy in batches.dropFirst().map(\.batchNumber) {
            logger.warning("deleting a second copy of a journal", metadata: [
                "reference": .string(reference), "kept_batch": .string(kept.batchNumber.rawValue), "deleted_batch": .string(copy.rawValue)])
            do {
                try await client.deleteBatch(copy)
            } catch SageError.notFound {
                // Another delivery deleted it first.
            }
            Counter(label: "bridge_duplicate_posts_removed_total").increment()
        }
        return kept
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
        if let tickets = document.documents, !tickets.isEmpty {
            detail += ", tickets \(tickets.joined(separator: " "))"
        }
        if !postedNow {
            detail += " (confirmed from Sage's copy)"
        } else if let facts = document.refund, let received = Timestamps.instant(facts.receivedAt) {
            let latency = Date().timeIntervalSince(received)
            Metrics.Timer(label: "bridge_refund_latency_seconds").recordNanoseconds(Int64(max(0, latency) * 1e9))
            detail += String(format: ", %.3f s after Heartland reported refund %@", latency, facts.transactionId)
        }
        let notice = AuditNotice(event: .posted, stage: "sage-loader", detail: detail, idempotencyKey: journal.idempotencyKey)
        outputs.append(try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.posted.routingKey("sage-loader"), json: notice,
                                           idempotencyKey: journal.idempotencyKey, schema: "bridge.audit.v1"))
        if let store = document.storeID {
            // The batch's real-time refunds as Sage holds them, read together (a day of hundreds of refunds read one by one
            // would run into Sage's rate limit on every attempt, and the day would never reconcile).
            let batchRefunds = document.refunds ?? []
            let held = batchRefunds.isEmpty ? [:] : try await client.findJournals(references: batchRefunds.map(\.journal.reference))
            let refunds = batchRefunds.map { refund in
                (refund: refund, sage: held[refund.journal.reference].map { Self.readBack($0, reference: refund.journal.reference) })
            }
            let setAside = (document.quarantined ?? []).map {
                SetAsideReconciliation(documentId: $0.documentId, number: $0.number, field: $0.field, reason: $0.reason, netByAccount: $0.netByAccount)
            }
            var report = Reconciler.reconcile(storeID: StoreID(store), expected: journal, batch: document.batch,
                                              sage: Self.readBack(readBack, reference: journal.reference), refunds: refunds, rules: rules,
                                              setAside: setAside, receivables: try await ReceivablesReadBack.compare(document, reader: receivables))
            report.partOf = document.refund?.dayReference ?? document.partOf
            report.resolves = document.resolves
            BusinessMetrics.reconciled(report.status)
            outputs.append(try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.reconciliation.routingKey(report.status.rawValue),
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
public enum SageBatchMapping {
    public static func batch(for journal: JournalEntry) throws -> SageJournalBatch {
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
            // A decoded journal's amounts are positive (JournalEntry's decoding checks them); a counter never goes down.
            Counter(label: "bridge_posted_amount_cents_total", dimensions: [("account", line.account.rawValue), ("side", line.side.rawValue)])
                .increment(by: max(0, line.amount.minorUnits))
        }
    }

    static func reconciled(_ status: ReconciliationStatus) {
        Counter(label: "bridge_reconciliations_total", dimensions: [("status", status.rawValue)]).increment()
    }
}

/// Message ids a loader process has handled to the end, without an error, so none of its posts for them can still be
/// on the way to Sage. Bounded: the oldest are forgotten first (a forgotten one only waits the in-doubt window again).
final class HandledHere: Sendable {
    static let capacity = 10_000
    private struct State {
        var ids: Set<String> = []
        var order: [String] = []
    }

    private let state = Mutex(State())

    func record(_ id: String) {
        guard !id.isEmpty else { return }  // a message without an id is never taken for another
        state.withLock { state in
            guard state.ids.insert(id).inserted else { return }
            state.order.append(id)
            if state.order.count > Self.capacity {
                let forgotten = state.order.prefix(state.order.count - Self.capacity)
                state.ids.subtract(forgotten)
                state.order.removeFirst(forgotten.count)
            }
        }
    }

    func contains(_ id: String) -> Bool { !id.isEmpty && state.withLock { $0.ids.contains(id) } }
}
