import Foundation
@testable import SageSimulator
import SimulatorKit
import Testing

/// Sage GL: chart, journal batches, OData queries, and the strict-ledger rejections.
@Suite struct SageLedgerTests {
    static func entry(_ reference: String, day: String = "2026-11-27", lines: [(String, String)]) -> JSONValue {
        [
            "Description": "Store day", "SourceLedger": "GL",
            "JournalHeaders": [[
                "SourceLedger": "GL", "SourceType": "JE", "PostingDate": .string(day), "DocumentNumber": .string(reference),
                "Description": .string("Sales \(reference)"),
                "JournalDetails": .array(lines.map { ["AccountNumber": .string($0.0), "Amount": .number(Decimal(string: $0.1)!), "Reference": .string(reference)] }),
            ]],
        ]
    }

    static func errorCode(_ result: HTTPResult) -> String? { result.json["error"]?["code"]?.stringValue }
    static func errorMessage(_ result: HTTPResult) -> String { result.json["error"]?["message"]?["value"]?.stringValue ?? "" }

    @Test func chartIsSeededAndAccountsCanBeRead() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        let all = try await sage.call("GET", "GL/GLAccounts?$count=true&$top=5")
        #expect(all.status == 200)
        #expect(all.json["@odata.count"] == .int(24))
        #expect(all.json["value"]?.arrayValue?.count == 5)
        #expect(all.json["@odata.nextLink"]?.stringValue?.contains("$skip=5") == true)
        let sales = try await sage.call("GET", "GL/GLAccounts('4000')")
        #expect(sales.json["Description"] == "Sales revenue")
        #expect(sales.json["NormalBalanceDRCR"] == "Credit")
        let missing = try await sage.call("GET", "GL/GLAccounts('9999')")
        #expect(missing.status == 404)
        #expect(Self.errorCode(missing) == "RecordNotFound")
    }

    @Test func basicAuthAndCompanyAreChecked() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        let wrong = try await sage.call("GET", "GL/GLAccounts", headers: ["Authorization": "Basic " + Data("ADMIN:nope".utf8).base64EncodedString()])
        #expect(wrong.status == 401)
        #expect(Self.errorCode(wrong) == "Unauthorized")
        #expect(wrong.json["error"]?["message"]?["lang"] == "en-US")
        let none = try await sage.call("GET", "GL/GLAccounts", headers: [:])
        #expect(none.status == 401)
        let otherCompany = try await TestHTTP.send(
            "GET", TestHTTP.url(sage.running.baseURL, "/Sage300WebApi/v1.0/-/OTHER/GL/GLAccounts"), headers: sage.auth)
        #expect(otherCompany.status == 404)
    }

    @Test func balancedBatchIsCreatedAndReadBack() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        let created = try await sage.call("POST", "GL/GLJournalBatches", Self.entry("S01-2026-11-27", lines: [("1100", "100.25"), ("1210", "20.00"), ("4000", "-110.25"), ("2200", "-10.00")]))
        #expect(created.status == 201)
        let number = try #require(created.json["BatchNumber"]?.stringValue)
        #expect(created.header("Location")?.hasSuffix("GLJournalBatches('\(number)')") == true)
        let read = try await sage.call("GET", "GL/GLJournalBatches('\(number)')")
        #expect(read.json == created.json)
        #expect(read.json["Debits"] == .number(Decimal(string: "120.25")!))
        #expect(read.json["Credits"] == .number(Decimal(string: "120.25")!))
        let header = try #require(read.json["JournalHeaders"]?.arrayValue?.first)
        #expect(header["FiscalYear"] == "2026")
        #expect(header["FiscalPeriod"] == "11")
        #expect(header["JournalDetails"]?.arrayValue?.count == 4)
    }

    @Test func odataFilterTopAndSkip() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        for index in 1...3 {
            _ = try await sage.call("POST", "GL/GLJournalBatches", Self.entry("REF-\(index)", lines: [("1100", "\(index).00"), ("4000", "-\(index).00")]))
        }
        let filtered = try await sage.call("GET", "GL/GLJournalDetails?$filter=AccountNumber%20eq%20'4000'%20and%20Reference%20eq%20'REF-2'")
        #expect(filtered.status == 200)
        let rows = try #require(filtered.json["value"]?.arrayValue)
        #expect(rows.count == 1)
        #expect(rows.first?["Amount"] == .number(-2))
        let headers = try await sage.call("GET", "GL/GLJournalHeaders?$filter=DocumentNumber%20eq%20'REF-3'")
        #expect(headers.json["value"]?.arrayValue?.count == 1)
        let page = try await sage.call("GET", "GL/GLJournalBatches?$orderby=BatchNumber%20desc&$skip=1&$top=1&$count=true")
        #expect(page.json["@odata.count"] == .int(3))
        #expect(page.json["value"]?.arrayValue?.first?["BatchNumber"] == "000002")
        let balanceSheet = try await sage.call("GET", "GL/GLAccounts?$filter=AccountType%20eq%20'BalanceSheet'&$top=2")
        let next = try #require(balanceSheet.json["@odata.nextLink"]?.stringValue)
        #expect(next.contains("$filter=AccountType%20eq%20%27BalanceSheet%27") && next.contains("$skip=2"))
        let following = try await TestHTTP.send("GET", TestHTTP.url(sage.running.baseURL, next), headers: sage.auth)
        #expect(following.json["value"]?.arrayValue?.allSatisfy { $0["AccountType"] == "BalanceSheet" } == true)
        // 1000, 1100 on the first page; AR control (1200) opens the second.
        #expect(following.json["value"]?.arrayValue?.first?["AccountNumber"] == "1200")
        let bad = try await sage.call("GET", "GL/GLJournalBatches?$filter=BatchNumber%20like%20'x'")
        #expect(bad.status == 400)
        #expect(Self.errorCode(bad) == "FieldInvalid")
    }

    /// The lookup by external reference (the loaders' duplicate check) reads the reference index; its
    /// answer must be the full filter's: a quote in the reference, an unknown one, and an entry whose
    /// DocumentNumber is empty (its reference comes from the first line) are all handled the same.
    @Test func lookupByReferenceGivesWhatTheFilterGives() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        for reference in ["HL-1", "O'BRIEN-2", "HL-3"] {
            _ = try await sage.call("POST", "GL/GLJournalBatches", Self.entry(reference, lines: [("1100", "1.00"), ("4000", "-1.00")]))
        }
        var lineOnly = Self.entry("LINE-4", lines: [("1100", "4.00"), ("4000", "-4.00")])
        lineOnly = .object(lineOnly.objectValue!.merging(["JournalHeaders": [[
            "SourceLedger": "GL", "SourceType": "JE", "PostingDate": "2026-11-27", "DocumentNumber": "", "Description": "no document number",
            "JournalDetails": [["AccountNumber": "1100", "Amount": 4, "Reference": "LINE-4"], ["AccountNumber": "4000", "Amount": -4, "Reference": "LINE-4"]],
        ]]]) { $1 })
        #expect(try await sage.call("POST", "GL/GLJournalBatches", lineOnly).status == 201)
        func count(_ filter: String) async throws -> Int? {
            let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? filter
            return try await sage.call("GET", "GL/GLJournalHeaders?$filter=\(encoded)").json["value"]?.arrayValue?.count
        }
        #expect(try await count("DocumentNumber eq 'HL-3'") == 1)
        #expect(try await count("DocumentNumber eq 'O''BRIEN-2'") == 1)
        #expect(try await count("DocumentNumber eq 'NOPE'") == 0)
        #expect(try await count("DocumentNumber eq 'LINE-4'") == 0, "its DocumentNumber is empty")
        #expect(try await count("DocumentNumber eq 'HL-1' or DocumentNumber eq 'HL-3'") == 2, "any other filter reads everything")
        // A family by its prefix (a day's refunds, read together by the loaders) reads the index too.
        #expect(try await count("startswith(DocumentNumber,'HL-')") == 2)
        #expect(try await count("startswith(DocumentNumber,'O''B')") == 1)
        #expect(try await count("startswith(DocumentNumber,'LINE')") == 0, "its DocumentNumber is empty")
        #expect(try await count("startswith(DocumentNumber,'')") == 4, "an empty prefix is every entry: not an index lookup")
        #expect(SageRoutes.referenceLookup("startswith(DocumentNumber,'HL-')") == .prefix("HL-"))
        #expect(SageRoutes.referenceLookup("DocumentNumber eq 'O''BRIEN-2'") == .equal("O'BRIEN-2"))
        #expect(SageRoutes.referenceLookup("startswith(DocumentNumber,'HL-') or startswith(DocumentNumber,'O')") == nil)
        #expect(SageRoutes.referenceLookup("startswith(DocumentNumber,'')") == nil)
        // Paged, the index lookup gives the pages the whole collection gives (the same filter written so that it is not one).
        for reference in (5...9).map({ "HL-\($0)" }) {
            _ = try await sage.call("POST", "GL/GLJournalBatches", Self.entry(reference, lines: [("1100", "1.00"), ("4000", "-1.00")]))
        }
        func pages(_ filter: String) async throws -> [String] {
            let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? filter
            var next: String? = "GL/GLJournalHeaders?$filter=\(encoded)&$top=2&$count=true"
            var seen: [String] = []
            while let path = next {
                let page = path.hasPrefix("GL/") ? try await sage.call("GET", path)
                    : try await TestHTTP.send("GET", TestHTTP.url(sage.running.baseURL, path), headers: sage.auth)
                seen.append((page.json["value"]?.arrayValue ?? []).compactMap { $0["DocumentNumber"]?.stringValue }.joined(separator: ",")
                    + " of \(page.json["@odata.count"]?.int64Value ?? -1)")
                next = page.json["@odata.nextLink"]?.stringValue
            }
            return seen
        }
        let indexed = try await pages("startswith(DocumentNumber,'HL-')")
        #expect(indexed == ["HL-1,HL-3 of 7", "HL-5,HL-6 of 7", "HL-7,HL-8 of 7", "HL-9 of 7"])
        #expect(try await pages("startswith(DocumentNumber,'HL-') and DocumentNumber ne ''") == indexed)
    }

    @Test func unbalancedEntryIsRejected() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        let result = try await sage.call("POST", "GL/GLJournalBatches", Self.entry("UNBAL", lines: [("1100", "10.00"), ("4000", "-9.99")]))
        #expect(result.status == 400)
        #expect(Self.errorCode(result) == "General")
        #expect(Self.errorMessage(result).contains("out of balance by 0.01"))
        let batches = try await sage.call("GET", "GL/GLJournalBatches?$count=true")
        #expect(batches.json["@odata.count"] == .int(0))
    }

    @Test func unknownAccountIsRejectedThenReplaysOnceCreated() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        let entry = Self.entry("REFUND-1", lines: [("4010", "5.00"), ("1100", "-5.00")])
        let rejected = try await sage.call("POST", "GL/GLJournalBatches", entry)
        #expect(rejected.status == 400)
        #expect(Self.errorCode(rejected) == "FieldInvalid")
        #expect(Self.errorMessage(rejected).hasPrefix("Account 4010 does not exist."))
        let account = try await sage.call("POST", "GL/GLAccounts", ["AccountNumber": "4010", "Description": "Returns - special", "AccountType": "I", "NormalBalanceDRCR": "D"])
        #expect(account.status == 201)
        let duplicateAccount = try await sage.call("POST", "GL/GLAccounts", ["AccountNumber": "4010", "Description": "again"])
        #expect(duplicateAccount.status == 409)
        let replay = try await sage.call("POST", "GL/GLJournalBatches", entry)
        #expect(replay.status == 201)
    }

    @Test func postingDateOutsideOpenPeriodIsRejected() async throws {
        let sage = try await SageUnderTest.start { $0.openPeriods = .init(from: "2026-01-01", to: "2026-11-30") }
        defer { Task { await sage.stop() } }
        let closed = try await sage.call("POST", "GL/GLJournalBatches", Self.entry("OLD", day: "2025-12-31", lines: [("1100", "1.00"), ("4000", "-1.00")]))
        #expect(closed.status == 400)
        #expect(Self.errorCode(closed) == "FieldInvalid")
        #expect(Self.errorMessage(closed).contains("not in an open fiscal period"))
        let future = try await sage.call("POST", "GL/GLJournalBatches", Self.entry("NEW", day: "2026-12-01", lines: [("1100", "1.00"), ("4000", "-1.00")]))
        #expect(future.status == 400)
        let reopened = try await sage.admin("POST", "/admin/fiscal-periods", ["open_from": "2025-01-01", "open_to": "2026-12-31"])
        #expect(reopened.status == 200)
        let accepted = try await sage.call("POST", "GL/GLJournalBatches", Self.entry("OLD", day: "2025-12-31", lines: [("1100", "1.00"), ("4000", "-1.00")]))
        #expect(accepted.status == 201)
    }

    /// Like Sage 300, the simulator keeps no unique key on an entry's reference by default: a second entry with it is accepted.
    @Test func aSecondJournalWithTheSameReferenceIsAcceptedAsSage300Does() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        let entry = Self.entry("S01-2026-11-27", lines: [("1100", "1.00"), ("4000", "-1.00")])
        #expect(try await sage.call("POST", "GL/GLJournalBatches", entry).status == 201)
        #expect(try await sage.call("POST", "GL/GLJournalBatches", entry).status == 201)
        let found = try await sage.call("GET", "GL/GLJournalHeaders?$filter=DocumentNumber%20eq%20'S01-2026-11-27'&$count=true")
        #expect(found.json["@odata.count"] == .int(2), "two entries: nothing in Sage stops a second post")
    }

    /// `--unique-references` (opt-in) refuses the second one with 409.
    @Test func secondJournalWithSameReferenceIs409WhenReferencesAreUnique() async throws {
        let sage = try await SageUnderTest.start { $0.uniqueReferences = true }
        defer { Task { await sage.stop() } }
        let entry = Self.entry("S01-2026-11-27", lines: [("1100", "1.00"), ("4000", "-1.00")])
        #expect(try await sage.call("POST", "GL/GLJournalBatches", entry).status == 201)
        let duplicate = try await sage.call("POST", "GL/GLJournalBatches", entry)
        #expect(duplicate.status == 409)
        #expect(duplicate.json == [
            "error": ["code": "RecordDuplicate", "message": ["lang": "en-US", "value": "Journal entry with reference 'S01-2026-11-27' (source GL-JE) already exists in batch 000001, entry 1."]],
        ])
        let foreign = try await sage.call("POST", "GL/GLJournalBatches", [
            "JournalHeaders": [["PostingDate": "2026-11-27", "JournalDetails": [
                ["AccountNumber": "1100", "Amount": 1, "SourceCurrency": "EUR"], ["AccountNumber": "4000", "Amount": -1, "SourceCurrency": "EUR"],
            ]]],
        ])
        #expect(foreign.status == 400)
        #expect(Self.errorMessage(foreign).contains("not the functional currency"))
    }

    @Test func stateSurvivesRestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sage-\(UUID().uuidString).sqlite").path
        let first = try await SageUnderTest.start { $0.server.databasePath = path; $0.uniqueReferences = true }
        let entry = Self.entry("KEEP", lines: [("1100", "3.00"), ("4000", "-3.00")])
        #expect(try await first.call("POST", "GL/GLJournalBatches", entry).status == 201)
        await first.stop()
        let second = try await SageUnderTest.start { $0.server.databasePath = path; $0.uniqueReferences = true }
        defer { Task { await second.stop() } }
        #expect(try await second.call("GET", "GL/GLJournalBatches('000001')").status == 200)
        #expect(try await second.call("POST", "GL/GLJournalBatches", entry).status == 409)
        #expect(try await second.call("GET", "GL/GLAccounts?$count=true").json["@odata.count"] == .int(24))
    }
}
