import BridgeClock
import Foundation
import HeartlandSimulator
import SimulatorKit
import Testing

/// The generated store day: deterministic, realistic, and internally consistent.
@Suite struct StoreDayGeneratorTests {
    static let options = StoreDayGenerator.Options(stores: 4, day: "2026-11-27", seed: 42, ticketsPerStore: 250)

    @Test func sameSeedSameDataOtherSeedOtherData() throws {
        let first = try StoreDayGenerator.generate(Self.options)
        let second = try StoreDayGenerator.generate(Self.options)
        #expect(try first.encoded() == second.encoded())
        var other = Self.options
        other.seed = 43
        #expect(try StoreDayGenerator.generate(other).encoded() != first.encoded())
        #expect(try StoreDayFixture.decode(first.encoded()) == first)
    }

    @Test func dayHasTheRealisticMix() throws {
        let day = try StoreDayGenerator.generate(Self.options)
        let today = day.tickets.filter { $0.businessDay == "2026-11-27" }
        #expect(today.contains { $0.payments.count > 1 }, "split tenders")
        #expect(today.contains { $0.tipCents > 0 }, "tips on cards")
        #expect(today.contains { $0.discountCents > 0 }, "discounts")
        #expect(today.contains { $0.lines.contains { $0.type == TicketLine.discount } }, "ticket discounts")
        #expect(today.contains { $0.itemLines.contains { !$0.taxable } }, "zero-tax items")
        #expect(today.contains { $0.giftCardSoldCents > 0 }, "gift card sales")
        #expect(today.contains { $0.payments.contains { $0.paymentType == TicketPayment.giftCard } }, "gift card redemptions")
        #expect(today.contains { $0.status == "void" }, "voids")
        #expect(Set(day.locations.map(\.timeZone)).count == 4)
        let utcMidnight = Timestamps.parse("2026-11-28T00:00:00Z")!
        #expect(today.contains { $0.completedAt >= utcMidnight }, "sales after UTC midnight")
        // Returns link to earlier sales, some of them on the previous day.
        let returns = today.filter { $0.returnOfTicketId != nil }
        #expect(!returns.isEmpty)
        let byId = Dictionary(uniqueKeysWithValues: day.tickets.map { ($0.id, $0) })
        #expect(returns.contains { byId[$0.returnOfTicketId!]?.businessDay == "2026-11-26" }, "cross-day refunds")
        let transactions = Dictionary(uniqueKeysWithValues: day.transactions.map { ($0.id, $0) })
        for ticket in returns {
            let original = try #require(byId[ticket.returnOfTicketId!])
            #expect(ticket.completedAt > original.completedAt)
            for payment in ticket.payments where payment.paymentType == TicketPayment.card {
                let refund = try #require(transactions[payment.gatewayTransactionId!])
                #expect(refund.type == "REFUND")
                #expect(refund.parentResourceId == original.payments[0].gatewayTransactionId)
            }
        }
    }

    @Test func ticketsBalanceAndCardTendersTieToTransactions() throws {
        let day = try StoreDayGenerator.generate(Self.options)
        let transactions = Dictionary(uniqueKeysWithValues: day.transactions.map { ($0.id, $0) })
        for ticket in day.tickets {
            #expect(ticket.paidCents == ticket.totalCents + ticket.tipCents, "ticket \(ticket.publicId) is paid in full")
            for payment in ticket.payments where payment.paymentType == TicketPayment.card {
                let transaction = try #require(transactions[payment.gatewayTransactionId ?? ""])
                #expect(abs(payment.amountCents) == transaction.amountCents)
                #expect(payment.tipCents == transaction.gratuityCents)
                #expect(transaction.status == (ticket.status == "void" ? "REVERSED" : (ticket.businessDay == "2026-11-27" ? "CAPTURED" : "BATCHED")))
            }
        }
        for batch in day.batches where batch.status == "OPEN" {
            let net = day.transactions.filter { $0.batchId == batch.id && $0.status != "REVERSED" }
                .reduce(Int64(0)) { $0 + ($1.type == "REFUND" ? -$1.amountCents : $1.amountCents) }
            let tickets = day.tickets.filter { $0.locationId == batch.locationId && $0.businessDay == batch.businessDay && $0.status == "complete" }
            let cardTenders = tickets.flatMap(\.payments).filter { $0.paymentType == TicketPayment.card }.reduce(Int64(0)) { $0 + $1.amountCents }
            #expect(net == cardTenders, "batch \(batch.id)")
        }
    }
}
