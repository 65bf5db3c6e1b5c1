import Alerter
import Foundation
import Messaging
import Testing

/// The hop records behind `bridgectl trace`: kept per correlation id in order, a redelivered hop once.
@Suite struct TraceStoreTests {
    @Test func hopsOfOneEventInOrderAndOnce() async throws {
        let store = try TraceStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("traces-\(UUID().uuidString).sqlite").path)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let hops = [
            HopNotice(stage: "transformer", correlationId: "heartland:batch:B1", messageId: "m1", idempotencyKey: "heartland:batch:B1",
                      routingKey: "heartland.batch.closed", attempt: 1, outcome: "published 1 (sage.journal.settlement)", durationMs: 12, at: start),
            HopNotice(stage: "sage-loader", correlationId: "heartland:batch:B1", messageId: "m2", idempotencyKey: "heartland:batch:B1",
                      routingKey: "sage.journal.settlement", attempt: 1, outcome: "retry in 5s: Sage unavailable", durationMs: 30,
                      at: start.addingTimeInterval(1)),
            HopNotice(stage: "sage-loader", correlationId: "heartland:batch:B1", messageId: "m2", idempotencyKey: "heartland:batch:B1",
                      routingKey: "sage.journal.settlement", attempt: 2, outcome: "published 2", durationMs: 40, at: start.addingTimeInterval(7)),
            HopNotice(stage: "transformer", correlationId: "other", messageId: "m9", idempotencyKey: nil, routingKey: "x", attempt: 1,
                      outcome: "published 1", durationMs: 1, at: start),
        ]
        var redelivered = hops[2]
        redelivered.outcome = "duplicate: already posted"
        redelivered.at = hops[2].at
        for hop in hops + [hops[1], redelivered] { try await store.record(hop) }  // the retry's hop delivered twice; the message itself twice
        let trace = try await store.hops(of: "heartland:batch:B1")
        #expect(trace.map(\.stage) == ["transformer", "sage-loader", "sage-loader", "sage-loader"])
        #expect(trace.map(\.attempt) == [1, 1, 2, 2])
        #expect(trace.last?.outcome.hasPrefix("duplicate") == true || trace[2].outcome.hasPrefix("duplicate"))
        #expect(trace[1].outcome.hasPrefix("retry in 5s"))
        #expect(try await store.hops(of: "nothing").isEmpty)
    }
}
