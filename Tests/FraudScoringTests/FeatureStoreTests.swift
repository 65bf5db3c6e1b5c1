import Accounting
import Foundation
import StableHash
import Testing
@testable import FraudScoring

@Suite struct FeatureStoreTests {
    let day = "2026-03-03"

    @Test func cardTestingBurstCountsDeclinesAndTinyAuthorisationsOnTheTerminal() async throws {
        let store = try FeatureStore(path: nil)
        let burst = (0..<8).map { n in
            Traffic.event("probe\(n)", n % 2 == 0 ? .decline : .sale, at: Traffic.local(day, 14, 0, second: n * 20), amount: 100,
                          card: "VISA:411111******\(1000 + n)", entry: .keyed)
        }
        let quiet = Traffic.event("quiet", at: Traffic.local(day, 16), amount: 100, terminal: "DEV0002")
        let features = try await store.observe(burst + [quiet])
        // The window is centred on each event: the first probe already sees the whole burst.
        #expect(features[0][.terminalDeclines10m] == 4)
        #expect(features[0][.terminalSmallAuths10m] == 8)
        #expect(features[0][.smallAuth] == 1)
        #expect(features[1][.isDecline] == 0)
        #expect(features[0][.isDecline] == 1)
        #expect(features[7][.terminalKeyed1h] == 8)
        #expect(features[8][.terminalSmallAuths10m] == 1)
        #expect(features[8][.terminalDeclines10m] == 0)
    }

    @Test func velocityPerCardTerminalAndClerkUsesSlidingWindows() async throws {
        let store = try FeatureStore(path: nil)
        let card = "MASTERCARD:545454******4444"
        let events = [
            Traffic.event("a", at: Traffic.local(day, 10), card: card),
            Traffic.event("b", at: Traffic.local(day, 10, 30), clerk: "Liam", card: card),
            Traffic.event("c", at: Traffic.local(day, 13), card: card),
        ]
        let f = try await store.observe(events)
        #expect(f[0][.cardVelocity1h] == 2)
        #expect(f[2][.cardVelocity1h] == 1)
        #expect(f[2][.cardVelocity24h] == 3)
        #expect(f[0][.clerkVelocity1h] == 1)
        #expect(f[0][.terminalVelocity10m] == 1)
    }

    @Test func unlinkedRefundIsFlagged() async throws {
        let store = try FeatureStore(path: nil)
        let f = try await store.observe([Traffic.event("r", .refund, at: Traffic.local(day, 12), amount: 40_000)])
        #expect(f[0][.refundUnlinked] == 1)
        #expect(f[0][.isRefund] == 1)
    }

    @Test func refundOverTheOriginalCountsEarlierRefunds() async throws {
        let store = try FeatureStore(path: nil)
        let original = ScoredEvent.OriginalSale(id: "sale", amountCents: 10_000, cardToken: CardToken("VISA:424242******1111"),
                                                tenderMix: TenderMix(cardCents: 10_000))
        let first = Traffic.event("r1", .refund, at: Traffic.local(day, 12), amount: 6_000, original: original)
        let second = Traffic.event("r2", .refund, at: Traffic.local(day, 13), amount: 6_000, original: original)
        let f = try await store.observe([second, first])
        #expect(f[1][.refundOverOriginal] == 0)  // the first refund is within the sale
        #expect(f[0][.refundOverOriginal] == 1)  // the second takes refunds past it
        #expect(f[1][.refundUnlinked] == 0)
        // A redelivery of the first refund does not count it twice.
        #expect(try await store.observe([first])[0][.refundOverOriginal] == 0)
    }

