import Foundation
import HeartlandConnector
import Testing

/// GP-API access tokens against the simulator: cached, refreshed before expiry, refreshed once
/// after a 401, and refused credentials reported as permanent.
@Suite struct AuthenticationTests {
    @Test func tokenIsFetchedOnceAndReused() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 10)
        let client = harness.client()
        _ = try await client.transactions(TransactionQuery()).collect()
        _ = try await client.batches(BatchQuery()).collect()
        async let a = client.transactions(TransactionQuery(type: .refund)).collect()
        async let b = client.transactions(TransactionQuery(type: .sale)).collect()
        _ = try await (a, b)
        #expect(await client.authenticator.tokensFetched == 1)
        #expect(try await harness.count("SELECT COUNT(*) FROM access_token") == 1)
    }

    @Test func concurrentFirstCallersShareOneTokenFetch() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await client.batches(BatchQuery()).collect().count } }
            for try await _ in group {}
        }
        #expect(await client.authenticator.tokensFetched == 1)
    }

    @Test func expiringTokenIsRefreshedBeforeUse() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client(secondsToExpire: 120)
        _ = try await client.batches(BatchQuery()).collect()
        // Both clocks pass the token's lifetime: the connector refreshes without a 401.
        harness.simulator.clock.advance(seconds: 115)
        harness.connectorClock.advance(seconds: 115)
        _ = try await client.batches(BatchQuery()).collect()
        #expect(await client.authenticator.tokensFetched == 2)
        // And keeps using the fresh one.
        _ = try await client.batches(BatchQuery()).collect()
        #expect(await client.authenticator.tokensFetched == 2)
    }

    @Test func refusedTokenIsRefreshedOnceAndTheRequestRetried() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 10)
        let client = harness.client(secondsToExpire: 3600)
        let before = try await client.transactions(TransactionQuery()).collect()
        // Only the server's clock moves: the cached token looks valid but is refused (401).
        harness.simulator.clock.advance(seconds: 4000)
        let after = try await client.transactions(TransactionQuery()).collect()
        #expect(after.map(\.id) == before.map(\.id))
        #expect(await client.authenticator.tokensFetched == 2)
    }

    @Test func wrongAppKeyIsUnauthorizedNamingTheAppId() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client(appKey: "not-the-key")
        let error = await heartlandError { _ = try await client.batch(id: "BAT_1") }
        guard case .unauthorized(let detail) = error else {
            Issue.record("expected .unauthorized, got \(String(describing: error))")
            return
        }
        #expect(detail.contains(Harness.appId))
        #expect(detail.contains("40004"))
        #expect(error?.isTransient == false)
    }

    @Test func wrongRetailTokenIsUnauthorized() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        var configuration = harness.configuration()
        configuration.retailToken = "wrong"
        let client = URLSessionHeartlandClient(configuration: configuration, logger: quietLogger)
        let error = await heartlandError { _ = try await client.tickets(TicketQuery()).collect() }
        guard case .unauthorized = error else {
            Issue.record("expected .unauthorized, got \(String(describing: error))")
            return
        }
    }

    @Test func secretIsLowercaseHexSHA512OfNonceAndKey() {
        let secret = GPAPIAuthenticator.secret(nonce: "2026-11-27T10:15:00Z", appKey: "key")
        #expect(secret.count == 128)
        #expect(secret == secret.lowercased())
        #expect(secret == HeartlandSimulatorSecret.secret(nonce: "2026-11-27T10:15:00Z", appKey: "key"))
    }
}
