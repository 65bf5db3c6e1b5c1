import Accounting
import Foundation
import StableHash

/// Injects labelled fraud into legitimate traffic, one store day at a time, so the scorer can be
/// measured: every injected fraud event carries its pattern and incident. Deterministic per seed.
public struct FraudInjector: Sendable {
    public var patterns: [FraudPattern]
    /// Incidents of each pattern per store day (0.5: one every other day, on average).
    public var incidentsPerStoreDay: Double
    public var seed: UInt64

    public init(patterns: [FraudPattern] = FraudPattern.allCases, incidentsPerStoreDay: Double = 0.5, seed: UInt64) {
        self.patterns = patterns
        self.incidentsPerStoreDay = incidentsPerStoreDay
        self.seed = seed
    }

    /// The legitimate events plus the injected ones, labelled.
    public func inject(into legitimate: [ScoredEvent]) -> [LabelledEvent] {
        var output = legitimate.map { LabelledEvent(event: $0) }
        for batch in HistoryFile.batches(output) {
            guard let day = StoreDay(batch.map(\.event)) else { continue }
            for pattern in patterns {
                var rng = SeededRandom(seed, day.store, day.day, pattern.rawValue)
                var count = Int(incidentsPerStoreDay)
                if rng.chance(incidentsPerStoreDay - Double(count)) { count += 1 }
                for number in 0..<count {
                    let incident = "\(pattern.rawValue):\(day.store):\(day.day):\(number)"
                    output += day.incident(pattern, id: incident, rng: &rng)
                }
            }
        }
        return output
    }
}

/// What an incident needs to know about the store day it is injected into.
private struct StoreDay {
    let store: StoreID
    let day: String
    let terminal: String
    let timeZone: String
    let clerks: [String]
    let cardSales: [ScoredEvent]
    let calendar: Calendar
    let year: Int, month: Int, dayOfMonth: Int

    init?(_ events: [ScoredEvent]) {
        guard let first = events.first else { return nil }
        store = first.store
        timeZone = first.timeZone
        day = first.localTime.day
        var terminals: [String: Int] = [:]
        for event in events { terminals[event.terminal, default: 0] += 1 }
        terminal = terminals.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? first.terminal
        clerks = Array(Set(events.compactMap(\.clerk))).sorted()
        cardSales = events.filter { $0.kind == .sale && $0.tender == .card && $0.cardToken != nil && $0.amountCents >= 500 }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = first.zone
        self.calendar = calendar
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, !clerks.isEmpty else { return nil }
        (year, month, dayOfMonth) = (parts[0], parts[1], parts[2])
    }

    func at(second: Int) -> Date {
        calendar.date(from: DateComponents(year: year, month: month, day: dayOfMonth, hour: second / 3600,
                                           minute: (second / 60) % 60, second: second % 60))!
    }

    func randomCard(_ rng: inout SeededRandom, bin: String? = nil) -> CardToken {
        let (brand, first6) = bin.map { ("VISA", $0) } ?? rng.pick([("VISA", "424242"), ("MASTERCARD", "545454"), ("DISCOVER", "601100")])
        return CardToken(brand: brand, first6: first6, last4: rng.digits(4))
    }

    func event(_ id: String, _ kind: ScoredEvent.Kind, second: Int, amount: Int64, clerk: String?, tender: ScoredEvent.Tender = .card,
               card: CardToken?, entry: ScoredEvent.EntryMode, original: ScoredEvent.OriginalSale? = nil) -> ScoredEvent {
        ScoredEvent(id: id, kind: kind, store: store, terminal: terminal, clerk: clerk, tender: tender, cardToken: card,
                    entryMode: entry, amountCents: amount, occurredAt: at(second: second), timeZone: timeZone, originalSale: original)
    }

    /// The original-sale link of a legitimate card sale, as a refund of it would carry.
    func original(of sale: ScoredEvent) -> ScoredEvent.OriginalSale {
        ScoredEvent.OriginalSale(id: sale.id, amountCents: sale.amountCents, cardToken: sale.cardToken,
                                 tenderMix: TenderMix(cardCents: sale.amountCents))
    }

    func second(of date: Date) -> Int {
        let c = calendar.dateComponents([.hour, .minute, .second], from: date)
        return (c.hour ?? 0) * 3600 + (c.minute ?? 0) * 60 + (c.second ?? 0)
    }

