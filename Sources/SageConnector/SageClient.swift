/// The bridge's side of Sage Pro. Two implementations: `SageWebAPIClient` (Sage 300 Web API over
/// HTTP) and `SageImportFileClient` (GL import files in a drop folder). Every method throws
/// `SageError`, which says whether a retry can help.
///
/// Sage 300 keeps no unique key on a journal's reference: two replicas racing can both post. The
/// loader looks the reference up before `post(_:)` and again after it, keeps the entry with the lowest
/// batch number and deletes the others while they are still entered (`deleteBatch`).
public protocol SageClient: Sendable {
    /// Posts a batch; Sage accepts it whole or not at all. An `.unavailable` failure leaves the
    /// outcome unknown (the request may have been applied): look the reference up before reposting.
    func post(_ batch: SageJournalBatch) async throws -> SagePostingReceipt

    /// The batch holding the entry with this external reference, or nil if Sage has none.
    func findJournal(reference: String) async throws -> SagePostedJournal?

    /// `findJournal` for many references at once (a batch's real-time refunds): reference → the batch holding its entry
    /// (lowest batch number first), references Sage does not hold left out. The Web API reads references that share a
    /// prefix (`HL-S01-20261201-R`) in one paged request, so a day of hundreds of refunds stays within Sage's rate limit.
    func findJournals(references: [String]) async throws -> [String: SagePostedJournal]

    /// What Sage holds for a batch number; `.notFound` if it holds nothing.
    func readJournal(batchNumber: SageBatchNumber) async throws -> SagePostedJournal

    /// Every batch holding an entry with this external reference, lowest batch number first, each with
    /// those entries as Sage holds them (one request: it serves as the read-back too).
    func postedJournals(reference: String) async throws -> [SagePostedJournal]

    /// Deletes an entered batch (a second copy of a journal). `.notFound` if it is gone already.
    func deleteBatch(_ batchNumber: SageBatchNumber) async throws

    /// Whether the GL account exists in the company's chart.
    func accountExists(_ account: String) async throws -> Bool
}

extension SageClient {
    /// One `findJournal` per reference.
    public func findJournals(references: [String]) async throws -> [String: SagePostedJournal] {
        var found: [String: SagePostedJournal] = [:]
        for reference in Set(references).sorted() {
            if let journal = try await findJournal(reference: reference) { found[reference] = journal }
        }
        return found
    }
}
