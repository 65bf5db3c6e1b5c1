import Foundation
import SageConnector
import Testing

/// The Web API client against `sage-pro-sim`: posting, reading back to the cent, the duplicate
/// check against the authority, the strict-ledger rejections, the chart.
@Suite struct SageWebAPIClientTests {
    @Test func postedJournalReadsBackToTheCent() async throws {
        try await withSage(Self.postedJournalReadsBackToTheCent)
    }

    static func postedJournalReadsBackToTheCent(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        let large: Int64 = 123_456_789_012_345  // $1,234,567,890,123.45
        let posted = batch("HL-1-20261127-BAT_01", [
            .debit("1210", large, "visa"), .debit("1100", 1, "one cent of cash"), .debit("1211", 29, "mastercard"),
            .credit("4000", large - 70, "sales"), .credit("2200", 100, "tax"),
        ])
        let receipt = try await client.post(posted)
        #expect(!receipt.batchNumber.rawValue.isEmpty)
        #expect(receipt.entryNumbers.map(\.reference) == ["HL-1-20261127-BAT_01"])

        let read = try await client.readJournal(batchNumber: receipt.batchNumber)
        #expect(read == receipt.journal)
        #expect(read.debits == large + 30)
        #expect(read.credits == large + 30)
        let entry = try #require(read.entry(reference: "HL-1-20261127-BAT_01"))
        #expect(entry.lines == posted.entries[0].lines)
        #expect(entry.postingDate == SageDate(iso: "2026-11-27"))
        #expect(entry.fiscalYear == "2026")
        #expect(entry.fiscalPeriod == "11")
        #expect(read.netByAccount["1100"] == 1)
        #expect(read.netByAccount["4000"] == -(large - 70))
    }

    /// With the simulator's opt-in unique references, the client maps the 409 to `.duplicateReference` (Sage 300 itself has no such key).
    @Test func duplicateReferenceIsRefusedAndFound() async throws {
        try await withSage(uniqueReferences: true, Self.duplicateReferenceIsRefusedAndFound)
    }

    static func duplicateReferenceIsRefusedAndFound(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        #expect(try await client.findJournal(reference: "HL-2") == nil)
        let first = try await client.post(balanced("HL-2"))
        let found = try #require(try await client.findJournal(reference: "HL-2"))
        #expect(found.batchNumber == first.batchNumber)
        #expect(found == first.journal)

        let error = await sageError { try await client.post(balanced("HL-2")) }
        guard case .duplicateReference(let existing) = error else {
            Issue.record("expected .duplicateReference, got \(String(describing: error))")
            return
        }
        #expect(existing.reference == "HL-2")
        #expect(existing.batchNumber == first.batchNumber)
        #expect(existing.entryNumber == 1)
        #expect(error?.isTransient == false)
    }

    /// A batch's real-time refunds are read back together: the same batches `findJournal` finds one by one, across pages,
    /// whatever else shares the day (its settlement journal, another store's refunds, a reference that ends in no number).
    @Test func manyReferencesAreFoundTogetherAsOneByOne() async throws {
        try await withSage { sage in
            let client = sage.webClient(pageSize: 5)
            var references: [String] = []
            for n in 1...12 {
                references.append("HL-S01-20261127-R\(n)")
                _ = try await client.post(balanced("HL-S01-20261127-R\(n)"))
            }
            for other in ["HL-S01-20261127-BAT_01", "HL-S02-20261127-R5", "O'Brien & Co", "HL-S01-20261127-R100"] {
                _ = try await client.post(balanced(other))
            }
            let asked = references + ["HL-S01-20261127-R99", "HL-S02-20261127-R5", "O'Brien & Co"]
            let together = try await client.findJournals(references: asked)
            #expect(together.count == 14, "\(together.keys.sorted())")
            #expect(together["HL-S01-20261127-R99"] == nil, "one Sage does not hold")
            #expect(together["HL-S01-20261127-R100"] == nil, "only what was asked")
            for reference in asked {
                let alone = try await client.findJournal(reference: reference)
                #expect(together[reference]?.batchNumber == alone?.batchNumber, "\(reference)")
                #expect(together[reference]?.entry(reference: reference)?.lines == alone?.entry(reference: reference)?.lines, "\(reference)")
            }
        }
    }

    @Test func referencesWithQuotesAreLookedUpExactly() async throws {
        try await withSage(Self.referencesWithQuotesAreLookedUpExactly)
    }

    static func referencesWithQuotesAreLookedUpExactly(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        let receipt = try await client.post(balanced("O'Brien & Co #1"))
        #expect(try await client.findJournal(reference: "O'Brien & Co #1")?.batchNumber == receipt.batchNumber)
        #expect(try await client.findJournal(reference: "O'Brien") == nil)
    }

