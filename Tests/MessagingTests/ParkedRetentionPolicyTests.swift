import Foundation
import Testing
@testable import Messaging

/// The retention of parked messages as the committed topology states it (docs/SECURITY.md).
@Suite struct ParkedRetentionPolicyTests {
    static let stages = ["transformer", "fraud-scorer", "sage-loader", "heartland-loader", "alerter"]

    @Test func everyParkingLotIsKeptThirtyDaysThenSentToTheAlerter() throws {
        let topology = try Topology.load(from: TopologyFileTests.file)
        #expect(topology.parkedRetention == .seconds(30 * 24 * 3600))
        let policy = try #require(topology.policies.first { $0.name == "bridge-parked-messages" })
        #expect(policy.applyTo == "queues")
        #expect(policy.definition["dead-letter-exchange"] == .string("bridge.expired"))
        #expect(policy.definition["dead-letter-strategy"] == .string("at-least-once"), "an expiring message leaves only once the alerter's queue has it")
        // Only one policy applies to a queue: this one must be the only one that matches a parking lot, and match nothing else.
        for stage in Self.stages {
            let matching = try topology.policies.filter { "\(stage).dlq".wholeMatch(of: try Regex($0.pattern)) != nil }
            #expect(matching.map(\.name) == ["bridge-parked-messages"], "\(stage).dlq")
            for other in [stage, "\(stage).delay.5s"] {
                #expect(other.wholeMatch(of: try Regex(policy.pattern)) == nil, "\(other) is not a parking lot")
            }
        }
        #expect(topology.exchanges.contains { $0.name == "bridge.expired" && $0.durable })
        #expect(topology.bindings.contains { $0.source == "bridge.expired" && $0.destination == "alerter" && $0.routingKey == "#" })
    }

    @Test func theRetentionCanBeChangedWithoutTouchingAnythingElse() throws {
        let topology = try Topology.load(from: TopologyFileTests.file)
        let shorter = topology.keepingParkedMessages(for: .seconds(7 * 24 * 3600))
        #expect(shorter.parkedRetention == .seconds(7 * 24 * 3600))
        #expect(shorter.policies.first { $0.name == "bridge-parked-messages" }?.definition["message-ttl"] == .int(7 * 24 * 3600 * 1000))
        var back = shorter.keepingParkedMessages(for: .seconds(30 * 24 * 3600))
        #expect(back == topology)
        back.policies.removeAll { $0.name == "bridge-parked-messages" }
        #expect(back.parkedRetention == nil)
    }
}
