import Foundation
import Testing
@testable import Accounting

/// Random store days: every journal balances, and its net per account equals the rules of
/// ACCOUNTING.md applied by the simple sums below (written without the builder's code).
@Suite struct BalancePropertyTests {
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
            range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
        }
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    }

    static let brands: [(spelling: String, account: AccountNumber)] = [
        ("VISA", "1210"), ("Visa", "1210"), ("MC", "1211"), ("MASTERCARD", "1211"), ("American Express", "1212"),
        ("DISCOVER", "1213"), ("JCB", "1219"),
    ]

    struct Day {
        var tickets: [Ticket] = []
        var batchBrands: [String: (sales: Int64, refunds: Int64, tips: Int64, fees: Int64)] = [:]
        var expected: [AccountNumber: Int64] = [:]
        mutating func expect(_ account: AccountNumber, _ cents: Int64) { expected[account, default: 0] += cents }
    }

    static func randomDay(seed: UInt64) -> Day {
        var rng = SplitMix64(state: seed)
        var day = Day()
        for index in 0..<rng.int(1...40) {
            var lines: [TicketLine] = []
            var tenders: [Tender] = []
            let time = Fixtures.instant("2026-11-27T06:00:00Z").addingTimeInterval(TimeInterval(rng.int(0...86_399)))
            if rng.chance(85) {
                var owed: Int64 = 0
                var merchandise: Int64 = 0
                for _ in 0..<rng.int(1...3) {
                    let quantity = rng.int(1...3), price = rng.int(1...50_000)
                    let discount = rng.chance(30) ? rng.int(0...(quantity * price / 5)) : 0
                    lines.append(item(quantity, price, discount: discount))
                    day.expect("4000", -quantity * price)
                    day.expect("4100", discount)
                    owed += quantity * price - discount
                    merchandise += quantity * price - discount
                }
                if rng.chance(20) {
                    let value = -rng.int(0...min(500, merchandise))
                    lines.append(coupon(value))
                    day.expect("4100", -value)
                    owed += value
                }
                let taxCents = rng.chance(15) ? 0 : rng.int(0...4_000)
                lines.append(tax(taxCents))
                day.expect("2200", -taxCents)
                owed += taxCents
                if rng.chance(10) {
                    let sold = rng.int(1_000...10_000)
                    lines.append(giftCardSold(sold))
                    day.expect("2300", -sold)
                    owed += sold
                }
                // Split what is owed over up to three tenders.
                var remaining = owed
                for tenderIndex in 0..<rng.int(1...3) where remaining > 0 {
                    let isLast = tenderIndex == 2 || rng.chance(50)
                    let part = isLast ? remaining : rng.int(1...remaining)
                    remaining -= part
                    switch rng.int(0...2) {
                    case 0:
                        tenders.append(cash(part)); day.expect("1100", part)
                    case 1:
                        tenders.append(giftCard(part)); day.expect("2300", part)
                    default:
                        let brand = brands[Int(rng.int(0...Int64(brands.count - 1)))]
                        let tip = rng.chance(30) ? rng.int(1...2_000) : 0
                        tenders.append(card(brand.spelling, part + tip, tip: tip))
                        day.expect(brand.account, part + tip)
                        day.expect("2210", -tip)
                        day.batchBrands[brand.spelling, default: (0, 0, 0, 0)].sales += part + tip
                        day.batchBrands[brand.spelling, default: (0, 0, 0, 0)].tips += tip
                    }
                }
                if remaining > 0 { tenders.append(cash(remaining)); day.expect("1100", remaining) }
            } else {
                let quantity = rng.int(1...2), price = rng.int(1...20_000)
                let discount = rng.chance(30) ? rng.int(0...(quantity * price / 5)) : 0
                let taxCents = rng.int(0...1_500)
                lines = [item(-quantity, price, discount: -discount), tax(-taxCents)]
                day.expect("4200", quantity * price)
                day.expect("4100", -discount)
                day.expect("2200", taxCents)
                let refund = quantity * price - discount + taxCents
                if rng.chance(50) {
                    tenders = [cash(-refund)]; day.expect("1100", -refund)
                } else {
                    let brand = brands[Int(rng.int(0...Int64(brands.count - 1)))]
                    tenders = [card(brand.spelling, -refund)]
                    day.expect(brand.account, -refund)
                    day.batchBrands[brand.spelling, default: (0, 0, 0, 0)].refunds += refund
                }
            }
            day.tickets.append(Ticket(id: TicketID("T\(index)"), number: "N\(index)", completedAt: time, lines: lines, tenders: tenders))
        }
        for spelling in day.batchBrands.keys {
            let fee = rng.int(0...500)
            day.batchBrands[spelling]!.fees = fee
            let account = brands.first { $0.spelling == spelling }!.account
            day.expect("6100", fee)
            day.expect(account, -fee)
        }
        return day
    }

    @Test(arguments: 0..<300)
    func everyJournalBalancesAndFollowsTheRules(seed: UInt64) throws {
        let day = Self.randomDay(seed: seed)
        let batch = day.batchBrands.isEmpty ? nil : Fixtures.batch(
            day.batchBrands.keys.sorted().map { ($0, day.batchBrands[$0]!.sales, day.batchBrands[$0]!.refunds,
                                                   day.batchBrands[$0]!.tips, day.batchBrands[$0]!.fees) })
        let builder = SettlementJournalBuilder(rules: Fixtures.rules)
        let entry = try builder.build(Fixtures.storeDay(day.tickets, batch: batch))
        #expect(entry.totalDebits == entry.totalCredits)
        #expect(entry.lines.allSatisfy { $0.amount.minorUnits > 0 })
        #expect(entry.netByAccount.filter { $0.value != 0 } == day.expected.filter { $0.value != 0 })
        // The same day in another ticket order is the same entry (a replay posts identical lines).
        #expect(try builder.build(Fixtures.storeDay(day.tickets.reversed(), batch: batch)) == entry)
    }
}
