/// A journal batch as Sage holds it, read back for reconciliation and duplicate checks.
public struct SagePostedJournal: Sendable, Hashable {
    public var batchNumber: SageBatchNumber
    public var description: String
    public var entries: [SagePostedEntry]
    /// Sage's own batch totals, in cents.
    public var debits: Int64
    public var credits: Int64

    public init(batchNumber: SageBatchNumber, description: String, entries: [SagePostedEntry], debits: Int64, credits: Int64) {
        self.batchNumber = batchNumber
        self.description = description
        self.entries = entries
        self.debits = debits
        self.credits = credits
    }

    public func entry(reference: String) -> SagePostedEntry? { entries.first { $0.reference == reference } }

    /// Net cents per account over every entry (debit positive), as a reconciliation compares them.
    public var netByAccount: [String: Int64] {
        entries.flatMap(\.lines).reduce(into: [:]) { $0[$1.account, default: 0] += $1.amountCents }
    }
}

/// One entry of a posted batch.
public struct SagePostedEntry: Sendable, Hashable {
    public var entryNumber: Int
    /// The header's `DocumentNumber`, or the first line's `Reference` when that is empty.
    public var reference: String
    public var sourceLedger: String
    public var sourceType: String
    public var postingDate: SageDate?
    public var description: String
    /// Nil in file mode, where the import result does not report the period.
    public var fiscalYear: String?
    public var fiscalPeriod: String?
    public var lines: [SageJournalLine]
    public var debits: Int64
    public var credits: Int64

    public init(
        entryNumber: Int, reference: String, sourceLedger: String, sourceType: String, postingDate: SageDate?,
        description: String, fiscalYear: String?, fiscalPeriod: String?, lines: [SageJournalLine], debits: Int64,
        credits: Int64
    ) {
        self.entryNumber = entryNumber
        self.reference = reference
        self.sourceLedger = sourceLedger
        self.sourceType = sourceType
        self.postingDate = postingDate
        self.description = description
        self.fiscalYear = fiscalYear
        self.fiscalPeriod = fiscalPeriod
        self.lines = lines
        self.debits = debits
        self.credits = credits
    }
}

/// What a successful post returns: the batch number Sage assigned and the batch as it now holds it.
public struct SagePostingReceipt: Sendable, Hashable {
    public var batchNumber: SageBatchNumber
    public var journal: SagePostedJournal

    public init(batchNumber: SageBatchNumber, journal: SagePostedJournal) {
        self.batchNumber = batchNumber
        self.journal = journal
    }

    /// `(reference, entry number)` of every entry posted.
    public var entryNumbers: [(reference: String, entryNumber: Int)] {
        journal.entries.map { ($0.reference, $0.entryNumber) }
    }
}