    @Test func unbalancedJournalIsAPermanentValidationError() async throws {
        try await withSage(Self.unbalancedJournalIsAPermanentValidationError)
    }

    static func unbalancedJournalIsAPermanentValidationError(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        let error = await sageError {
            try await client.post(batch("HL-3", [.debit("1100", 1_000), .credit("4000", 999)]))
        }
        guard case .validation(let message, let account) = error else {
            Issue.record("expected .validation, got \(String(describing: error))")
            return
        }
        #expect(message.contains("out of balance by 0.01"))
        #expect(account == nil)
        #expect(error?.isTransient == false)
        #expect(try await client.findJournal(reference: "HL-3") == nil)
    }

    @Test func unknownAccountIsNamed() async throws {
        try await withSage(Self.unknownAccountIsNamed)
    }

    static func unknownAccountIsNamed(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        #expect(try await client.accountExists("4000"))
        #expect(try await !client.accountExists("4010"))
        let error = await sageError {
            try await client.post(batch("HL-4", [.debit("1210", 500), .credit("4010", 500)]))
        }
        guard case .validation(_, let account) = error else {
            Issue.record("expected .validation, got \(String(describing: error))")
            return
        }
        #expect(account == "4010")
        #expect(error?.description.contains("GL account 4010") == true)

        try await sage.createAccount("4010")
        #expect(try await client.accountExists("4010"))
        _ = try await client.post(batch("HL-4", [.debit("1210", 500), .credit("4010", 500)]))
    }

    @Test func closedPeriodIsAValidationError() async throws {
        try await withSage(Self.closedPeriodIsAValidationError)
    }

    static func closedPeriodIsAValidationError(_ sage: SageHarness) async throws {
        let error = await sageError {
            try await sage.webClient().post(batch("HL-5", [.debit("1100", 1), .credit("4000", 1)], day: "2019-11-03"))
        }
        guard case .validation(let message, nil) = error else {
            Issue.record("expected .validation, got \(String(describing: error))")
            return
        }
        #expect(message.contains("not in an open fiscal period"))
    }

    @Test func chartIsListedAcrossPages() async throws {
        try await withSage(Self.chartIsListedAcrossPages)
    }

    static func chartIsListedAcrossPages(_ sage: SageHarness) async throws {
        let accounts = try await sage.webClient(pageSize: 5).accounts()
        // The default chart of ACCOUNTING.md and AR control (1200).
        #expect(accounts.count == 24)
        #expect(Set(accounts.map(\.accountNumber)).count == 24)
        let sales = try #require(try await sage.webClient().account("4000"))
        #expect(sales.description == "Sales revenue")
        #expect(sales.isActive)
    }

    @Test func missingBatchIsNotFound() async throws {
        try await withSage(Self.missingBatchIsNotFound)
    }

    static func missingBatchIsNotFound(_ sage: SageHarness) async throws {
        let error = await sageError { try await sage.webClient().readJournal(batchNumber: "999999") }
        guard case .notFound = error else {
            Issue.record("expected .notFound, got \(String(describing: error))")
            return
        }
    }

    @Test func replicasRacingOnOneReferencePostItOnceWhenReferencesAreUnique() async throws {
        try await withSage(uniqueReferences: true, Self.replicasRacingOnOneReferencePostItOnce)
    }

    /// The default, as Sage 300: nothing refuses the racing replicas, every post lands. (The loaders' key lock
    /// is what keeps a journal to one post: SageLoaderTests, LoaderExactlyOnceTests.)
    @Test func replicasRacingOnOneReferenceAllPostWithoutAUniqueKey() async throws {
        try await withSage { sage in
            let replicas = (0..<4).map { _ in sage.webClient() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for replica in replicas { group.addTask { _ = try await replica.post(balanced("HL-7")) } }
                try await group.waitForAll()
            }
            #expect(try await sage.webClient().findAll(reference: "HL-7") == 4)
        }
    }

    static func replicasRacingOnOneReferencePostItOnce(_ sage: SageHarness) async throws {
        let replicas = (0..<4).map { _ in sage.webClient() }
        let outcomes = await withTaskGroup(of: Result<SageBatchNumber, SageError>.self) { group in
            for replica in replicas {
                group.addTask {
                    do { return .success(try await replica.post(balanced("HL-6")).batchNumber) } catch let error as SageError {
                        return .failure(error)
                    } catch { return .failure(.unavailable(.connection("\(error)"))) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { if case .success = $0 { true } else { false } }.count == 1)
        #expect(outcomes.filter { if case .failure(.duplicateReference) = $0 { true } else { false } }.count == 3)
        #expect(try await sage.webClient().findAll(reference: "HL-6") == 1)
    }
}
