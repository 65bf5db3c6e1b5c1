import Foundation

/// `GL/GLJournalBatches` as Sage 300 renders it. The same shape is the create body, the 201
/// answer, a read, and the JSON GL import file; fields Sage assigns are optional.
struct GLJournalBatchWire: Codable, Sendable {
    var BatchNumber: String?
    var Description: String?
    var SourceLedger: String?
    var Debits: Decimal?
    var Credits: Decimal?
    var JournalHeaders: [GLJournalHeaderWire]
}

struct GLJournalHeaderWire: Codable, Sendable {
    var BatchNumber: String?
    var EntryNumber: Int?
    var SourceLedger: String?
    var SourceType: String?
    var FiscalYear: String?
    var FiscalPeriod: String?
    var Description: String?
    var PostingDate: String?
    var DocumentDate: String?
    var DocumentNumber: String?
    var Debits: Decimal?
    var Credits: Decimal?
    var JournalDetails: [GLJournalDetailWire]
}

struct GLJournalDetailWire: Codable, Sendable {
    var AccountNumber: String
    /// Signed: debit positive, credit negative.
    var Amount: Decimal
    var Description: String?
    var Reference: String?
    var Comment: String?
}

extension GLJournalBatchWire {
    /// The create body for a batch.
    init(_ batch: SageJournalBatch) {
        self.init(
            Description: batch.description, SourceLedger: batch.sourceLedger,
            JournalHeaders: batch.entries.map { entry in
                GLJournalHeaderWire(
                    SourceLedger: batch.sourceLedger, SourceType: entry.sourceType, Description: entry.description,
                    PostingDate: entry.postingDate.iso, DocumentDate: entry.postingDate.iso,
                    DocumentNumber: entry.reference,
                    JournalDetails: entry.lines.map { line in
                        GLJournalDetailWire(
                            AccountNumber: line.account, Amount: SageAmount.decimal(cents: line.amountCents),
                            Description: line.description, Reference: entry.reference, Comment: line.comment)
                    })
            })
    }

    /// The posted journal; `batchNumber` overrides the body's (file mode learns it from the result file).
    func posted(batchNumber override: SageBatchNumber? = nil) throws(SageError) -> SagePostedJournal {
        guard let number = override ?? BatchNumber.map({ SageBatchNumber($0) }) else {
            throw .unavailable(.malformedResponse("journal batch without BatchNumber"))
        }
        let ledger = SourceLedger ?? "GL"
        var entries: [SagePostedEntry] = []
        for (index, header) in JournalHeaders.enumerated() {
            var lines: [SageJournalLine] = []
            for detail in header.JournalDetails {
                guard let cents = SageAmount.cents(detail.Amount) else {
                    throw .unavailable(.malformedResponse("amount \(detail.Amount) of account \(detail.AccountNumber) is not whole cents"))
                }
                lines.append(SageJournalLine(
                    account: detail.AccountNumber, amountCents: cents, description: detail.Description ?? "",
                    comment: detail.Comment ?? ""))
            }
            let document = header.DocumentNumber ?? ""
            let entry = SagePostedEntry(
                entryNumber: header.EntryNumber ?? index + 1,
                reference: document.isEmpty ? (header.JournalDetails.first?.Reference ?? "") : document,
                sourceLedger: header.SourceLedger ?? ledger, sourceType: header.SourceType ?? "JE",
                postingDate: header.PostingDate.flatMap(SageDate.init(iso:)), description: header.Description ?? "",
                fiscalYear: header.FiscalYear, fiscalPeriod: header.FiscalPeriod, lines: lines,
                debits: try Self.cents(header.Debits) ?? lines.reduce(0) { $0 + max($1.amountCents, 0) },
                credits: try Self.cents(header.Credits) ?? lines.reduce(0) { $0 - min($1.amountCents, 0) })
            entries.append(entry)
        }
        return SagePostedJournal(
            batchNumber: number, description: Description ?? "", entries: entries,
            debits: try Self.cents(Debits) ?? entries.reduce(0) { $0 + $1.debits },
            credits: try Self.cents(Credits) ?? entries.reduce(0) { $0 + $1.credits })
    }

    private static func cents(_ amount: Decimal?) throws(SageError) -> Int64? {
        guard let amount else { return nil }
        guard let cents = SageAmount.cents(amount) else {
            throw .unavailable(.malformedResponse("total \(amount) is not whole cents"))
        }
        return cents
    }
}

/// `{"value": [...], "@odata.nextLink": "..."}`.
struct ODataCollection<Element: Decodable & Sendable>: Decodable, Sendable {
    var value: [Element]
    var nextLink: String?

    enum CodingKeys: String, CodingKey {
        case value
        case nextLink = "@odata.nextLink"
    }
}

/// A row of `GL/GLJournalHeaders`, for reference lookups.
struct GLJournalHeaderRef: Decodable, Sendable {
    var BatchNumber: String
    var EntryNumber: Int?
    var DocumentNumber: String?
}
