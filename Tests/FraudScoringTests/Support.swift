import Accounting
import Foundation
@testable import FraudScoring
import StableHash

/// Hand-built events and small legitimate traffic for the tests.
enum Traffic {
    static let newYork = "America/New_York"
    static let losAngeles = "America/Los_Angeles"

    /// An instant from local wall-clock time in a zone.
    static func local(_ day: String, _ hour: Int, _ minute: Int = 0, second: Int = 0, zone: String = newYork) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let p = day.split(separator: "-").map { Int($0)! }
        return calendar.date(from: DateComponents(year: p[0], month: p[1], day: p[2], hour: hour, minute: minute, second: second))!
    }

    static func event(
        _ id: String, _ kind: ScoredEvent.Kind = .sale, at: Date, amount: Int64 = 2_500, store: String = "S01",
        terminal: String = "DEV0001", clerk: String? = "Ava", tender: ScoredEvent.Tender = .card,
        card: String? = "VISA:424242******1111", entry: ScoredEvent.EntryMode = .chip, zone: String = newYork,
        original: ScoredEvent.OriginalSale? = nil
    ) -> ScoredEvent {
        ScoredEvent(id: id, kind: kind, store: StoreID(store), terminal: terminal, clerk: clerk, tender: tender,
                    cardToken: card.map(CardToken.init), entryMode: entry, amountCents: amount, occurredAt: at, timeZone: zone,
                    originalSale: original)
    }

    /// Ordinary days: sales 08:00–22:00 (card mostly by chip or tap, a few keyed; some cash), refunds
    /// of earlier card sales to the same card, a void now and then.
    static func legitimate(seed: UInt64, days: Int = 6, stores: Int = 2, salesPerDay: Int = 150) -> [ScoredEvent] {
        var rng = SeededRandom(seed: seed)
        let clerks = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas"]
        var events: [ScoredEvent] = []
        for day in 0..<days {
            let date = String(format: "2026-03-%02d", day + 2)
            for store in 1...stores {
                let storeId = String(format: "S%02d", store)
                var sales: [ScoredEvent] = []
                for n in 0..<salesPerDay {
                    let second = rng.int(8 * 3600...22 * 3600)
                    let cash = rng.chance(0.3)
                    let entry: ScoredEvent.EntryMode = cash ? .none : rng.pick([.chip, .chip, .contactless, .swipe])
                    let sale = event(
                        "\(storeId)-\(date)-\(n)", at: local(date, second / 3600, (second / 60) % 60, second: second % 60),
                        amount: Int64(rng.int(300...15_000)), store: storeId, terminal: "DEV\(store)", clerk: rng.pick(clerks),
                        tender: cash ? .cash : .card, card: cash ? nil : "VISA:424242******\(rng.digits(4))",
                        entry: rng.chance(0.04) && !cash ? .keyed : entry)
                    sales.append(sale)
                    if rng.chance(0.015) {
                        var void = sale
                        void.id += ":void"
                        void.kind = .void
                        void.occurredAt += 60
                        events.append(void)
                    }
                }
                for n in 0..<(salesPerDay / 25) {
                    let sale = rng.pick(sales.filter { $0.tender == .card && $0.occurredAt < local(date, 20) })
                    var refund = sale
                    refund.id = "\(storeId)-\(date)-refund-\(n)"
                    refund.kind = .refund
                    refund.amountCents = sale.amountCents * Int64(rng.int(30...100)) / 100
                    refund.occurredAt += Double(rng.int(600...3_600))
                    refund.originalSale = .init(id: sale.id, amountCents: sale.amountCents, cardToken: sale.cardToken,
                                                tenderMix: TenderMix(cardCents: sale.amountCents))
                    if !events.contains(where: { $0.originalSale?.id == sale.id }) { events.append(refund) }
                }
                events += sales
            }
        }
        return events
    }
}
