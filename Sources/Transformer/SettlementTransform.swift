import Accounting
import BridgeClock
import Foundation
import Logging
import Messaging
import PipelineContracts
import SyncContracts

/// A closed batch, document by document: every ticket the batch carries is read and checked on its own; the good
/// ones post in one journal per business day (the batch's own day also carries its fees), the bad ones are set aside
/// with the field and the reason, an alert names each, and the batch's reconciliation stays incomplete until a
/// corrected version posts (`bridgectl quarantine replay`).
public struct BatchTransform: Sendable {
    /// The journal documents, the batch's own day first.
    public var documents: [JournalDocument]
    public var quarantined: [QuarantinedDocument]
    /// Brand totals of the batch that its postable tickets do not explain (nothing set aside, no gateway-only refund).
    public var disagreements: [String]
    /// The AR documents of the posted tickets charged to or paying down a house account (their GL side is in `documents`).
    public var receivables: [ReceivableCommand] = []
}

extension TransformerHandler {
    public func settlementOutcome(_ event: BatchClosedEvent, logger: Logger) throws -> StageOutcome {
        let built = try settlement(batch: event)
        // The day's records are let go by now: their pages back to the system before the outputs are encoded beside them.
        if let tickets = event.tickets.escaped, tickets.range.count >= FreedMemory.largeBody { FreedMemory.release() }
        var outputs: [OutboundMessage] = []
        for document in built.documents {
            logger.info("journal built", metadata: [
                "reference": .string(document.journal.reference), "lines": .stringConvertible(document.journal.lines.count),
                "debits_cents": .stringConvertible(document.journal.totalDebits),
            ])
            outputs.append(OutboundMessage(exchange: scoringExchange, routingKey: document.routingKey, body: try document.encodedBody(),
                                           idempotencyKey: document.journal.idempotencyKey, schema: JournalDocument.schema))
        }
        outputs += try receivableMessages(built.receivables)
        outputs += try quarantineMessages(built.quarantined, logger: logger)
        for disagreement in built.disagreements {
            logger.warning("batch disagrees with its tickets", metadata: ["detail": .string(disagreement)])
            let notice = AuditNotice(event: .batchDisagrees, stage: "transformer", detail: disagreement, idempotencyKey: event.idempotencyKey)
            outputs.append(try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.batchDisagrees.routingKey("transformer"), json: notice,
                                               idempotencyKey: event.idempotencyKey))
        }
        if built.documents.isEmpty, built.quarantined.isEmpty {
            // Every ticket of the batch is a card refund already posted on its own: nothing is left for a day journal.
            let notice = AuditNotice(event: .nothingToPost, stage: "transformer",
                                     detail: "batch \(event.batchId ?? "?") of store \(event.store.id) on \(event.businessDate) holds only card "
                                         + "refunds, each posted on its own; no day journal", idempotencyKey: event.idempotencyKey)
            outputs.append(try OutboundMessage(exchange: auditExchange, routingKey: AuditEvent.nothingToPost.routingKey("transformer"), json: notice,
                                               idempotencyKey: event.idempotencyKey))
        }
        return .publish(outputs)
    }

    /// The batch's ticket records, read where the tickets stand escaped in the delivery when they do (`RawJSON.escaped`).
    public static func ticketRecords(of event: BatchClosedEvent, currency: CurrencyCode) throws -> [TicketRecord] {
        if let escaped = event.tickets.escaped { return try HeartlandJSON.ticketRecords(from: escaped, currency: currency) }
        return try HeartlandJSON.ticketRecords(from: event.tickets.data, currency: currency)
    }

    /// The batch's journals and its set-aside documents. Deterministic: the same event gives the same journals,
    /// references and keys, however often it is processed.
    public func settlement(batch event: BatchClosedEvent) throws -> BatchTransform {
        try settlement(batch: event, tickets: nil)
    }

    /// The same, with the batch's ticket records already read from `event.tickets` (the mapping check reads them once for
    /// the card brands and once for the journal otherwise); nil: read here.
    public func settlement(batch event: BatchClosedEvent, tickets parsed: [TicketRecord]?) throws -> BatchTransform {
        try permanent(record: "batch \(event.batchId ?? "?") of store \(event.store.id) on \(event.businessDate)") { () throws -> BatchTransform in
            guard event.schema == BatchClosedEvent.schema else { throw StageError.permanent("unknown schema \(event.schema)") }
            let currency = try CurrencyCode(event.store.currency)
            let timeZone = try StoreTimeZone(event.store.timeZone)
            _ = try BusinessDate(parsing: event.businessDate)
            let batch = try HeartlandJSON.settlementBatch(from: event.batch.data)
            let store = StoreID(event.store.id)
            let rules = try rules(for: event.store.id)
            let records = try parsed ?? Self.ticketRecords(of: event, currency: currency)
            // A day's tickets are read where the records hold them, never copied into an array of their own (issue 21).
            var tickets = RecordedTickets(records)
            let receivables = ReceivablesPlan(tickets: tickets, customers: event.customers, storeID: store, timeZone: timeZone)
            if !receivables.rejected.isEmpty { tickets = tickets.keeping { receivables.rejected[$0.id] == nil } }
            let built = try SettlementJournalBuilder(rules: rules).buildBatch(storeID: store, timeZone: timeZone, currency: currency,
                                                                             batch: batch, tickets: tickets)
            let home = built.home
            let homeReference = home?.reference
                ?? SettlementJournalBuilder.dayReference(storeID: store, date: batch.businessDate, batch: batch.id)
            var quarantined: [QuarantinedDocument] = []
            for record in records where record.ticket == nil {
                let problem = record.problem ?? HeartlandDataError(record: "ticket", field: "(record)", problem: "cannot be read")
                quarantined.append(quarantine(record, event: event, batchReference: homeReference, field: problem.field,
                                              reason: problem.description, netByAccount: nil))
            }
            for record in records {
                guard let ticket = record.ticket, let problem = receivables.rejected[ticket.id] else { continue }
                quarantined.append(quarantine(record, event: event, batchReference: homeReference, field: problem.field, reason: problem.reason,
                                              netByAccount: nil))
            }
            for rejected in built.rejected {
                guard let record = records.first(where: { $0.ticket == rejected.ticket }) else { continue }
                quarantined.append(quarantine(record, event: event, batchReference: homeReference, field: Self.field(of: rejected.error),
                                              reason: rejected.error.description,
                                              netByAccount: Dictionary(uniqueKeysWithValues: rejected.netByAccount.map { ($0.key.rawValue, $0.value) })))
            }
            let valid = Set(tickets.lazy.map(\.id)).subtracting(built.rejected.map(\.ticket.id))
            let others = built.journals.filter { $0 != home }
            var documents: [JournalDocument] = []
            for journal in built.journals {
                defer {
                    let ids = built.documents[journal.reference] ?? []
                    documents[documents.count - 1].documents = ids.map(\.rawValue)
                    documents[documents.count - 1].receivables = receivables.expected(tickets: ids, posted: valid)
                }
                let activity = Self.cardActivity(tickets, details: { tickets.record(at: $0).details }, timeZone: timeZone) {
                    valid.contains($0.id) && $0.businessDate(in: timeZone) == journal.postingDate
                }
                if journal == home {
                    // The batch's own journal carries what its reconciliation needs: Heartland's totals, the refunds and
                    // the other days' journals posted apart (counted in full, read back from Sage), the set-aside tickets.
                    let parts = built.refunds + others.map {
                        RealTimeRefund(journal: $0, ticketNumber: "business day \($0.postingDate.iso) of batch \(batch.id)", refundedCents: 0)
                    }
                    documents.append(JournalDocument(journal: journal, storeID: event.store.id, batch: batch, refunds: parts,
                                                     cardActivity: activity, quarantined: quarantined.isEmpty ? nil : quarantined))
                } else {
                    documents.append(JournalDocument(journal: journal, storeID: event.store.id, batch: nil, cardActivity: activity,
                                                     partOf: homeReference))
                }
            }
            let disagreements = quarantined.isEmpty ? built.disagreements.map(\.description) : []
            // The journal of each ticket that has receivables (on account): only those are asked for.
            var journalOf: [TicketID: String] = [:]
            for (reference, ids) in built.documents where !receivables.documents.isEmpty {
                for id in ids where receivables.documents[id] != nil && journalOf[id] == nil { journalOf[id] = reference }
            }
            return BatchTransform(documents: documents, quarantined: quarantined, disagreements: disagreements,
                                  receivables: receivables.commands(store: event.store, posted: valid, journalOf: { journalOf[$0] },
                                                                                    reconciledUnder: homeReference))
        }
    }

    /// A set-aside ticket as Heartland serves it after a correction: a supplementary journal on its own business day
    /// (part of its batch's reconciliation), or set aside again with the new reason.
    public func correctedOutcome(_ event: TicketCorrectedEvent, logger: Logger) throws -> StageOutcome {
        let currency = try permanent(record: "corrected ticket \(event.documentId)") { try CurrencyCode(event.store.currency) }
        let timeZone = try permanent(record: "corrected ticket \(event.documentId)") { try StoreTimeZone(event.store.timeZone) }
        let records = try permanent(record: "corrected ticket \(event.documentId)") {
            try HeartlandJSON.ticketRecords(from: event.ticket.data, currency: currency)
        }
        guard records.count == 1, let record = records.first else {
            throw StageError.permanent("corrected ticket \(event.documentId): Heartland served \(records.count) records, not one")
        }
        let context = BatchClosedEvent(store: event.store, businessDate: "", batchId: event.batchId, batch: RawJSON(Data()), tickets: event.ticket)
        func again(field: String, reason: String, net: [String: Int64]?) throws -> StageOutcome {
            var held = quarantine(record, event: context, batchReference: event.batchReference, field: field, reason: reason, netByAccount: net)
            held.locationId = held.locationId ?? event.locationId
            return .publish(try quarantineMessages([held], logger: logger))
        }
        guard let ticket = record.ticket else {
            let problem = record.problem ?? HeartlandDataError(record: "ticket", field: "(record)", problem: "cannot be read")
            return try again(field: problem.field, reason: problem.description, net: nil)
        }
        let rules = try rules(for: event.store.id)
        let receivables = ReceivablesPlan(tickets: [ticket], customers: event.customers, storeID: StoreID(event.store.id), timeZone: timeZone)
        if let problem = receivables.rejected[ticket.id] { return try again(field: problem.field, reason: problem.reason, net: nil) }
        let journal: JournalEntry
        do {
            journal = try SettlementJournalBuilder(rules: rules).buildSupplement(ticket, storeID: StoreID(event.store.id), timeZone: timeZone,
                                                                                currency: currency, batch: event.batchId.map(BatchID.init))
        } catch {
            return try again(field: Self.field(of: error), reason: error.description, net: nil)
        }
        let details = (try? TicketDetails.parse(tickets: record.raw)) ?? [:]
        var document = JournalDocument(journal: journal, storeID: event.store.id, batch: nil,
                                       cardActivity: Self.cardActivity([ticket], details: details, timeZone: timeZone),
                                       partOf: event.batchReference, resolves: record.documentID)
        document.documents = [ticket.id.rawValue]
        document.receivables = receivables.expected(tickets: [ticket.id], posted: [ticket.id])
        logger.info("supplementary journal built", metadata: ["reference": .string(journal.reference), "ticket": .string(record.documentID)])
        return .publish([try OutboundMessage(exchange: scoringExchange, routingKey: document.routingKey, json: document,
                                             idempotencyKey: journal.idempotencyKey, schema: JournalDocument.schema)]
            + (try receivableMessages(receivables.commands(store: event.store, posted: [ticket.id], journalOf: { _ in journal.reference },
                                                                    reconciledUnder: event.batchReference))))
    }

    func quarantine(_ record: TicketRecord, event: BatchClosedEvent, batchReference: String?, field: String, reason: String,
                    netByAccount: [String: Int64]?) -> QuarantinedDocument {
        QuarantinedDocument(
            store: event.store, documentId: record.documentID, number: record.number, locationId: Self.locationID(of: record.raw),
            batchId: event.batchId, batchReference: batchReference, field: field, reason: CardMask.mask(reason), netByAccount: netByAccount,
            raw: RawJSON(Data(CardMask.mask(String(decoding: record.raw, as: UTF8.self)).utf8)), quarantinedAt: Timestamps.iso8601(now()))
    }

    /// The record on `bridge.audit` for the operations store, and an alert naming store, document and field.
    func quarantineMessages(_ held: [QuarantinedDocument], logger: Logger) throws -> [OutboundMessage] {
        try held.flatMap { document -> [OutboundMessage] in
            logger.warning("ticket set aside", metadata: ["ticket": .string(document.documentId), "field": .string(document.field)])
            let alert = AlertNotice(
                kind: .documentQuarantined, severity: "warning", stage: "transformer",
                reason: "store \(document.store.id) ticket \(document.number ?? document.documentId) (id \(document.documentId)) of batch "
                    + "\(document.batchId ?? "?") is set aside, field \(document.field): \(document.reason). The rest of the batch posts; "
                    + "correct the ticket in Heartland, then `bridgectl quarantine replay \(document.store.id) \(document.documentId)`",
                idempotencyKey: document.idempotencyKey)
            return [
                try OutboundMessage(exchange: auditExchange, routingKey: QuarantinedDocument.routingKey, json: document,
                                    idempotencyKey: "\(document.idempotencyKey):\(RawJSON.fingerprint(document.raw.data))",
                                    schema: QuarantinedDocument.schema),
                try OutboundMessage(exchange: alertExchange, routingKey: AlertKind.documentQuarantined.routingKey("transformer"), json: alert,
                                    idempotencyKey: document.idempotencyKey),
            ]
        }
    }

    /// The field a posting error is about, for the quarantine record.
    static func field(of error: PostingError) -> String {
        switch error {
        case .ticketOutOfBalance: "payments (tenders differ from lines plus tips)"
        case .currencyMismatch: "currency"
        case .overflow: "amounts"
        case .ticketOutsideBusinessDay: "completed_at"
        default: "(record)"
        }
    }

    static func locationID(of raw: Data) -> Int64? {
        struct Located: Decodable {
            var location_id: Int64?
        }
        return (try? JSONDecoder().decode(Located.self, from: raw))?.location_id
    }
}
