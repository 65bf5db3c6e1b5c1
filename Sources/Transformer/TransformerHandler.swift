import Accounting
import BridgeClock
import Foundation
import Logging
import Messaging
import PipelineContracts
import SyncContracts

/// The transformer stage: validates a Heartland event, repairs what the mapping rules can repair
/// (amount strings, brand spellings), and turns it into one balanced journal with the mapping file.
/// Data it cannot repair is a permanent error that names the record and the field.
public struct TransformerHandler: StageHandler {
    /// The mapping this message is handled with (from `mappingFile` when there is one, read once per message).
    public private(set) var rules: MappingRules
    /// The mapping file, read again when it changes; nil: `rules` for good (tests).
    private(set) var mappingFile: MappingFileSource?
    public let scoringExchange: String
    public let commandsExchange: String
    public let auditExchange: String
    public let alertExchange: String
    /// Now, for the quarantine records' times (tests pass a fixed one).
    public let now: @Sendable () -> Date

    public init(rules: MappingRules, scoringExchange: String = "bridge.scoring", commandsExchange: String = "bridge.commands",
                auditExchange: String = "bridge.audit", alertExchange: String = "bridge.alerts", now: @escaping @Sendable () -> Date = { Date() }) {
        self.alertExchange = alertExchange
        self.now = now
        self.rules = rules
        self.mappingFile = nil
        self.scoringExchange = scoringExchange
        self.commandsExchange = commandsExchange
        self.auditExchange = auditExchange
    }

    /// A transformer that reads its mapping from `mapping` again whenever the file changes.
    public init(mapping: MappingFileSource, now: @escaping @Sendable () -> Date = { Date() }) {
        self.init(rules: mapping.current(), now: now)
        mappingFile = mapping
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        guard let mappingFile else { return try await handleWithRules(message, logger: logger) }
        var pinned = self
        pinned.rules = mappingFile.current()
        let outcome = try await pinned.handleWithRules(message, logger: logger)
        return outcome.publishing(try mappingFile.takeAlerts())
    }

