import Foundation
import Logging

/// `SageClient` for installations that only allow database-level import: each batch is written as
/// a JSON GL import file (the body of `POST GL/GLJournalBatches`) into Sage's drop folder, and the
/// importer moves it to `processed/` (with `<name>.result.json`) or `rejected/` (with
/// `<name>.reason.txt`). The file name comes from the batch's reference, so `processed/` doubles
/// as the record of what Sage holds: `findJournal` and the duplicate check look there.
public struct SageImportFileClient: SageClient {
    public struct Configuration: Sendable {
        /// Sage's import folder (the one holding `processed/` and `rejected/`).
        public var directory: URL
        /// How long `post` waits for the importer before answering `.unavailable(.importPending)`.
        public var deadline: Duration
        public var pollInterval: Duration
        /// The chart, if exported; nil means accounts cannot be checked here and `accountExists`
        /// answers true (the importer's rejection still names a missing account).
        public var knownAccounts: Set<String>?

        public init(directory: URL, deadline: Duration = .seconds(60), pollInterval: Duration = .milliseconds(100),
                    knownAccounts: Set<String>? = nil) {
            self.directory = directory
            self.deadline = deadline
            self.pollInterval = pollInterval
            self.knownAccounts = knownAccounts
        }
    }

    public let configuration: Configuration
    let folder: ImportFolder
    let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.folder = ImportFolder(directory: configuration.directory)
        self.logger = logger
    }

    public func post(_ batch: SageJournalBatch) async throws -> SagePostingReceipt {
        guard let reference = batch.reference, !reference.isEmpty else {
            throw SageError.validation(message: "a batch needs an external reference to be imported from a file", account: nil)
        }
        if let existing = try findJournal(referenceSync: reference) {
            let entry = existing.entry(reference: reference)
            throw SageError.duplicateReference(SageExistingEntry(
                reference: reference, batchNumber: existing.batchNumber, entryNumber: entry?.entryNumber,
                message: "imported before as \(ImportFolder.fileName(reference: reference)) (batch \(existing.batchNumber))"))
        }
        let name = ImportFolder.fileName(reference: reference)
        let earlierRejections = folder.rejectionReasons(for: name)
        if !folder.isPending(name) {
            let data: Data
            do { data = try JSONEncoder().encode(GLJournalBatchWire(batch)) } catch {
                throw SageError.validation(message: "the batch could not be encoded: \(error)", account: nil)
            }
            do { try AtomicFileWriter.write(data, to: folder.dropFile(name)) } catch {
                throw SageError.unavailable(.connection("import folder: \(error.description)"))
            }
            logger.info("wrote GL import file", metadata: ["file": "\(name)", "reference": "\(reference)"])
        } else {
            logger.info("GL import file already waiting; awaiting its outcome", metadata: ["file": "\(name)"])
        }
        let deadline = ContinuousClock.now + configuration.deadline
        while true {
            if let journal = try folder.processedJournal(name, awaiting: true) {
                return SagePostingReceipt(batchNumber: journal.batchNumber, journal: journal)
            }
            let late = ContinuousClock.now >= deadline
            if let reason = folder.rejectionReasons(for: name).subtracting(earlierRejections).sorted().last {
                // The importer need not write the reason atomically (the simulator's does not: the file is there, empty, a
                // moment before its text): an empty one is still being written, until the deadline.
                let text = folder.read(reason) ?? ""
                let written = !text.allSatisfy(\.isWhitespace)
                if written || late {
                    let error = written
                        ? SageFailure.classify(importReason: text)
                        : SageError.validation(message: "Sage's importer rejected \(name) and wrote no reason (\(reason) is empty)", account: nil)
                    logger.warning("GL import file rejected", metadata: ["file": "\(name)", "error": "\(error)"])
                    throw error
                }
            }
            guard !late else { throw SageError.unavailable(.importPending(file: name)) }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    public func findJournal(reference: String) async throws -> SagePostedJournal? {
        try findJournal(referenceSync: reference)
    }

    func findJournal(referenceSync reference: String) throws(SageError) -> SagePostedJournal? {
        try folder.processedJournal(ImportFolder.fileName(reference: reference))
    }

    /// Import files are named after the reference, so a folder holds at most one per reference.
    public func postedJournals(reference: String) async throws -> [SagePostedJournal] {
        try findJournal(referenceSync: reference).map { [$0] } ?? []
    }

    /// Never needed: a second file for one reference has the same name and is not written.
    public func deleteBatch(_ batchNumber: SageBatchNumber) async throws {
        throw SageError.validation(message: "batch \(batchNumber) came from an import file; delete it in Sage", account: nil)
    }

    public func readJournal(batchNumber: SageBatchNumber) async throws -> SagePostedJournal {
        guard let journal = try folder.processedJournal(batchNumber: batchNumber) else {
            throw SageError.notFound(message: "no processed import file reports batch \(batchNumber)")
        }
        return journal
    }

    public func accountExists(_ account: String) async throws -> Bool {
        configuration.knownAccounts?.contains(account) ?? true
    }
}