    func incident(_ pattern: FraudPattern, id incident: String, rng: inout SeededRandom) -> [LabelledEvent] {
        let clerk = rng.pick(clerks)
        func fraud(_ event: ScoredEvent) -> LabelledEvent { LabelledEvent(event: event, fraud: pattern, incident: incident) }
        switch pattern {
        case .cardTesting:
            // Probes of a few cents, keyed or swiped, most declined: one card retried, or a BIN enumerated.
            let start = rng.int(8 * 3600...22 * 3600)
            let oneCard = rng.chance(0.4)
            let card = randomCard(&rng, bin: "411111")
            var second = start
            return (0..<rng.int(6...20)).map { n in
                second += rng.int(4...45)
                let declined = rng.chance(0.7)
                let anyCents = rng.int(1...199)
                let cents = rng.pick([1, 5, 10, 50, 100, 101, 150, 199, anyCents])
                return fraud(event("\(incident):\(n)", declined ? .decline : .sale, second: second,
                                   amount: Int64(cents), clerk: clerk,
                                   card: oneCard ? card : randomCard(&rng, bin: "411111"),
                                   entry: rng.chance(0.75) ? .keyed : .swipe))
            }
        case .unlinkedRefund:
            return [fraud(event("\(incident):0", .refund, second: rng.int(9 * 3600...21 * 3600),
                                amount: Int64(rng.int(2_000...60_000)), clerk: clerk, card: randomCard(&rng),
                                entry: rng.chance(0.5) ? .keyed : .chip))]
        case .overRefund:
            guard let sale = rng.pickIfAny(cardSales) else { return [] }
            let start = second(of: sale.occurredAt) + rng.int(300...3_600)
            guard start < 85_000 else { return [] }
            if rng.chance(0.5) {
                let amount = sale.amountCents * Int64(rng.int(130...250)) / 100
                return [fraud(event("\(incident):0", .refund, second: start, amount: amount, clerk: clerk,
                                    card: sale.cardToken, entry: sale.entryMode, original: original(of: sale)))]
            }
            // Two refunds each within the sale, together over it: the second is the fraud.
            let first = sale.amountCents * Int64(rng.int(55...90)) / 100
            let second = sale.amountCents * Int64(rng.int(55...90)) / 100
            return [
                LabelledEvent(event: event("\(incident):0", .refund, second: start, amount: first, clerk: clerk,
                                           card: sale.cardToken, entry: sale.entryMode, original: original(of: sale)),
                              incident: incident),
                fraud(event("\(incident):1", .refund, second: start + rng.int(60...1_200), amount: second, clerk: clerk,
                            card: sale.cardToken, entry: sale.entryMode, original: original(of: sale))),
            ]
        case .refundToDifferentCard:
            guard let sale = rng.pickIfAny(cardSales) else { return [] }
            let start = second(of: sale.occurredAt) + rng.int(300...3_600)
            guard start < 85_000 else { return [] }
            return [fraud(event("\(incident):0", .refund, second: start, amount: sale.amountCents * Int64(rng.int(50...100)) / 100,
                                clerk: clerk, card: randomCard(&rng), entry: rng.chance(0.5) ? .keyed : .swipe,
                                original: original(of: sale)))]
        case .splitTenderMismatch:
            // A sale paid part cash, part card, refunded in full to the card.
            guard let sale = rng.pickIfAny(cardSales) else { return [] }
            let start = second(of: sale.occurredAt) + rng.int(300...3_600)
            guard start < 85_000 else { return [] }
            let cash = sale.amountCents * Int64(rng.int(40...80)) / 100
            let link = ScoredEvent.OriginalSale(id: sale.id, amountCents: sale.amountCents + cash, cardToken: sale.cardToken,
                                                tenderMix: TenderMix(cardCents: sale.amountCents, cashCents: cash))
            return [fraud(event("\(incident):0", .refund, second: start, amount: sale.amountCents + cash, clerk: clerk,
                                card: sale.cardToken, entry: sale.entryMode, original: link))]
        case .keyedSpike:
            // A run of keyed-in, higher-value sales on one terminal: numbers from a list, not cards.
            var second = rng.int(9 * 3600...21 * 3600)
            return (0..<rng.int(4...9)).map { n in
                second += rng.int(120...600)
                return fraud(event("\(incident):\(n)", .sale, second: second, amount: Int64(rng.int(4_000...45_000)),
                                   clerk: clerk, card: randomCard(&rng), entry: .keyed))
            }
        case .outOfHours:
            var second = rng.int(3600 / 2...5 * 3600)
            return (0..<rng.int(1...3)).map { n in
                second += rng.int(60...900)
                let refund = rng.chance(0.3)
                return fraud(event("\(incident):\(n)", refund ? .refund : .sale, second: second,
                                   amount: Int64(rng.int(1_500...25_000)), clerk: clerk, card: randomCard(&rng),
                                   entry: rng.pick([.chip, .contactless, .swipe])))
            }
        case .voidAbuse:
            // Cash sales rung up and voided after the customer paid, the cash kept: one clerk, one shift.
            var second = rng.int(9 * 3600...17 * 3600)
            var events: [LabelledEvent] = []
            for n in 0..<rng.int(4...8) {
                second += rng.int(300...2_400)
                let amount = Int64(rng.int(800...9_000))
                events.append(LabelledEvent(event: event("\(incident):sale:\(n)", .sale, second: second, amount: amount,
                                                         clerk: clerk, tender: .cash, card: nil, entry: .none),
                                            incident: incident))
                events.append(fraud(event("\(incident):void:\(n)", .void, second: second + rng.int(30...300), amount: amount,
                                          clerk: clerk, tender: .cash, card: nil, entry: .none)))
            }
            return events
        }
    }
}
