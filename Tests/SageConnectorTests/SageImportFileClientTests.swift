import Foundation
import SageConnector
import TestPrograms
import Testing

/// File mode against the simulator's import watcher: processed, rejected, duplicate, no importer.
@Suite struct SageImportFileClientTests {
    @Test func importedFileIsProcessedAndFound() async throws {
        try await withSage(importFiles: true, Self.importedFileIsProcessedAndFound)
    }

    static func importedFileIsProcessedAndFound(_ sage: SageHarness) async throws {
        let client = sage.fileClient()
        let posted = batch("HL-1-20261127-BAT_07", [.debit("1210", 123_456_789_012_345), .debit("1100", 1), .credit("4000", 123_456_789_012_346)])
        let receipt = try await client.post(posted)
        #expect(!receipt.batchNumber.rawValue.isEmpty)
        #expect(receipt.journal.entries.first?.lines == posted.entries[0].lines)

        // What Sage holds (over the Web API) is what the file said, to the cent.
        let held = try await sage.webClient().readJournal(batchNumber: receipt.batchNumber)
        #expect(held.entries.first?.lines == posted.entries[0].lines)
        #expect(held.entries.first?.reference == "HL-1-20261127-BAT_07")

        #expect(try await client.findJournal(reference: "HL-1-20261127-BAT_07") == receipt.journal)
        #expect(try await client.readJournal(batchNumber: receipt.batchNumber) == receipt.journal)
        #expect(try await client.findJournal(reference: "HL-other") == nil)

        let again = await sageError { try await client.post(posted) }
        guard case .duplicateReference(let existing) = again else {
            Issue.record("expected .duplicateReference, got \(String(describing: again))")
            return
        }
        #expect(existing.batchNumber == receipt.batchNumber)
        let files = try FileManager.default.contentsOfDirectory(atPath: sage.importFolder.path).filter { !$0.hasPrefix(".") }
        #expect(files.sorted() == ["processed", "rejected"])
    }

    @Test func rejectedFileNamesTheAccountAndCanBeReplayed() async throws {
        try await withSage(importFiles: true, Self.rejectedFileNamesTheAccountAndCanBeReplayed)
    }

    static func rejectedFileNamesTheAccountAndCanBeReplayed(_ sage: SageHarness) async throws {
        let client = sage.fileClient()
        let posted = batch("HL-21", [.debit("1210", 500), .credit("4010", 500)])
        for _ in 1...2 {
            // The second rejection is told apart from the first (the importer prefixes its name).
            let error = await sageError { try await client.post(posted) }
            guard case .validation(_, let account) = error else {
                Issue.record("expected .validation, got \(String(describing: error))")
                return
            }
            #expect(account == "4010")
        }
        try await sage.createAccount("4010")
        let receipt = try await client.post(posted)
        #expect(try await client.findJournal(reference: "HL-21")?.batchNumber == receipt.batchNumber)
    }

    @Test func unbalancedFileIsRejected() async throws {
        try await withSage(importFiles: true, Self.unbalancedFileIsRejected)
    }

    static func unbalancedFileIsRejected(_ sage: SageHarness) async throws {
        let error = await sageError {
            try await sage.fileClient().post(batch("HL-22", [.debit("1100", 1_000), .credit("4000", 999)]))
        }
        guard case .validation(let message, nil) = error else {
            Issue.record("expected .validation, got \(String(describing: error))")
            return
        }
        #expect(message.contains("out of balance"))
    }

    @Test func duplicateAcrossWritersIsDetectedBySageWhenReferencesAreUnique() async throws {
        try await withSage(importFiles: true, uniqueReferences: true, Self.duplicateAcrossWritersIsDetectedBySage)
    }

    static func duplicateAcrossWritersIsDetectedBySage(_ sage: SageHarness) async throws {
        // Another installation posted the reference over the API; the file import is refused by Sage.
        _ = try await sage.webClient().post(balanced("HL-23"))
        let error = await sageError { try await sage.fileClient().post(balanced("HL-23")) }
        guard case .duplicateReference(let existing) = error else {
            Issue.record("expected .duplicateReference, got \(String(describing: error))")
            return
        }
        #expect(existing.reference == "HL-23")
    }

