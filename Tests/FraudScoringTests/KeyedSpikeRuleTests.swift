import Accounting
import Foundation
@testable import FraudScoring
import Testing

/// The optional keyed-spike rule (`RuleSet.keyedSpikeRule`, after the pipeline's defaults): on one busy terminal, a run of
/// keyed sales of $40 or more is reviewed once the day is known (batch close), while the terminal's ordinary keyed sales
/// away from it are not.
@Suite struct KeyedSpikeRuleTests {
    static let day = Date(timeIntervalSince1970: 1_795_132_800)  // 2026-11-20T00:00:00Z

    static func sale(_ id: String, second: Int, cents: Int64, keyed: Bool) -> ScoredEvent {
        ScoredEvent(id: id, kind: .sale, store: StoreID("S01"), terminal: "DEV0001", clerk: "Ava", tender: .card,
                    cardToken: CardToken(brand: "VISA", first6: "411111", last4: String(format: "%04d", second % 10_000)),
                    entryMode: keyed ? .keyed : .chip, amountCents: cents, occurredAt: day.addingTimeInterval(Double(second)), timeZone: "UTC")
    }

    @Test func aRunOfKeyedSalesOnABusyTerminalIsReviewedAndItsOrdinaryKeyedSalesAreNot() async throws {
        var rules = RuleSet.pipelineDefault(reviewThreshold: FraudModel.unscored.reviewThreshold)
        rules.rules += try RuleParser.parse("\n\n\n\n\n\n" + RuleSet.keyedSpikeRule, file: "keyed spike").rules  // line 7, after the six defaults
        let scorer = FraudScorer(store: try FeatureStore(path: nil), model: .unscored, ruleSet: rules)
        // A busy day on one terminal: a sale every 90 s from 08:00 to 20:00 (480), one in 25 keyed.
        var events = (0..<480).map { n in Self.sale("TRN_\(n)", second: 8 * 3600 + n * 90, cents: Int64(1_500 + (n * 137) % 9_000), keyed: n % 25 == 0) }
        // A spike at 14:00: six keyed sales of $60–$300, five minutes apart.
        let spike = (0..<6).map { n in Self.sale("TRN_SPIKE\(n)", second: 14 * 3600 + n * 300 + 17, cents: Int64(6_000 + n * 4_800), keyed: true) }
        events += spike
        let assessed = try await scorer.assess(events)
        let reviewed = Set(assessed.filter { $0.decision.action == .review }.map(\.event.id))
        #expect(spike.allSatisfy { reviewed.contains($0.id) }, "every sale of the spike: \(reviewed.sorted())")
        // The price: an ordinary keyed sale within the hour around the spike looks like part of it; none further away is reviewed.
        let spikeTimes = spike.map(\.occurredAt)
        let beside = assessed.filter { reviewed.contains($0.event.id) && !spike.map(\.id).contains($0.event.id) }
        #expect(beside.allSatisfy { sale in spikeTimes.contains { abs(sale.event.occurredAt.timeIntervalSince($0)) <= 3600 } },
                "\(beside.map { ($0.event.id, $0.event.occurredAt) })")
        #expect(beside.allSatisfy { $0.event.entryMode == .keyed })
        #expect(beside.count <= 3)
        let decided = assessed.first { $0.event.id == "TRN_SPIKE0" }?.decision
        #expect(decided?.decidedBy == "line 7")
        #expect(decided?.reasons.first == "rule line 7: review if :keyed_entry: and :amount: >= 4000 and :terminal_keyed_excess: >= 3")
    }
}
