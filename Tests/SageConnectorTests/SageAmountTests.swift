import Foundation
import Testing
@testable import SageConnector

/// Pure conversions: cents to Sage's decimals and back, dates, error bodies, import file names.
@Suite struct SageAmountTests {
    @Test(arguments: [Int64(0), 1, -1, 7, 29, -29, 100, 10_025, -11_025, 123_456_789_012_345, Int64.max, Int64.min])
    func centsSurviveTheDecimalRoundTrip(cents: Int64) throws {
        let decimal = SageAmount.decimal(cents: cents)
        #expect(SageAmount.cents(decimal) == cents)
        let json = try JSONEncoder().encode([decimal])
        let decoded = try JSONDecoder().decode([Decimal].self, from: json)
        #expect(SageAmount.cents(decoded[0]) == cents)
    }

    @Test func textRendering() {
        #expect(SageAmount.text(cents: 1) == "0.01")
        #expect(SageAmount.text(cents: -11_025) == "-110.25")
        #expect(SageAmount.text(cents: 100) == "1.00")
        #expect(SageAmount.text(cents: Int64.min) == "-92233720368547758.08")
    }

    @Test func parsingAcceptsWholeCentsOnly() {
        #expect(SageAmount.cents(text: "12.340") == 1234)
        #expect(SageAmount.cents(text: "-0.5") == -50)
        #expect(SageAmount.cents(text: "7") == 700)
        #expect(SageAmount.cents(text: ".29") == 29)
        #expect(SageAmount.cents(text: "0.001") == nil)
        #expect(SageAmount.cents(text: "1e3") == nil)
        #expect(SageAmount.cents(text: "") == nil)
        #expect(SageAmount.cents(text: "92233720368547758.08") == nil)
        #expect(SageAmount.cents(text: "-92233720368547758.08") == Int64.min)
    }

    @Test func datesParseBothForms() {
        #expect(SageDate(iso: "2026-11-27")?.mmddyyyy == "11/27/2026")
        #expect(SageDate(iso: "2026-11-27T00:00:00Z")?.iso == "2026-11-27")
        #expect(SageDate(mmddyyyy: "11/27/2026") == SageDate(iso: "2026-11-27"))
        #expect(SageDate(iso: "2026-13-01") == nil)
        #expect(SageDate(mmddyyyy: "2026-11-27") == nil)
    }

    @Test func errorBodiesAreClassified() {
        func body(_ code: String, _ message: String) -> Data {
            Data(#"{"error":{"code":"\#(code)","message":{"lang":"en-US","value":"\#(message)"}}}"#.utf8)
        }
        #expect(SageFailure.classify(status: 400, retryAfter: nil, body: body("FieldInvalid", "Account 4010 does not exist. (Entry 1 (document R), line 2)"))
            == .validation(message: "Account 4010 does not exist. (Entry 1 (document R), line 2)", account: "4010"))
        #expect(SageFailure.classify(status: 400, retryAfter: nil, body: body("FieldInvalid", "Account 2200 is inactive. (Entry 1, line 1)"))
            == .validation(message: "Account 2200 is inactive. (Entry 1, line 1)", account: "2200"))
        let duplicate = SageFailure.classify(status: 409, retryAfter: nil, body: body(
            "RecordDuplicate", "Journal entry with reference 'HL-1' (source GL-JE) already exists in batch 000042, entry 3."))
        #expect(duplicate == .duplicateReference(SageExistingEntry(
            reference: "HL-1", batchNumber: "000042", entryNumber: 3,
            message: "Journal entry with reference 'HL-1' (source GL-JE) already exists in batch 000042, entry 3.")))
        #expect(SageFailure.classify(status: 429, retryAfter: "12", body: Data()) == .rateLimited(retryAfter: .seconds(12)))
        #expect(SageFailure.classify(status: 429, retryAfter: nil, body: Data()) == .rateLimited(retryAfter: nil))
        #expect(SageFailure.classify(status: 503, retryAfter: nil, body: body("General", "down")) == .unavailable(.status(503, message: "down")))
        #expect(SageFailure.classify(status: 502, retryAfter: nil, body: Data("<html>bad gateway</html>".utf8)).isTransient)
        #expect(SageFailure.classify(status: 401, retryAfter: nil, body: Data()) == .unauthorized(message: "HTTP 401"))
    }

    @Test func retryAfterAcceptsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let later = formatter.string(from: now.addingTimeInterval(30))
        #expect(SageFailure.parseRetryAfter(later, now: now) == .seconds(30))
        #expect(SageFailure.parseRetryAfter("soon", now: now) == nil)
    }

    @Test func importReasonsAreClassified() {
        #expect(SageFailure.classify(importReason: "FieldInvalid: Account 4010 does not exist. (Entry 1, line 1)\n")
            == .validation(message: "Account 4010 does not exist. (Entry 1, line 1)", account: "4010"))
        if case .duplicateReference(let existing) = SageFailure.classify(
            importReason: "RecordDuplicate: Journal entry with reference 'R-1' (source GL-JE) already exists in batch 000002, entry 1.")
        {
            #expect(existing.batchNumber == "000002")
            #expect(existing.reference == "R-1")
        } else {
            Issue.record("a RecordDuplicate rejection is a duplicate reference")
        }
    }

    @Test func importFileNamesFollowTheReference() {
        #expect(ImportFolder.fileName(reference: "HL-1-20261127-BAT_01") == "GL-HL-1-20261127-BAT_01.json")
        let odd = ImportFolder.fileName(reference: "a/b c")
        #expect(odd.hasPrefix("GL-a_b_c-") && odd.hasSuffix(".json"))
        #expect(odd != ImportFolder.fileName(reference: "a_b_c"))
        #expect(odd == ImportFolder.fileName(reference: "a/b c"))
    }

    @Test func credentialsAreNeverPrinted() {
        let credentials = SageCredentials(user: "ADMIN", password: "hunter2")
        #expect(!"\(credentials)".contains("hunter2"))
        #expect(!String(reflecting: credentials).contains("hunter2"))
        let connection = SageConnection(server: URL(string: "http://sage.local")!, company: "SAMINC", credentials: credentials)
        #expect(!"\(connection)".contains("hunter2"))
        #expect(connection.companyURL.absoluteString == "http://sage.local/Sage300WebApi/v1.0/-/SAMINC/")
    }
}