    @Test func noImporterMeansUnavailableAtTheDeadline() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sage-no-importer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let client = SageImportFileClient(
            configuration: .init(directory: folder, deadline: .milliseconds(300), pollInterval: .milliseconds(20)),
            logger: quietLogger)
        let started = ContinuousClock.now
        let error = await sageError { try await client.post(balanced("HL-24")) }
        #expect(error == .unavailable(.importPending(file: "GL-HL-24.json")))
        #expect(error?.isTransient == true)
        // It waited for the deadline, not for ever (the upper bound is loose: a busy machine is slow, never early).
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(ContinuousClock.now - started < .seconds(60))
        // The file waits, complete, under its final name: a retry awaits it instead of writing again.
        let written = try Data(contentsOf: folder.appendingPathComponent("GL-HL-24.json"))
        #expect(String(decoding: written, as: UTF8.self).contains("\"DocumentNumber\":\"HL-24\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["GL-HL-24.json"])
    }

    /// Sage's importer need not write a rejection's reason atomically (the simulator's creates the file, then writes its
    /// text): an empty reason file is one still being written, waited for until the deadline, and then a rejection that
    /// says it has no reason, not an error with an empty message (what `unbalancedFileIsRejected` once saw in CI).
    @Test func aReasonFileStillEmptyIsWaitedForUntilTheDeadline() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sage-empty-reason-\(UUID().uuidString)")
        let rejected = folder.appendingPathComponent("rejected")
        try FileManager.default.createDirectory(at: rejected, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let client = SageImportFileClient(
            configuration: .init(directory: folder, deadline: .milliseconds(300), pollInterval: .milliseconds(5)),
            logger: quietLogger)
        let started = ContinuousClock.now
        let posting = Task { await sageError { try await client.post(balanced("HL-28")) } }
        // The test is the importer: it takes the file and rejects it, and the reason's text never comes.
        let dropped = folder.appendingPathComponent("GL-HL-28.json")
        try await eventually(every: .milliseconds(2), "the client's file dropped") { FileManager.default.fileExists(atPath: dropped.path) }
        try FileManager.default.moveItem(at: dropped, to: rejected.appendingPathComponent("GL-HL-28.json"))
        #expect(FileManager.default.createFile(atPath: rejected.appendingPathComponent("GL-HL-28.json.reason.txt").path, contents: Data()))
        let error = await posting.value
        guard case .validation(let message, nil) = error else {
            Issue.record("expected .validation, got \(String(describing: error))")
            return
        }
        #expect(message == "Sage's importer rejected GL-HL-28.json and wrote no reason (GL-HL-28.json.reason.txt is empty)")
        #expect(ContinuousClock.now - started >= .milliseconds(300), "waited for the text until the deadline")
    }

    /// The importer moves a file into `processed/` before it writes the result: a retry in between must not drop the file
    /// again (the importer would import it twice); it is told the import is pending and writes nothing.
    @Test func aFileImportedWhoseResultIsNotWrittenYetIsPendingNotWrittenAgain() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sage-result-pending-\(UUID().uuidString)")
        let processed = folder.appendingPathComponent("processed")
        try FileManager.default.createDirectory(at: processed, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("{}".utf8).write(to: processed.appendingPathComponent("GL-HL-27.json"))
        let client = SageImportFileClient(
            configuration: .init(directory: folder, deadline: .milliseconds(300), pollInterval: .milliseconds(20)), logger: quietLogger)
        let error = await sageError { try await client.post(balanced("HL-27")) }
        #expect(error == .unavailable(.importPending(file: "GL-HL-27.json")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["processed"], "nothing dropped again")
    }

    @Test func retryAfterAMissedDeadlineAwaitsTheWaitingFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sage-late-importer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let client = SageImportFileClient(
            configuration: .init(directory: folder, deadline: .milliseconds(200), pollInterval: .milliseconds(20)),
            logger: quietLogger)
        #expect(await sageError { try await client.post(balanced("HL-25")) } == .unavailable(.importPending(file: "GL-HL-25.json")))

        // The retry finds the file still waiting: it does not write a second one but waits for the
        // importer, which comes back meanwhile. (Had the importer won the race, the retry would
        // find the reference processed and answer .duplicateReference: posted once either way.)
        let patient = SageImportFileClient(
            configuration: .init(directory: folder, deadline: .seconds(10), pollInterval: .milliseconds(20)), logger: quietLogger)
        let retry = Task { try await patient.post(balanced("HL-25")) }
        let sage = try await SageHarness.start(importFolder: folder)
        let outcome = await retry.result
        let held = try await sage.webClient().findJournal(reference: "HL-25")
        let count = try await sage.webClient().findAll(reference: "HL-25")
        await sage.stop()
        switch outcome {
        case .success(let receipt): #expect(receipt.batchNumber == held?.batchNumber)
        case .failure(SageError.duplicateReference(let existing)): #expect(existing.batchNumber == held?.batchNumber)
        case .failure(let other): Issue.record("unexpected \(other)")
        }
        #expect(count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("rejected").path).isEmpty)
    }

    @Test func replicasRacingOnOneReferencePostItOnce() async throws {
        try await withSage(importFiles: true, Self.replicasRacingOnOneReferencePostItOnce)
    }

    static func replicasRacingOnOneReferencePostItOnce(_ sage: SageHarness) async throws {
        let replicas = (0..<4).map { _ in sage.fileClient() }
        let outcomes = await withTaskGroup(of: Result<SageBatchNumber, SageError>.self) { group in
            for replica in replicas {
                group.addTask {
                    do { return .success(try await replica.post(balanced("HL-26")).batchNumber) } catch let error as SageError {
                        return .failure(error)
                    } catch { return .failure(.unavailable(.connection("\(error)"))) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let held = try #require(try await sage.webClient().findJournal(reference: "HL-26"))
        for outcome in outcomes {
            switch outcome {
            case .success(let number): #expect(number == held.batchNumber)
            case .failure(.duplicateReference(let existing)): #expect(existing.reference == "HL-26")
            case .failure(let other): Issue.record("unexpected \(other)")
            }
        }
        let headers = try await sage.webClient().findAll(reference: "HL-26")
        #expect(headers == 1)
    }
}
