/// The journals of one settlement batch (ACCOUNTING.md "Several batches a day, late and bad
/// documents"): the documents assigned to the batch, each checked on its own, posted grouped by
/// their business day, one journal per day; a ticket that cannot post is set aside with its reason
/// and the rest posts.
public struct BatchJournals: Sendable {
    /// One journal per business day the batch's tickets fall on, sorted by date. The batch's fees post on the
    /// batch's own business day. Empty when every ticket is a card refund posted on its own (or was set aside).
    public var journals: [JournalEntry]
    /// The batch's card refunds that post on their own (see `Ticket.postsAsRealTimeRefund`).
    public var refunds: [RealTimeRefund]
    /// Tickets that cannot post as written, with the reason.
    public var rejected: [RejectedTicket]
    /// Brands whose batch net differs from the card tenders of the batch's postable tickets (set-aside
    /// tickets and gateway-only refunds explain such a difference; anything else is a missing document).
    public var disagreements: [PostingError]

    /// The batch's own business day (nil without a batch).
    public var batchDate: BusinessDate?
    /// The tickets each journal contains, by reference (a ticket is in one journal only).
    public var documents: [String: [TicketID]] = [:]

    /// The journal of the batch's own business day, else the first (the batch's reconciliation is filed under it).
    public var home: JournalEntry? { journals.first { $0.postingDate == batchDate } ?? journals.first }
}

/// A ticket that cannot post as written, and why.
public struct RejectedTicket: Sendable, Equatable {
    public var ticket: Ticket
    public var error: PostingError
    /// Net per account the ticket would post as written (debit positive); it need not balance.
    public var netByAccount: [AccountNumber: Int64]
}

extension SettlementJournalBuilder {
    /// The batch's journals from the tickets assigned to it (`tickets`, all readable).
    public func buildBatch<Tickets: RandomAccessCollection<Ticket>>(storeID: StoreID, timeZone: StoreTimeZone, currency: CurrencyCode,
                                                                    batch: SettlementBatch?, tickets: Tickets) throws(PostingError)
        -> BatchJournals where Tickets.Index == Int
    {
        guard currency == rules.currency else {
            throw .currencyMismatch(record: "store \(storeID) batch \(batch?.id.rawValue ?? "none")", found: currency, expected: rules.currency)
        }
        var ledgers: [BusinessDate: JournalLedger] = [:]
        var contents: [BusinessDate: [TicketID]] = [:]
        var cardNetByBrand: [String: Int64] = [:]
        var refunds: [RealTimeRefund] = []
        var rejected: [RejectedTicket] = []
        // In time order; the positions sorted, not a copy of the tickets (5 MB at 50,000).
        let order = tickets.indices.sorted { (tickets[$0].completedAt, tickets[$0].id.rawValue) < (tickets[$1].completedAt, tickets[$1].id.rawValue) }
        for ticket in order.lazy.map({ tickets[$0] }) where !ticket.isVoid {
            var scratch = JournalLedger(currency: currency)
            var scratchBrands: [String: Int64] = [:]
            do {
                try post(ticket, into: &scratch, cardNetByBrand: &scratchBrands)
            } catch {
                rejected.append(RejectedTicket(ticket: ticket, error: error, netByAccount: scratch.lines.reduce(into: [:]) {
                    $0[$1.account, default: 0] &+= $1.signedCents
                }))
                continue
            }
            for (brand, cents) in scratchBrands { cardNetByBrand[brand, default: 0] &+= cents }
            if ticket.postsAsRealTimeRefund {
                refunds.append(RealTimeRefund(journal: try buildRefund(ticket, storeID: storeID, timeZone: timeZone, currency: currency),
                                              ticketNumber: ticket.number, refundedCents: ticket.refundedCents))
                continue
            }
            let date = ticket.businessDate(in: timeZone)
            var ledger = ledgers[date] ?? JournalLedger(currency: currency)
            try ledger.absorb(scratch, record: "ticket \(ticket.id) (\(ticket.number))")
            ledgers[date] = ledger
            contents[date, default: []].append(ticket.id)
        }
        var disagreements: [PostingError] = []
        if let batch {
            do { try checkBatch(batch, againstTickets: cardNetByBrand) } catch { disagreements.append(error) }
            var ledger = ledgers[batch.businessDate] ?? JournalLedger(currency: currency)
            try postFees(batch, into: &ledger)
            if !ledger.lines.isEmpty { ledgers[batch.businessDate] = ledger }
        }
        let journals = try ledgers.keys.sorted().map { date throws(PostingError) in
            try JournalEntry.balanced(
                source: .settlement, reference: Self.dayReference(storeID: storeID, date: date, batch: batch?.id),
                idempotencyKey: Self.batchKey(storeID: storeID, date: date, batch: batch), postingDate: date,
                description: "Heartland store \(storeID) sales \(date.sageFormat)" + (batch.map { " batch \($0.id)" } ?? ""),
                currency: currency, lines: ledgers[date]!.lines)
        }
        return BatchJournals(journals: journals, refunds: refunds, rejected: rejected, disagreements: disagreements, batchDate: batch?.businessDate,
                             documents: Dictionary(uniqueKeysWithValues: journals.map { ($0.reference, contents[$0.postingDate] ?? []) }))
    }

    /// `heartland:batch:<id>` for the batch's own business day, `heartland:batch:<id>:<yyyymmdd>` for another
    /// (a batch closed after midnight carries the previous day's late tickets and the new day's first ones).
    public static func batchKey(storeID: StoreID, date: BusinessDate, batch: SettlementBatch?) -> String {
        guard let batch else { return "heartland:storeday:\(storeID):\(date.compact)" }
        return batch.businessDate == date ? "heartland:batch:\(batch.id)" : "heartland:batch:\(batch.id):\(date.compact)"
    }

    /// A ticket set aside from its batch and posted once corrected at the source: on its own business day,
    /// `HL-<store>-<yyyymmdd>-<batch>-T<ticket id>`, key `heartland:ticket:<id>` (one ticket, one supplement).
    public func buildSupplement(_ ticket: Ticket, storeID: StoreID, timeZone: StoreTimeZone, currency: CurrencyCode,
                                batch: BatchID?) throws(PostingError) -> JournalEntry {
        guard currency == rules.currency else {
            throw .currencyMismatch(record: "ticket \(ticket.id)", found: currency, expected: rules.currency)
        }
        var ledger = JournalLedger(currency: currency)
        var ignored: [String: Int64] = [:]
        try post(ticket, into: &ledger, cardNetByBrand: &ignored)
        let date = ticket.businessDate(in: timeZone)
        return try JournalEntry.balanced(
            source: .settlement, reference: Self.supplementReference(storeID: storeID, date: date, batch: batch, ticket: ticket.id),
            idempotencyKey: "heartland:ticket:\(ticket.id)", postingDate: date,
            description: "Heartland store \(storeID) ticket \(ticket.number) \(date.sageFormat) (corrected, supplementary)",
            currency: currency, lines: ledger.lines)
    }

    public static func supplementReference(storeID: StoreID, date: BusinessDate, batch: BatchID?, ticket: TicketID) -> String {
        "\(dayReference(storeID: storeID, date: date, batch: batch))-T\(ticket)"
    }
}
