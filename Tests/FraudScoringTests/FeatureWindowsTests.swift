import Accounting
import Foundation
import StableHash
import Testing
@testable import FraudScoring

/// `FeatureStore.observe` counts its windows in memory for a batch and with SQL for a few events (`EventWindows`): both
/// must give every feature the same value, to the bit, whatever the batch (days of ordinary traffic with bursts, void runs
/// and keyed runs in it; events seen before; one event at a time).
@Suite struct FeatureWindowsTests {
    static func days() -> [[ScoredEvent]] {
        var events = Traffic.legitimate(seed: 17, days: 3, stores: 2, salesPerDay: 400)
        var rng = SeededRandom(seed: 5)
        for day in ["2026-03-02", "2026-03-03", "2026-03-04"] {
            // A card-testing burst, a clerk voiding six tickets and a keyed run on store S01's terminal.
            for n in 0..<10 {
                events.append(Traffic.event("\(day)-probe\(n)", n % 3 == 0 ? .sale : .decline, at: Traffic.local(day, 15, 0, second: n * 25),
                                            amount: Int64(rng.int(1...199)), store: "S01", terminal: "DEV1",
                                            card: "VISA:411111******\(1000 + n)", entry: .keyed))
            }
            for n in 0..<6 {
                events.append(Traffic.event("\(day)-void\(n)", .void, at: Traffic.local(day, 12 + n, 10), amount: 1_500, store: "S01",
                                            terminal: "DEV1", clerk: "Ava", tender: .cash))
            }
            for n in 0..<5 {
                events.append(Traffic.event("\(day)-keyed\(n)", at: Traffic.local(day, 19, n * 7), amount: Int64(rng.int(4_000...45_000)),
                                            store: "S01", terminal: "DEV1", card: "MASTERCARD:545454******\(2000 + n)", entry: .keyed))
            }
        }
        // One batch per store and local day, as settlement documents come.
        let grouped = Dictionary(grouping: events) { "\($0.localTime.day)|\($0.store)" }
        return grouped.keys.sorted().map { key in grouped[key]!.sorted { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) } }
    }

    @Test func aBatchCountedInMemoryHasTheFeaturesSQLGives() async throws {
        let inMemory = try FeatureStore(path: nil), bySQL = try FeatureStore(path: nil)
        var compared = 0
        for batch in Self.days() {
            let fast = try await inMemory.observe(batch, windowsInMemory: true)
            let slow = try await bySQL.observe(batch, windowsInMemory: false)
            for (index, event) in batch.enumerated() where fast[index] != slow[index] {
                Issue.record("\(event.id): in memory \(fast[index]) against SQL \(slow[index])")
            }
            compared += batch.count
            // The same batch again (a redelivery): every event recorded before, features from the recorded copies.
            let again = try await inMemory.observe(batch, windowsInMemory: true)
            let againSQL = try await bySQL.observe(batch, windowsInMemory: false)
            #expect(again == againSQL)
        }
        #expect(compared > 2_000)
        let nonZero = try await inMemory.observe(Self.days()[0], windowsInMemory: true)
        #expect(nonZero.contains { $0[.terminalDeclines10m] >= 5 }, "the data has a burst in it")
        #expect(nonZero.contains { $0[.clerkVoidsShift] >= 6 }, "and a void run")
        #expect(nonZero.contains { $0[.clerkKeyed1h] >= 5 }, "and a keyed run by one clerk")
    }

    @Test func eventsOneAtATimeHaveTheFeaturesOfTheirBatchCountedEitherWay() async throws {
        let one = try FeatureStore(path: nil), inMemory = try FeatureStore(path: nil)
        let day = Self.days()[0]
        for event in day.prefix(300) {
            let alone = try await one.observe([event])
            let forced = try await inMemory.observe([event], windowsInMemory: true)
            #expect(alone == forced, "\(event.id)")
        }
    }
}
