import Foundation
import HeartlandConnector
import Testing

/// Injected faults classified the way the stage runner needs them.
@Suite struct FaultTests {
    @Test func tooManyRequestsIsRateLimitedWithRetryAfter() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client()
        _ = try await client.batches(BatchQuery()).collect()
        harness.faults {
            $0.rateLimitBurst = 1
            $0.retryAfterSeconds = 7
        }
        let error = await heartlandError { _ = try await client.batches(BatchQuery()).collect() }
        #expect(error == .rateLimited(retryAfter: .seconds(7)))
        #expect(error?.isTransient == true)
        // The burst is spent: the next call goes through.
        _ = try await client.batches(BatchQuery()).collect()
    }

    @Test func retailRateLimitIsRateLimitedToo() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        harness.faults {
            $0.rateLimitBurst = 1
            $0.retryAfterSeconds = 2
        }
        let error = await heartlandError { _ = try await harness.client().tickets(TicketQuery()).collect() }
        #expect(error == .rateLimited(retryAfter: .seconds(2)))
    }

    @Test func serverErrorsAreUnavailable() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client()
        _ = try await client.batches(BatchQuery()).collect()
        for status in [500, 502, 503] {
            harness.faults {
                $0.errorRate = 1
                $0.errorStatus = status
            }
            let error = await heartlandError { _ = try await client.batches(BatchQuery()).collect() }
            guard case .unavailable(let detail) = error else {
                Issue.record("HTTP \(status): expected .unavailable, got \(String(describing: error))")
                continue
            }
            #expect(detail.contains("\(status)"))
        }
    }

    /// Two 503s, then the answer: a read succeeds, asked three times. Three 502s: the third is the failure. The token's
    /// request (a POST) is never asked again, nor a read by a client told not to (`readRetries` 0). A Retail read (what
    /// heartland-loader and the master-data poller make) is asked again too.
    @Test func readAnswered5xxIsAskedAgain() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client()
        _ = try await client.batches(BatchQuery()).collect()  // the token, before any fault
        harness.faults { $0.errorBurst = 2 }
        _ = try await client.batches(BatchQuery()).collect()
        #expect(harness.errorBurstRemaining == 0)

        harness.faults {
            $0.errorBurst = 3
            $0.errorStatus = 502
        }
        let error = await heartlandError { _ = try await client.batches(BatchQuery()).collect() }
        guard case .unavailable(let detail) = error, detail.contains("502") else {
            Issue.record("expected .unavailable(502) after two retries, got \(String(describing: error))")
            return
        }
        #expect(harness.errorBurstRemaining == 0)

        harness.faults { $0.errorBurst = 1 }
        let token = await heartlandError { _ = try await harness.client().batches(BatchQuery()).collect() }
        #expect(token.map { if case .unavailable = $0 { true } else { false } } == true, "\(String(describing: token))")
        #expect(harness.errorBurstRemaining == 0)

        var configuration = harness.configuration()
        configuration.readRetries = 0
        let once = URLSessionHeartlandClient(configuration: configuration, logger: quietLogger)
        _ = try await once.batches(BatchQuery()).collect()
        harness.faults { $0.errorBurst = 2 }
        #expect(await heartlandError { _ = try await once.batches(BatchQuery()).collect() } != nil)
        #expect(harness.errorBurstRemaining == 1)

        harness.faults { $0.errorBurst = 2 }
        _ = try await RetailMasterDataClient(configuration: harness.configuration(), logger: quietLogger).item(publicId: "none")
        #expect(harness.errorBurstRemaining == 0)
    }

    @Test func downtimeIsUnavailableUntilItEnds() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 5)
        let client = harness.client()
        harness.faults { $0.downtimeSeconds = 600 }
        let error = await heartlandError { _ = try await client.transactions(TransactionQuery()).collect() }
        guard case .unavailable = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        harness.simulator.clock.advance(seconds: 601)
        harness.connectorClock.advance(seconds: 601)
        #expect(try await !client.transactions(TransactionQuery()).collect().isEmpty)
    }

    @Test func malformedBodiesAreUnavailable() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 5)
        let client = harness.client()
        _ = try await client.batches(BatchQuery()).collect()
        harness.faults { $0.malformedRate = 1 }
        let error = await heartlandError { _ = try await client.transactions(TransactionQuery()).collect() }
        guard case .unavailable(let detail) = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("malformed"))
    }

    /// A ticket page read by the caller as it arrives (heartland-ingest's sketches): a body that is not JSON is still
    /// Heartland unavailable (retried), and a page the caller cannot read although it is JSON is an invalid answer.
    @Test func ticketPagesTheCallerReadsAreJudgedAsDecodedOnes() async throws {
        struct NotAPage: Error {}
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 5)
        let client = harness.client()
        let counted = try await client.ticketPages(TicketQuery()) { body in
            RetailPageReading(page: body.count, recordCount: 1, pageCount: 1)
        }.collect()
        #expect(counted.count == 1 && counted[0] > 0)
        harness.faults { $0.malformedRate = 1 }
        let cut = await heartlandError { _ = try await client.ticketPages(TicketQuery()) { _ -> RetailPageReading<Int> in throw NotAPage() }.collect() }
        guard case .unavailable(let detail) = cut else {
            Issue.record("expected .unavailable, got \(String(describing: cut))")
            return
        }
        #expect(detail.contains("malformed"))
        harness.faults { $0.malformedRate = 0 }
        let unread = await heartlandError { _ = try await client.ticketPages(TicketQuery()) { _ -> RetailPageReading<Int> in throw NotAPage() }.collect() }
        guard case .invalidResponse = unread else {
            Issue.record("expected .invalidResponse, got \(String(describing: unread))")
            return
        }
    }

    @Test func timeoutsAreUnavailable() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        var configuration = harness.configuration()
        configuration.requestTimeout = .milliseconds(500)
        let client = URLSessionHeartlandClient(configuration: configuration, logger: quietLogger)
        harness.faults {
            $0.timeoutRate = 1
            $0.timeoutSeconds = 3
        }
        let error = await heartlandError { _ = try await client.batches(BatchQuery()).collect() }
        guard case .unavailable = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
    }

    @Test func refusedConnectionIsUnavailable() async throws {
        let harness = try await Harness.start()
        let client = harness.client()
        await harness.stop()
        let error = await heartlandError { _ = try await client.batches(BatchQuery()).collect() }
        guard case .unavailable = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
    }

    @Test func unknownResourcesAreNotFound() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client()
        let batch = await heartlandError { _ = try await client.batch(id: "BAT_MISSING") }
        guard case .notFound(let detail) = batch else {
            Issue.record("expected .notFound, got \(String(describing: batch))")
            return
        }
        #expect(detail.contains("40118"))
        let ticket = await heartlandError { _ = try await client.ticket(id: 999_999) }
        guard case .notFound = ticket else {
            Issue.record("expected .notFound, got \(String(describing: ticket))")
            return
        }
    }
}