    @Test func refundToAnotherCardOrTenderIsFlagged() async throws {
        let store = try FeatureStore(path: nil)
        let sale = ScoredEvent.OriginalSale(id: "sale", amountCents: 10_000, cardToken: CardToken("VISA:424242******1111"),
                                            tenderMix: TenderMix(cardCents: 4_000, cashCents: 6_000))
        let f = try await store.observe([
            Traffic.event("same", .refund, at: Traffic.local(day, 12), amount: 3_000, card: "VISA:424242******1111", original: sale),
            Traffic.event("other", .refund, at: Traffic.local(day, 12, 5), amount: 500, card: "VISA:424242******9999", original: sale),
        ])
        #expect(f[0][.refundCardMismatch] == 0)
        #expect(f[0][.refundTenderMismatch] == 0)
        #expect(f[1][.refundCardMismatch] == 1)
        // 3,000 + 500 on the card is within the 4,000 card share; a further 1,000 is not.
        #expect(f[1][.refundTenderMismatch] == 0)
        let g = try await store.observe([Traffic.event("more", .refund, at: Traffic.local(day, 12, 10), amount: 1_000,
                                                       card: "VISA:424242******1111", original: sale)])
        #expect(g[0][.refundTenderMismatch] == 1)
        #expect(g[0][.refundOverOriginal] == 0)
    }

    @Test func outsideHoursIsJudgedInTheStoresOwnTimeZone() async throws {
        let store = try FeatureStore(path: nil)
        // 14:00 UTC: 09:00 in New York (open), 06:00 in Los Angeles (before the 06:30 opening).
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let instant = utc.date(from: DateComponents(year: 2026, month: 3, day: 3, hour: 14))!
        let f = try await store.observe([
            Traffic.event("ny", at: instant, zone: Traffic.newYork),
            Traffic.event("la", at: instant, store: "S04", zone: Traffic.losAngeles),
            Traffic.event("night", at: Traffic.local(day, 3), store: "S02"),
        ])
        #expect(f[0][.outsideHours] == 0)
        #expect(f[1][.outsideHours] == 1)
        #expect(f[1][.minutesOutsideHours] == 30)
        #expect(f[2][.minutesOutsideHours] == 180)
    }

    @Test func voidsPerClerkPerShiftAgainstTheStoreBaseline() async throws {
        let store = try FeatureStore(path: nil)
        // History: six clerks, one void between them on each of five days.
        for d in 2...6 {
            let date = "2026-03-0\(d)"
            let clerks: [String] = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas"]
            var events = clerks.enumerated().map { n, clerk in
                Traffic.event("\(date)-\(clerk)", at: Traffic.local(date, 9 + n), clerk: clerk)
            }
            events.append(Traffic.event("\(date)-void", .void, at: Traffic.local(date, 15), clerk: "Emma"))
            _ = try await store.observe(events)
        }
        let abuse = (0..<6).map { Traffic.event("abuse\($0)", .void, at: Traffic.local("2026-03-07", 10 + $0), clerk: "Noah") }
        let normal = Traffic.event("normal", .void, at: Traffic.local("2026-03-07", 11), clerk: "Mia")
        let f = try await store.observe(abuse + [normal])
        #expect(f[0][.clerkVoidsShift] == 6)
        #expect(f[6][.clerkVoidsShift] == 1)
        #expect(f[0][.clerkVoidExcess] > 5)
        #expect(f[6][.clerkVoidExcess] < 1)
    }

    @Test func amountBaselineGivesAZScoreOnceWarm() async throws {
        let store = try FeatureStore(path: nil)
        var rng = SeededRandom(seed: 3)
        let usual = (0..<100).map { n in
            Traffic.event("u\(n)", at: Traffic.local(day, 8, 0, second: n * 30), amount: Int64(rng.int(2_000...3_000)))
        }
        _ = try await store.observe(usual)
        let f = try await store.observe([
            Traffic.event("big", at: Traffic.local(day, 12), amount: 90_000),
            Traffic.event("normal", at: Traffic.local(day, 12, 1), amount: 2_500),
        ])
        #expect(f[0][.amountZStore] > 5)
        #expect(f[0][.amountZTerminal] > 5)
        #expect(abs(f[1][.amountZStore]) < 2)
    }

    @Test func theStoreStaysWithinItsBounds() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try FeatureStore(path: folder.appendingPathComponent("f.sqlite").path,
                                     limits: .init(maxAge: 2 * 86_400, maxEvents: 500))
        for d in 2...8 {
            let date = "2026-03-0\(d)"
            _ = try await store.observe((0..<200).map { Traffic.event("\(date)-\($0)", at: Traffic.local(date, 9, 0, second: $0)) })
        }
        try await store.prune()
        let count = try await store.eventCount()
        #expect(count <= 500)
        #expect(count > 0)
    }
}
