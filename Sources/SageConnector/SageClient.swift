/// The bridge's side of Sage Pro. Two implementations: `SageWebAPIClient` (Sage 300 Web API over
/// HTTP) and `SageImportFileClient` (GL import files in a drop folder). Every method throws
/// `SageError`, which says whether a retry can help.
///
/// Duplicate protection across replicas: Sage is the authority. Call `findJournal(reference:)`
/// before `post(_:)`; if two replicas race, the second post fails with `.duplicateReference`.
public protocol SageClient: Sendable {
    /// Posts a batch; Sage accepts it whole or not at all. An `.unavailable` failure leaves the
    /// outcome unknown (the request may have been applied): look the reference up before reposting.
    func post(_ batch: SageJournalBatch) async throws -> SagePostingReceipt

    /// The batch holding the entry with this external reference, or nil if Sage has none.
    func findJournal(reference: String) async throws -> SagePostedJournal?

    /// What Sage holds for a batch number; `.notFound` if it holds nothing.
    func readJournal(batchNumber: SageBatchNumber) async throws -> SagePostedJournal

    /// Whether the GL account exists in the company's chart.
    func accountExists(_ account: String) async throws -> Bool
}
