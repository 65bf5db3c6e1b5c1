import Accounting
import Foundation
@testable import FraudScoring
import Testing

/// Keyed spikes under the pipeline's default rules: on one busy terminal shared by twenty clerks, a run of keyed-in sales
/// rung up by one clerk is reviewed once the tickets name the clerk (batch close), and the terminal's ordinary keyed sales
/// (a few an hour, spread over the clerks) are not.
@Suite struct KeyedSpikeTests {
    static let day = Date(timeIntervalSince1970: 1_795_132_800)  // 2026-11-20T00:00:00Z
    static let clerks = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Sofia", "Mateo", "Zoe", "Ethan", "Aria", "James", "Maya",
                         "Leo", "Chloe", "Omar", "Priya", "Diego", "Hana", "Kofi"]

    static func sale(_ id: String, second: Int, cents: Int64, keyed: Bool, clerk: String?) -> ScoredEvent {
        ScoredEvent(id: id, kind: .sale, store: StoreID("S01"), terminal: "DEV0001", clerk: clerk, tender: .card,
                    cardToken: CardToken(brand: "VISA", first6: "411111", last4: String(format: "%04d", second % 10_000)),
                    entryMode: keyed ? .keyed : .chip, amountCents: cents, occurredAt: day.addingTimeInterval(Double(second)), timeZone: "UTC")
    }

    /// A busy day on one terminal: a sale every 60 s from 08:00 to 20:00 (720), one in 25 keyed, the clerks taking turns.
    static func busyDay() -> [ScoredEvent] {
        (0..<720).map { n in
            sale("TRN_\(n)", second: 8 * 3600 + n * 60, cents: Int64(1_500 + (n * 137) % 9_000), keyed: n % 25 == 0,
                 clerk: clerks[(n * 7) % clerks.count])
        }
    }

    /// `count` keyed sales of $60 and up by one clerk from 14:00, five minutes apart.
    static func spike(_ count: Int, clerk: String?) -> [ScoredEvent] {
        (0..<count).map { n in sale("TRN_SPIKE\(n)", second: 14 * 3600 + n * 300 + 17, cents: Int64(6_000 + n * 4_800), keyed: true, clerk: clerk) }
    }

    static func reviewed(_ events: [ScoredEvent]) async throws -> [String: FraudDecision] {
        let scorer = FraudScorer(store: try FeatureStore(path: nil), model: .unscored,
                                 ruleSet: .pipelineDefault(reviewThreshold: FraudModel.unscored.reviewThreshold))
        let assessed = try await scorer.assess(events)
        return Dictionary(uniqueKeysWithValues: assessed.filter { $0.decision.action == .review }.map { ($0.event.id, $0.decision) })
    }

    @Test func aClerksRunOfKeyedSalesIsReviewedAndTheTerminalsOrdinaryKeyedSalesAreNot() async throws {
        let spike = Self.spike(6, clerk: "Kofi")
        let reviewed = try await Self.reviewed(Self.busyDay() + spike)
        #expect(Set(reviewed.keys) == Set(spike.map(\.id)), "the spike, and nothing else: \(reviewed.keys.sorted())")
        let decision = try #require(reviewed["TRN_SPIKE0"])
        #expect(decision.decidedBy == "line 6")
        #expect(decision.reasons.first == "rule line 6: review if :keyed_entry: and :clerk_keyed_1h: >= 4")
    }

    @Test func threeKeyedSalesByOneClerkAreNotASpike() async throws {
        let reviewed = try await Self.reviewed(Self.busyDay() + Self.spike(RuleSet.clerkKeyedRun - 1, clerk: "Kofi"))
        #expect(reviewed.isEmpty, "\(reviewed.keys.sorted())")
    }

    @Test func aRunWhoseClerkIsNotKnownYetIsNotJudgedByClerk() async throws {
        // Gateway feed events name no clerk; the batch's tickets do, and the run is judged then.
        let reviewed = try await Self.reviewed(Self.busyDay() + Self.spike(6, clerk: nil))
        #expect(reviewed.isEmpty, "\(reviewed.keys.sorted())")
    }
}
