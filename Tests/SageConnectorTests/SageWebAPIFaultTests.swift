import Foundation
import SageConnector
import Testing

/// How the Web API client classifies what goes wrong on the way: credentials, rate limits,
/// server errors, downtime, timeouts, cut bodies, nobody listening.
@Suite struct SageWebAPIFaultTests {
    @Test func wrongPasswordIsUnauthorized() async throws {
        try await withSage(Self.wrongPasswordIsUnauthorized)
    }

    static func wrongPasswordIsUnauthorized(_ sage: SageHarness) async throws {
        let error = await sageError { try await sage.webClient(password: "wrong").post(balanced("HL-10")) }
        guard case .unauthorized = error else {
            Issue.record("expected .unauthorized, got \(String(describing: error))")
            return
        }
        #expect(error?.isTransient == false)
        #expect(error?.description.contains("wrong") == false)
    }

    @Test func rateLimitCarriesRetryAfter() async throws {
        try await withSage(Self.rateLimitCarriesRetryAfter)
    }

    static func rateLimitCarriesRetryAfter(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        try await sage.injectFaults(#"{"rate_limit_burst": 1, "retry_after_seconds": 7}"#)
        let error = await sageError { try await client.post(balanced("HL-11")) }
        #expect(error == .rateLimited(retryAfter: .seconds(7)))
        #expect(error?.isTransient == true)
        #expect(error?.retryAfter == .seconds(7))
        // The burst is spent: the retry goes through, and nothing was posted by the refused one.
        #expect(try await client.findJournal(reference: "HL-11") == nil)
        _ = try await client.post(balanced("HL-11"))
    }

    @Test func serverErrorIsUnavailable() async throws {
        try await withSage(Self.serverErrorIsUnavailable)
    }

    static func serverErrorIsUnavailable(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        try await sage.injectFaults(#"{"error_rate": 1, "error_status": 502}"#)
        let error = await sageError { try await client.post(balanced("HL-12")) }
        guard case .unavailable(.status(502, _)) = error else {
            Issue.record("expected .unavailable(502), got \(String(describing: error))")
            return
        }
        #expect(error?.isTransient == true)
        try await sage.clearFaults()
        _ = try await client.post(balanced("HL-12"))
    }

    @Test func downtimeIsUnavailableUntilItEnds() async throws {
        try await withSage(Self.downtimeIsUnavailableUntilItEnds)
    }

    static func downtimeIsUnavailableUntilItEnds(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        try await sage.injectFaults(#"{"downtime_seconds": 600}"#)
        let error = await sageError { try await client.findJournal(reference: "HL-13") }
        #expect(error.map { if case .unavailable(.status(503, _)) = $0 { true } else { false } } == true)
        try await sage.clearFaults()
        #expect(try await client.findJournal(reference: "HL-13") == nil)
    }

    @Test func readAnswered5xxIsAskedAgain() async throws {
        try await withSage(Self.readAnswered5xxIsAskedAgain)
    }

    /// Two 503s then an answer: the read succeeds (asked three times). Three 502s: the third is the failure. A read told
    /// not to retry fails on the first.
    static func readAnswered5xxIsAskedAgain(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        _ = try await client.post(balanced("HL-16"))
        try await sage.injectFaults(#"{"error_burst": 2}"#)
        #expect(try await client.findJournal(reference: "HL-16") != nil)
        #expect(try await sage.faultStatus()["error_burst_remaining"] as? Int == 0)

        try await sage.injectFaults(#"{"error_burst": 3, "error_status": 502}"#)
        let error = await sageError { try await client.findJournal(reference: "HL-16") }
        guard case .unavailable(.status(502, _)) = error else {
            Issue.record("expected .unavailable(502) after two retries, got \(String(describing: error))")
            return
        }
        #expect(try await sage.faultStatus()["error_burst_remaining"] as? Int == 0)

        var once = sage.connection()
        once.readRetries = 0
        try await sage.injectFaults(#"{"error_burst": 2}"#)
        let first = await sageError { try await SageWebAPIClient(connection: once, logger: quietLogger).findJournal(reference: "HL-16") }
        #expect(first.map { if case .unavailable(.status(503, _)) = $0 { true } else { false } } == true)
        #expect(try await sage.faultStatus()["error_burst_remaining"] as? Int == 1)
    }

    @Test func postAnswered5xxIsNotSentAgain() async throws {
        try await withSage(Self.postAnswered5xxIsNotSentAgain)
    }

    /// Sage keeps no unique key: a post is sent once, and its 503 goes to the caller (the loader's lookups decide).
    static func postAnswered5xxIsNotSentAgain(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        try await sage.injectFaults(#"{"error_burst": 1}"#)
        let error = await sageError { try await client.post(balanced("HL-17")) }
        #expect(error.map { if case .unavailable(.status(503, _)) = $0 { true } else { false } } == true)
        #expect(try await sage.faultStatus()["error_burst_remaining"] as? Int == 0)
        #expect(try await client.findJournal(reference: "HL-17") == nil)
    }

    @Test func malformedBodyIsUnavailable() async throws {
        try await withSage(Self.malformedBodyIsUnavailable)
    }

    static func malformedBodyIsUnavailable(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        try await sage.injectFaults(#"{"malformed_rate": 1}"#)
        let error = await sageError { try await client.accounts() }
        guard case .unavailable(.malformedResponse) = error else {
            Issue.record("expected .unavailable(.malformedResponse), got \(String(describing: error))")
            return
        }
    }

    @Test func hangingServerTimesOut() async throws {
        try await withSage(Self.hangingServerTimesOut)
    }

    static func hangingServerTimesOut(_ sage: SageHarness) async throws {
        let client = sage.webClient(timeout: .milliseconds(300))
        // The server hangs 30 s; the client's 300 ms timeout must end the wait long before (a wide margin: a busy
        // machine is slow, but not by half a minute).
        try await sage.injectFaults(#"{"timeout_rate": 1, "timeout_seconds": 30}"#)
        let started = ContinuousClock.now
        let error = await sageError { try await client.accountExists("4000") }
        #expect(error == .unavailable(.timeout))
        #expect(ContinuousClock.now - started < .seconds(25))
        try await sage.clearFaults()
    }

    @Test func nobodyListeningIsUnavailable() async throws {
        let sage = try await SageHarness.start()
        let client = sage.webClient(timeout: .seconds(2))
        await sage.stop()
        let error = await sageError { try await client.post(balanced("HL-14")) }
        guard case .unavailable(let why) = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        switch why {
        case .connection, .timeout: break
        default: Issue.record("expected a connection failure, got \(why)")
        }
    }

    @Test func cutAnswerToAPostLeavesTheOutcomeToTheLookup() async throws {
        try await withSage(Self.cutAnswerToAPostLeavesTheOutcomeToTheLookup)
    }

    /// Sage applied the post but the answer was lost: transient, and the lookup before the retry
    /// finds the batch, so the retry never posts it twice.
    static func cutAnswerToAPostLeavesTheOutcomeToTheLookup(_ sage: SageHarness) async throws {
        let client = sage.webClient()
        try await sage.injectFaults(#"{"malformed_rate": 1}"#)
        let error = await sageError { try await client.post(balanced("HL-15")) }
        guard case .unavailable(.malformedResponse) = error else {
            Issue.record("expected .unavailable(.malformedResponse), got \(String(describing: error))")
            return
        }
        try await sage.clearFaults()
        let held = try #require(try await client.findJournal(reference: "HL-15"))
        #expect(held.entry(reference: "HL-15")?.lines == balanced("HL-15").entries[0].lines)
    }
}
