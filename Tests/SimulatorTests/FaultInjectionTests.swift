import Foundation
import HeartlandSimulator
import SimulatorKit
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Each injected fault, the rate limit, and that `/health` is never affected.
@Suite struct FaultInjectionTests {
    @Test func latencyIsAdded() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        // Bounds with a wide margin: a busy machine slows every call, but it cannot make one faster than the
        // added latency, and /health (never faulted) stays far below it.
        #expect(try await sim.call("POST", "/admin/faults", ["latency_ms": 3000, "latency_jitter_ms": 50]).status == 200)
        let health = Date()
        #expect(try await sim.call("GET", "/health").status == 200)
        #expect(Date().timeIntervalSince(health) < 2.5)
        let start = Date()
        _ = try await sim.call("GET", "/api/items", headers: sim.retail)
        #expect(Date().timeIntervalSince(start) >= 3.0)
    }

    @Test func serverErrorsUseTheApiErrorShape() async throws {
        let sim = try await HeartlandUnderTest.start { $0.server.faults = try! FaultPlan(flags: ["error_rate=1", "error_status=502"]) }
        defer { Task { await sim.stop() } }
        let gp = try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest())
        #expect(gp.status == 502)
        #expect(gp.json["error_code"] == "SYSTEM_ERROR")
        let retail = try await sim.call("GET", "/api/items", headers: sim.retail)
        #expect(retail.status == 502)
        #expect(retail.json["message"] == "simulated server error")
        #expect(try await sim.call("GET", "/health").status == 200)
        _ = try await sim.call("DELETE", "/admin/faults")
        #expect(try await sim.call("GET", "/api/items", headers: sim.retail).status == 200)
    }

    /// A gateway that echoes what it choked on: the injected message is the answer's message, in both API shapes.
    @Test func serverErrorsCarryTheInjectedMessage() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        let echo = "declined: card 4111 1111 1111 1111 on file"
        #expect(try await sim.call("POST", "/admin/faults", ["error_rate": 1, "error_message": .string(echo)]).status == 200)
        #expect(try await sim.call("GET", "/api/items", headers: sim.retail).json["message"] == .string(echo))
        #expect(try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest()).json["detailed_error_description"] == .string(echo))
        #expect(try await sim.call("POST", "/admin/faults", ["error_message": 7]).status == 400)
        #expect(try FaultPlan(flags: ["error_rate=1", "error_message=a=b c"]).errorMessage == "a=b c")
    }

    @Test func rateLimitBurstAnswers429WithRetryAfter() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        _ = try await sage.admin("POST", "/admin/faults", ["rate_limit_burst": 2, "retry_after_seconds": 7])
        for _ in 0..<2 {
            let limited = try await sage.call("GET", "GL/GLAccounts")
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") == "7")
            #expect(limited.json["error"]?["code"] == "General")
        }
        #expect(try await sage.call("GET", "GL/GLAccounts").status == 200)
    }

    @Test func errorBurstFailsExactlyTheNextRequests() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        _ = try await sage.admin("POST", "/admin/faults", ["error_burst": 2, "error_status": 502])
        #expect(try await sage.admin("GET", "/admin/faults").json["error_burst_remaining"] == 2)
        for _ in 0..<2 { #expect(try await sage.call("GET", "GL/GLAccounts").status == 502) }
        #expect(try await sage.call("GET", "GL/GLAccounts").status == 200)
        #expect(try await sage.admin("GET", "/admin/faults").json["error_burst_remaining"] == 0)
    }

    @Test func downtimeWindowEnds() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        _ = try await sage.admin("POST", "/admin/faults", ["downtime_seconds": 60])
        #expect(try await sage.call("GET", "GL/GLAccounts").status == 503)
        #expect(try await sage.admin("GET", "/health").status == 200)
        let remaining = try await sage.admin("GET", "/admin/faults").json["downtime_remaining_seconds"]?.int64Value ?? 0
        #expect((55...60).contains(remaining))
        _ = try await sage.admin("POST", "/admin/clock", ["advance_seconds": 61])
        #expect(try await sage.call("GET", "GL/GLAccounts").status == 200)
    }

    @Test func timeoutsHangPastTheClientTimeout() async throws {
        let sim = try await HeartlandUnderTest.start { $0.server.faults = try! FaultPlan(flags: ["timeout_rate=1", "timeout_seconds=2"]) }
        defer { Task { await sim.stop() } }
        await #expect(throws: ClientTimeout.self) {
            _ = try await withClientTimeout(0.5) { try await sim.call("GET", "/api/items", headers: sim.retail) }
        }
        let start = Date()
        let hung = try await sim.call("GET", "/api/items", headers: sim.retail)
        #expect(Date().timeIntervalSince(start) >= 2)
        #expect(hung.status == 504)
    }

    @Test func malformedBodiesDoNotParse() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        _ = try await sim.call("POST", "/admin/faults", ["malformed_rate": 1])
        let result = try await sim.call("GET", "/api/items", headers: sim.retail)
        #expect(result.status == 200)
        #expect((try? JSONValue.parse(result.body)) == nil)
    }

    @Test func unknownFaultKeysAreRejected() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        let bad = try await sim.call("POST", "/admin/faults", ["latency": 5])
        #expect(bad.status == 400)
        #expect(throws: FaultPlanError.self) { try FaultPlan(flags: ["error_rate=2"]) }
    }

    @Test func tokenBucketPerClient() async throws {
        // One token per 100 s: the bucket cannot refill between the calls however slow the machine is.
        let sim = try await HeartlandUnderTest.start { $0.server.rateLimit = .init(perSecond: 0.01, burst: 3) }
        defer { Task { await sim.stop() } }
        for _ in 0..<3 { #expect(try await sim.call("GET", "/api/items", headers: sim.retail).status == 200) }
        let limited = try await sim.call("GET", "/api/items", headers: sim.retail)
        #expect(limited.status == 429)
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
        // Another client has its own bucket.
        #expect(try await sim.call("GET", "/api/items", headers: ["Authorization": "Bearer other"]).status == 401)
        let raised = try await sim.call("POST", "/admin/rate-limit", ["per_second": 100, "burst": 100])
        #expect(raised.status == 200)
        #expect(try await sim.call("GET", "/api/items", headers: sim.retail).status == 200)
    }
}

struct ClientTimeout: Error {}

/// What a client with a request timeout sees: the call is abandoned after `seconds`.
func withClientTimeout<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw ClientTimeout() }
        return value
    }
}
