import Foundation
import HeartlandConnector
import Testing

/// Paging over a generated store day: every record exactly once, and batch totals that add up.
@Suite struct PagingTests {
    @Test func everyTransactionExactlyOnceAcrossSmallPages() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 2, tickets: 60)
        let client = harness.client(pageSize: 7)
        let transactions = try await client.transactions(TransactionQuery()).collect()
        let expected = try await harness.count("SELECT COUNT(*) FROM card_transaction")
        #expect(expected > 20)
        #expect(transactions.count == expected)
        #expect(Set(transactions.map(\.id)).count == expected)
        for transaction in transactions {
            #expect(transaction.card.map(CardDataGuard.isPermitted) == true)
            #expect(transaction.card?.first6?.count == 6)
            #expect(transaction.card?.last4?.count == 4)
        }
        let refunds = try await client.transactions(TransactionQuery(type: .refund)).collect()
        #expect(refunds.count == (try await harness.count("SELECT COUNT(*) FROM card_transaction WHERE type = 'REFUND'")))
        #expect(refunds.allSatisfy { $0.type == .refund && $0.parentResourceId != nil })
    }

    @Test func everyTicketOfALocationDayExactlyOnce() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 2, tickets: 60)
        let client = harness.client(retailPageSize: 9)
        for location in [Int64(1), 2] {
            let tickets = try await client.tickets(locationId: location, fromBusinessDay: "2026-11-27", throughBusinessDay: "2026-11-27")
            let expected = try await harness.count(
                "SELECT COUNT(*) FROM ticket WHERE locationId = ? AND businessDay = '2026-11-27'", [location])
            #expect(expected >= 60)
            #expect(tickets.count == expected)
            #expect(Set(tickets.map(\.id)).count == expected)
            for ticket in tickets {
                #expect(ticket.locationId == location)
                #expect(ticket.totalCents == ticket.subtotalCents - ticket.totalDiscountsCents + ticket.taxTotalCents + ticket.giftCardTotalCents)
                #expect(ticket.totalPaidCents == ticket.totalCents + ticket.tipTotalCents)
                #expect(ticket.payments.reduce(0) { $0 + $1.amountCents } == ticket.totalPaidCents)
                #expect(ticket.lines.allSatisfy { $0.type.isKnown })
                #expect(ticket.payments.allSatisfy { $0.paymentType.isKnown })
            }
        }
        // The day before (re-derived for returns) is outside the range.
        let both = try await client.tickets(TicketQuery(fromBusinessDay: "2026-11-26", throughBusinessDay: "2026-11-27")).collect()
        #expect(both.count == (try await harness.count("SELECT COUNT(*) FROM ticket")))
    }

    @Test func batchTotalsEqualTheSumOfTheirTransactions() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 2, tickets: 60)
        let client = harness.client(pageSize: 11)
        let batches = try await client.batches(BatchQuery()).collect()
        #expect(batches.count == (try await harness.count("SELECT COUNT(*) FROM settlement_batch")))
        #expect(!batches.isEmpty)
        for summary in batches {
            let detail = try await client.batchDetail(id: summary.id)
            #expect(detail.batch == summary)
            let live = detail.transactions.filter { $0.status != .reversed }
            let sales = live.filter { $0.type == .sale }, refunds = live.filter { $0.type == .refund }
            let totals = detail.batch.totals
            #expect(totals.salesCents == sales.reduce(0) { $0 + $1.amountCents })
            #expect(totals.refundsCents == refunds.reduce(0) { $0 + $1.amountCents })
            #expect(totals.netCents == totals.salesCents - totals.refundsCents)
            #expect(totals.gratuityCents == sales.reduce(0) { $0 + $1.gratuityCents })
            #expect(detail.batch.transactionCount == Int64(live.count))
            #expect(detail.batch.brandBreakdown.reduce(0) { $0 + $1.totals.netCents } == totals.netCents)
            #expect(detail.batch.brandBreakdown.reduce(0) { $0 + $1.totals.feeCents } == totals.feeCents)
            #expect(detail.transactions.allSatisfy { $0.batchId == summary.id })
        }
        let open = try await client.batches(BatchQuery(status: .open)).collect()
        #expect(open.allSatisfy { $0.status == .open })
    }

    @Test func payRunsListAndRead() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 5)
        let client = harness.client()
        let runs = try await client.payRuns(status: nil)
        #expect(!runs.isEmpty)
        let run = try await client.payRun(id: runs[0].id)
        #expect(run == runs[0])
        #expect(run.totals.grossCents == run.paychecks.reduce(0) { $0 + $1.grossCents })
        #expect(run.totals.netCents == run.paychecks.reduce(0) { $0 + $1.netCents })
        #expect(run.paychecks.allSatisfy { $0.earnings.reduce(0) { $0 + $1.amountCents } == $0.grossCents })
        #expect(try await client.payRuns(status: .posted).isEmpty)
        let missing = await heartlandError { _ = try await client.payRun(id: "PR_NOPE") }
        guard case .notFound = missing else {
            Issue.record("expected .notFound, got \(String(describing: missing))")
            return
        }
    }

    @Test func catalogAndInventoryPages() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 5)
        let client = harness.client(retailPageSize: 3)
        let items = try await client.items(updatedSince: nil).collect()
        #expect(items.count == (try await harness.count("SELECT COUNT(*) FROM item")))
        let customers = try await client.customers(updatedSince: nil).collect()
        #expect(customers.count == (try await harness.count("SELECT COUNT(*) FROM customer")))
        let stock = try await client.inventory(locationId: 1).collect()
        #expect(!stock.isEmpty && stock.allSatisfy { $0.locationId == 1 })
    }
}
