import Accounting
import FraudScoring
import Foundation
import HeartlandSimulator
import struct HeartlandSimulator.CardTransaction
import struct HeartlandSimulator.Ticket
import struct HeartlandSimulator.TicketPayment
import StableHash

/// Legitimate traffic for training and evaluation: consecutive store days from the simulator's
/// generator, turned into scored events the way the pipeline sees Heartland data (card transactions
/// with their tickets' clerks, cash tenders, voids, linked refunds). One addition to the simulator's
/// days: 2 % of card sales follow a declined attempt with another card, because real stores decline.
enum SimulatorTraffic {
    struct Options {
        var seed: UInt64
        var days: Int
        var stores: Int
        var ticketsPerStore: Int
        var firstDay = "2026-03-02"
    }

    static func legitimate(_ options: Options) throws -> [ScoredEvent] {
        var events: [ScoredEvent] = []
        for offset in 0..<options.days {
            let day = Self.day(options.firstDay, plus: offset)
            let fixture = try StoreDayGenerator.generate(.init(
                stores: options.stores, day: day, seed: options.seed, ticketsPerStore: options.ticketsPerStore))
            events += Self.events(fixture, day: day, seed: options.seed)
        }
        return events
    }

    static func day(_ first: String, plus days: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = first.split(separator: "-").compactMap { Int($0) }
        let start = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12))!
        let c = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: days, to: start)!)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    static func events(_ fixture: StoreDayFixture, day: String, seed: UInt64) -> [ScoredEvent] {
        let locations = Dictionary(uniqueKeysWithValues: fixture.locations.map { ($0.id, $0) })
        let transactions = Dictionary(fixture.transactions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let tickets = Dictionary(fixture.tickets.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var events: [ScoredEvent] = []
        for ticket in fixture.tickets where ticket.businessDay == day {
            guard let location = locations[ticket.locationId] else { continue }
            func event(_ id: String, _ kind: ScoredEvent.Kind, _ payment: TicketPayment, at: Date,
                       original: ScoredEvent.OriginalSale? = nil) -> ScoredEvent {
                let transaction = payment.gatewayTransactionId.flatMap { transactions[$0] }
                return ScoredEvent(
                    id: id, kind: kind, store: StoreID(location.publicId), terminal: location.deviceId, clerk: ticket.salesRep,
                    tender: tender(payment), cardToken: transaction.map { CardToken(brand: $0.brand, first6: $0.first6, last4: $0.last4) },
                    entryMode: transaction.map { ScoredEvent.EntryMode(heartland: $0.entryMode) } ?? .none,
                    amountCents: abs(payment.amountCents), occurredAt: at, timeZone: location.timeZone, originalSale: original)
            }
            if let originalId = ticket.returnOfTicketId {
                let original = tickets[originalId].map { originalSale($0, transactions: transactions) }
                for payment in ticket.payments {
                    events.append(event(payment.gatewayTransactionId ?? "ticket:\(ticket.id):refund:\(payment.id)", .refund, payment,
                                        at: ticket.completedAt, original: original))
                }
                continue
            }
            for payment in ticket.payments {
                let sale = event(payment.gatewayTransactionId ?? "ticket:\(ticket.id):\(payment.id)", .sale, payment, at: ticket.completedAt)
                var rng = SeededRandom(seed, ticket.id, payment.id, "decline")
                if sale.tender == .card, rng.chance(0.02) {
                    var declined = sale
                    declined.id = "\(sale.id):declined"
                    declined.kind = .decline
                    declined.cardToken = CardToken(brand: "VISA", first6: "424242", last4: rng.digits(4))
                    declined.occurredAt = sale.occurredAt.addingTimeInterval(-Double(rng.int(20...90)))
                    events.append(declined)
                }
                events.append(sale)
            }
            if ticket.status == "void", let first = ticket.payments.first {
                var void = event("ticket:\(ticket.id):void", .void, first, at: ticket.updatedAt)
                void.amountCents = ticket.paidCents
                events.append(void)
            }
        }
        return events
    }

    static func tender(_ payment: TicketPayment) -> ScoredEvent.Tender {
        switch payment.paymentType {
        case TicketPayment.card: return .card
        case TicketPayment.giftCard: return .giftCard
        default: return .cash
        }
    }

    /// The link a refund carries to its sale: the sale's card transaction when it had one.
    static func originalSale(_ ticket: Ticket, transactions: [String: CardTransaction]) -> ScoredEvent.OriginalSale {
        var mix = TenderMix()
        for payment in ticket.payments {
            switch tender(payment) {
            case .card: mix.cardCents += payment.amountCents
            case .cash: mix.cashCents += payment.amountCents
            case .giftCard: mix.giftCardCents += payment.amountCents
            }
        }
        let card = ticket.payments.first { $0.paymentType == TicketPayment.card }
        return ScoredEvent.OriginalSale(
            id: card?.gatewayTransactionId ?? "ticket:\(ticket.id)", amountCents: ticket.paidCents,
            cardToken: card?.gatewayTransactionId.flatMap { transactions[$0] }.map {
                CardToken(brand: $0.brand, first6: $0.first6, last4: $0.last4)
            }, tenderMix: mix)
    }
}