    private func handleWithRules(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        if MasterDataTransform.handles(message.routingKey) {
            return try MasterDataTransform.outcome(for: message, commandsExchange: commandsExchange, logger: logger)
        }
        let document: JournalDocument
        switch message.routingKey {
        case BatchClosedEvent.routingKey:
            return try settlementOutcome(message.decode(BatchClosedEvent.self, reading: BatchClosedEvent.init(bytes:)), logger: logger)
        case TicketCorrectedEvent.routingKey:
            return try correctedOutcome(message.decode(TicketCorrectedEvent.self), logger: logger)
        case PayrollCompletedEvent.routingKey:
            document = try payroll(message.decode(PayrollCompletedEvent.self))
        case RefundCreatedEvent.routingKey:
            let event = try message.decode(RefundCreatedEvent.self)
            if event.returnTicket == nil { return try gatewayRefundOutcome(event, logger: logger) }
            guard let built = try refund(event) else {
                return .duplicate("refund \(event.transactionId) is part of an exchange ticket: it posts with the day's journal, not on its own")
            }
            document = built
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

    /// The day's card tenders, one per card transaction, from the tickets the journal was built from
    /// (void tickets left out: their money did not move). A refund that posts on its own is marked so;
    /// the fraud scorer judged it when it happened.
    static func cardActivity(_ tickets: [Ticket], details: [TicketID: TicketDetails], timeZone: StoreTimeZone,
                             where included: (Ticket) -> Bool = { _ in true }) -> CardActivity {
        cardActivity(tickets, details: { details[tickets[$0].id] }, timeZone: timeZone, where: included)
    }

    /// The same, each ticket's details asked for by its position in `tickets` (a day's records hold them: no dictionary of
    /// 50,000 details is built beside them, issue 21).
    static func cardActivity<Tickets: RandomAccessCollection<Ticket>>(_ tickets: Tickets, details: (Int) -> TicketDetails?, timeZone: StoreTimeZone,
                                                                      where included: (Ticket) -> Bool = { _ in true }) -> CardActivity
        where Tickets.Index == Int
    {
        // In time order; the positions sorted, not a copy of the tickets.
        let order = tickets.indices.filter { !tickets[$0].isVoid && included(tickets[$0]) }
            .sorted { (tickets[$0].completedAt, tickets[$0].id) < (tickets[$1].completedAt, tickets[$1].id) }
        // Counted first: an array grown by doubling holds its old and new storage at once (18 MB at 50,000 tickets).
        var transactions: [CardActivity.Transaction] = []
        transactions.reserveCapacity(order.reduce(0) { count, position in
            count + tickets[position].tenders.count { tender in
                if case .card(_, let amount, _, _) = tender { return amount.minorUnits != 0 }
                return false
            }
        })
        for position in order {
            let ticket = tickets[position]
            let detail = details(position)
            for (index, tender) in ticket.tenders.enumerated() {
                guard case .card(let brand, let amount, let tip, let transaction) = tender, amount.minorUnits != 0 else { continue }
                let payment = detail.flatMap { index < $0.payments.count ? $0.payments[index] : nil }
                let refund = amount.minorUnits < 0
                transactions.append(CardActivity.Transaction(
                    transactionId: transaction?.rawValue ?? "ticket:\(ticket.id):payment:\(payment?.id.map(String.init) ?? String(index))",
                    kind: refund ? .refund : .sale, ticketId: ticket.id.rawValue, ticketNumber: ticket.number, brand: brand,
                    cardToken: payment?.last4.map { "\(brand.uppercased()):??????******\($0)" },
                    amountCents: Int64(clamping: amount.minorUnits.magnitude),
                    tipCents: Int64(clamping: tip.minorUnits.magnitude), completedAt: Timestamps.iso8601(ticket.completedAt),
                    terminal: detail?.stationId.map(String.init), clerk: detail?.salesRep, entryMode: payment?.entryMode,
                    postsOnItsOwn: refund && ticket.postsAsRealTimeRefund))
            }
        }
        return CardActivity(timeZone: timeZone.identifier, transactions: transactions)
    }

    /// One card refund as it happens: the return ticket's journal, and the facts the fraud scorer
    /// judges it on (its sale, earlier returns of that sale, the card). Nil when the return ticket is
    /// an exchange, which the day's journal carries. With no return ticket at all (keyed on the gateway)
    /// the suspense journal, which an operator later allocates.
    func refund(_ event: RefundCreatedEvent) throws -> JournalDocument? {
        try permanent(record: "refund \(event.transactionId) of store \(event.store.id)") { () throws -> JournalDocument? in
            guard event.schema == RefundCreatedEvent.schema else { throw StageError.permanent("unknown schema \(event.schema)") }
            let currency = try CurrencyCode(event.store.currency)
            let timeZone = try StoreTimeZone(event.store.timeZone)
            let transaction = try GatewayTransaction.parse(event.refundTransaction.data, currency: currency)
            guard let returnJSON = event.returnTicket else {
                // Keyed on the gateway: what it gave back is unknown, so it waits in suspense for an operator.
                return try gatewayOnlyRefund(event, transaction: transaction, timeZone: timeZone, currency: currency)
            }
            guard let ticket = try HeartlandJSON.tickets(from: returnJSON.data, currency: currency).first else {
                throw StageError.permanent("the return ticket Heartland Retail sent for refund \(event.transactionId) holds no ticket: the "
                    + "merchandise and tax it gives back are unknown. Check the return in Heartland Retail, then replay")
            }
            guard ticket.postsAsRealTimeRefund else { return nil }
            let store = StoreID(event.store.id)
            let journal = try SettlementJournalBuilder(rules: try rules(for: event.store.id)).buildRefund(ticket, storeID: store, timeZone: timeZone,
                                                                                                      currency: currency)
            let details = try TicketDetails.parse(tickets: returnJSON.data)[ticket.id]
            // The original sale and earlier returns are context too: a record among them that cannot be read is left out.
            let original = event.originalTicket.flatMap { try? HeartlandJSON.ticketRecords(from: $0.data, currency: currency).first?.ticket }
            // The sale is context for the fraud scorer: one Heartland serves malformed is treated as unknown, not fatal to the refund.
            let sale = event.saleTransaction.flatMap { try? GatewayTransaction.parse($0.data, currency: currency) }
            let earlier = try HeartlandJSON.ticketRecords(from: event.earlierReturns.data, currency: currency).compactMap(\.ticket)
                .filter { !$0.isVoid && ($0.completedAt, Int64($0.id.rawValue) ?? 0) < (ticket.completedAt, Int64(ticket.id.rawValue) ?? 0) }
                .reduce(Int64(0)) { $0 + $1.refundedCents }
            var mix = (card: Int64(0), cash: Int64(0), giftCard: Int64(0))
            for tender in original?.tenders ?? [] where tender.amount.minorUnits > 0 {
                switch tender {
                case .card: mix.card += tender.amount.minorUnits
                case .cash: mix.cash += tender.amount.minorUnits
                case .giftCard: mix.giftCard += tender.amount.minorUnits
                case .onAccount: mix.cash += tender.amount.minorUnits  // not a card: no card to compare the refund's with
                }
            }
            // The sale's card: the transaction the refund points at, if it is one of the original ticket's card tenders.
            let saleTransactions = Set((original?.tenders ?? []).compactMap { tender -> TransactionID? in
                if case .card(_, _, _, let id) = tender { return id }
                return nil
            })
            let saleCards = sale.flatMap { saleTransactions.contains($0.id) ? [$0.card] : nil } ?? []
            let date = ticket.businessDate(in: timeZone)
            var facts = RefundFacts(
                transactionId: event.transactionId, batchId: transaction.batchId,
                dayReference: transaction.batchId.map { SettlementJournalBuilder.dayReference(storeID: store, date: date, batch: BatchID($0)) },
                returnTicketId: ticket.id.rawValue, returnTicketNumber: ticket.number, originalTicketId: original?.id.rawValue,
                originalTicketNumber: original?.number, originalCents: original.map { _ in mix.card + mix.cash + mix.giftCard },
                earlierRefundedCents: earlier, refundedCents: ticket.refundedCents, refundCard: transaction.card, saleCards: saleCards,
                saleCardCents: mix.card, saleCashCents: mix.cash, saleGiftCardCents: mix.giftCard, entryMode: transaction.entryMode,
                terminal: transaction.terminal ?? details?.stationId.map(String.init) ?? "unknown", clerk: details?.salesRep,
                occurredAt: Timestamps.iso8601(ticket.completedAt), timeZone: timeZone.identifier, receivedAt: event.receivedAt, problems: [])
            facts.problems = Self.problems(facts)
            return JournalDocument(journal: journal, storeID: event.store.id, batch: nil, refund: facts)
        }
    }

    /// The refund's departures from "a refund of its own sale, to its card, within what is left", in words.
    static func problems(_ facts: RefundFacts) -> [String] {
        var problems: [String] = []
        if facts.isUnlinked {
            problems.append("no original sale: return \(facts.returnTicketNumber) names no sale Heartland has")
        }
        if facts.exceedsOriginal, let original = facts.originalCents {
            problems.append("over the original: \(Money.decimalString(facts.refundedCents)) refunded after \(Money.decimalString(facts.earlierRefundedCents)) "
                + "already returned of sale \(facts.originalTicketNumber ?? "?")'s \(Money.decimalString(original))")
        }
        if facts.toAnotherCard {
            let sale = facts.saleCards.isEmpty ? "a card refund to a transaction that is not one of sale \(facts.originalTicketNumber ?? "?")'s card payments"
                : "the sale was paid with \(facts.saleCards.joined(separator: ", "))"
            problems.append("to another card: refunded to \(facts.refundCard ?? "?"), \(sale)")
        }
        return problems
    }

    func payroll(_ event: PayrollCompletedEvent) throws -> JournalDocument {
        try permanent(record: "pay run") {
            let run = try HeartlandJSON.payRun(from: event.payRun.data, currency: try CurrencyCode(event.currency))
            return JournalDocument(journal: try PayrollJournalBuilder(rules: rules).build(run), batch: nil)
        }
    }

    /// The rules with the store's own accounts (`MappingRules.resolved(for:)`). A store the mapping gives no account where
    /// it needs one is held: its messages park in the dead-letter queue with one alert between them, and post once the
    /// mapping is completed and they are replayed (`bridgectl dlq replay transformer`).
    func rules(for store: String) throws -> MappingRules {
        do {
            return try rules.resolved(for: StoreID(store))
        } catch {
            throw StageError.held(error.description, holdKey: error.holdKey)
        }
    }

    /// Every failure here is about the data or the mapping: retrying cannot help.
    func permanent<T>(record: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StageError {
            throw error
        } catch {
            throw StageError.permanent("\(record): \(error)")
        }
    }
}
