import BridgeClock
import Foundation
import HeartlandSimulator
import SimulatorKit
import Testing

/// The messy generated day: several batches closing at seeded times, the previous day's batch closing
/// after midnight, late tickets, gateway-only refunds, bad documents with their corrections, and batches
/// that still reconcile.
@Suite struct MessyDayGeneratorTests {
    static let day = "2026-11-27"
    static let options = StoreDayGenerator.Options(stores: 3, day: day, seed: 42, ticketsPerStore: 300, batchesPerDay: 3, badPercent: 2)

    @Test func sameSeedSameMessyDay() throws {
        let small = StoreDayGenerator.Options(stores: 2, day: Self.day, seed: 7, ticketsPerStore: 80, batchesPerDay: 2, badPercent: 3)
        let first = try StoreDayGenerator.generate(small)
        #expect(try first.encoded() == StoreDayGenerator.generate(small).encoded())
        var other = small
        other.seed = 8
        #expect(try StoreDayGenerator.generate(other).encoded() != first.encoded())
        #expect(try StoreDayFixture.decode(first.encoded()) == first)
        let plain = try String(decoding: StoreDayGenerator.generate(.init(stores: 2, day: Self.day, seed: 7, ticketsPerStore: 80)).encoded(), as: UTF8.self)
        for key in ["raw_", "bad_documents", "\"notes\"", "\"fees\""] { #expect(!plain.contains(key), "the plain day has no \(key)") }
        #expect(throws: StoreDayGenerator.GeneratorError.self) { try StoreDayGenerator.generate(.init(stores: 1, day: Self.day, seed: 1, batchesPerDay: 5)) }
        #expect(throws: StoreDayGenerator.GeneratorError.self) { try StoreDayGenerator.generate(.init(stores: 1, day: Self.day, seed: 1, badPercent: 6)) }
    }

    @Test(arguments: 1...4) func batchesCloseDuringTheDayAndThePreviousOneAfterMidnight(batchesPerDay: Int) throws {
        let fixture = try StoreDayGenerator.generate(
            .init(stores: 2, day: Self.day, seed: 11, ticketsPerStore: 150, batchesPerDay: batchesPerDay, badPercent: 1))
        for location in fixture.locations {
            let batches = fixture.batches.filter { $0.locationId == location.id }
            let today = batches.filter { $0.businessDay == Self.day }
            #expect(today.count == batchesPerDay)
            #expect(today.allSatisfy { $0.status == "CLOSED" && $0.timeClosed.map { Timestamps.day($0, in: location.zone) } == Self.day })
            let closes = today.compactMap(\.timeClosed)
            #expect(closes == closes.sorted() && Set(closes).count == closes.count)

            let midnight = try #require(batches.first { $0.businessDay == "2026-11-26" })
            let closed = try #require(midnight.timeClosed)
            #expect(Timestamps.day(closed, in: location.zone) == Self.day, "closed after local midnight")
            #expect(Timestamps.iso8601(closed, in: location.zone).contains("T00:"))
            #expect(fixture.transactions.contains { $0.batchId == midnight.id }, "it settles the previous day's sales")

            let open = try #require(batches.first { $0.businessDay == "2026-11-28" })
            #expect(open.status == "OPEN" && open.timeClosed == nil)
            let lastClose = closes.max()!
            let late = fixture.tickets.filter { $0.locationId == location.id && $0.businessDay == Self.day && $0.completedAt > lastClose }
            #expect(!late.isEmpty, "tickets completed after the day's last close")
            let transactions = Dictionary(uniqueKeysWithValues: fixture.transactions.map { ($0.id, $0) })
            for payment in late.flatMap(\.payments) where payment.paymentType == TicketPayment.card {
                #expect(transactions[payment.gatewayTransactionId!]?.batchId == open.id, "a late tender settles in the next day's batch")
            }
            for transaction in fixture.transactions where transaction.locationId == location.id {
                let batch = try #require(batches.first { $0.id == transaction.batchId })
                #expect(transaction.status != (batch.status == "OPEN" ? "BATCHED" : "CAPTURED"), "\(transaction.id) in \(batch.id)")
            }
        }
    }

    @Test func everyDefectIsThereWithItsCorrection() throws {
        let fixture = try StoreDayGenerator.generate(Self.options)
        let bad = fixture.badDocuments
        #expect(Set(bad.map(\.defect)) == Set(BadDocument.Defect.allCases))
        let todayTickets = fixture.tickets.filter { $0.businessDay == Self.day }.count + bad.filter { $0.kind == .ticket && $0.defect != .duplicateId }.count
        let badTickets = bad.filter { $0.kind == .ticket }.count
        #expect(badTickets * 100 >= todayTickets && badTickets * 100 <= 3 * todayTickets, "1-3 % of tickets")
        #expect(bad.contains { $0.kind == .transaction })
        let normalTickets = Set(fixture.tickets.map(\.id))
        for document in bad {
            let raws = (document.kind == .ticket ? fixture.rawTickets : fixture.rawTransactions).compactMap(\.json)
                .filter { $0["id"]?.stringValue == document.id }
            switch document.kind {
            case .ticket:
                let ticket = try #require(document.ticket)
                #expect(ticket.paidCents == ticket.totalCents + ticket.tipCents, "the valid version balances")
                #expect(ticket.payments.allSatisfy { $0.paymentType == TicketPayment.card || $0.tipCents == 0 })
                #expect(document.corrected["id"]?.int64Value == ticket.id)
                if document.defect == .duplicateId {
                    #expect(normalTickets.contains(ticket.id), "the original stays a normal ticket")
                    #expect(raws.count == 2 && raws[0] == document.corrected && raws[1] != document.corrected)
                } else {
                    #expect(!normalTickets.contains(ticket.id), "a bad ticket is only raw")
                    #expect(raws.count == 1 && raws[0] != document.corrected)
                }
            case .transaction:
                let transaction = try #require(document.transaction)
                #expect(fixture.transactions.contains(transaction), "Heartland's own record stays under the raw one")
                #expect(raws.count == 1 && raws[0] != document.corrected)
            case .batch:
                Issue.record("no bad batches are generated")
            }
        }
        let raw = { (document: BadDocument) in
            (document.kind == .ticket ? fixture.rawTickets : fixture.rawTransactions).compactMap(\.json).last { $0["id"]?.stringValue == document.id }!
        }
        for document in bad {
            let served = raw(document)
            switch document.defect {
            case .outOfBalance:
                let paid = served["total_paid"]!.decimalValue!, total = served["total"]!.decimalValue!, tips = served["tip_total"]!.decimalValue!
                #expect(paid - total - tips == Decimal(string: "-0.01")!)
            case .tipOnCash:
                #expect(served["payments"]?.arrayValue?.contains { $0["payment_type"] == "Cash" && $0["tip_amount"]!.decimalValue! > 0 } == true)
            case .malformedAmount:
                #expect(served["payments"]?.arrayValue?.contains { $0["amount"]?.stringValue?.hasSuffix("x") == true } == true)
            case .missingOffset:
                let stamp = (served["completed_at"] ?? served["time_created"])?.stringValue ?? ""
                #expect(stamp.count == 19 && !stamp.dropFirst(11).contains { "Z+-".contains($0) }, "\(stamp)")
            case .numberAmount:
                guard case .number = served["amount"] else { Issue.record("amount is not a number"); continue }
            case .foreignCurrency:
                #expect(served["currency"] == "CAD")
            case .duplicateId:
                #expect(served["public_id"] != document.corrected["public_id"])
            }
        }
        let gatewayRefunds = fixture.transactions.filter { $0.type == "REFUND" && $0.ticketId == nil }
        #expect(gatewayRefunds.count >= 3)
        let receiptNumbers = Set(fixture.tickets.map(\.publicId))
        #expect(gatewayRefunds.allSatisfy { $0.reference.isEmpty || !receiptNumbers.contains($0.reference) })
        #expect(gatewayRefunds.contains { $0.reference.isEmpty } && gatewayRefunds.contains { !$0.reference.isEmpty })
        #expect(fixture.transactions.contains { $0.status == "DECLINED" } && fixture.transactions.contains { $0.status == "PREAUTHORIZED" })
        #expect(fixture.tickets.contains { $0.notes != nil })
        #expect(Set(fixture.batches.map { $0.fees?.mode }).count > 1, "batches state their fees in several ways")
    }

    /// Per batch and brand, Heartland's totals are the card tenders of the valid tickets (the corrected
    /// version of a bad one) it settled, less the gateway-only refunds.
    @Test func everyBatchReconcilesWithTheValidTicketsAndGatewayRefunds() async throws {
        let fixture = try StoreDayGenerator.generate(Self.options)
        let tickets = fixture.tickets + fixture.badDocuments.filter { $0.kind == .ticket && $0.defect != .duplicateId }.compactMap(\.ticket)
        let transactions = Dictionary(uniqueKeysWithValues: fixture.transactions.map { ($0.id, $0) })
        var expected: [String: [String: Int64]] = [:]
        for ticket in tickets where ticket.status == "complete" {
            for payment in ticket.payments where payment.paymentType == TicketPayment.card {
                let transaction = try #require(transactions[payment.gatewayTransactionId ?? ""])
                expected[transaction.batchId, default: [:]][transaction.brand, default: 0] += payment.amountCents
            }
        }
        for refund in fixture.transactions where refund.type == "REFUND" && refund.ticketId == nil {
            expected[refund.batchId, default: [:]][refund.brand, default: 0] -= refund.amountCents
        }

        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.load(try fixture.encoded())
        let auth = try await sim.gpAuth()
        let batches = try await sim.call("GET", "/ucp/batches?page_size=100", headers: auth).json["batches"]?.arrayValue ?? []
        #expect(batches.count == fixture.batches.count)
        for batch in batches {
            let id = try #require(batch["id"]?.stringValue)
            var served: [String: Int64] = [:]
            for brand in batch["brand_breakdown"]?.arrayValue ?? [] {
                served[brand["brand"]?.stringValue ?? ""] = Money.cents(fromMinorUnits: brand["amount"])
            }
            #expect(served.filter { $0.value != 0 } == (expected[id] ?? [:]).filter { $0.value != 0 }, "batch \(id)")
        }

        // Each correction is exactly what the simulator serves for the valid record.
        for document in fixture.badDocuments {
            let path = document.kind == .ticket ? "/api/sales/tickets/\(document.id)" : "/ucp/transactions/\(document.id)"
            let headers = document.kind == .ticket ? sim.retail : auth
            if document.defect != .duplicateId { #expect(try await sim.call("GET", path, headers: headers).json != document.corrected) }
            let record = try document.ticket.map(HeartlandExportShapeTests.fixtureJSON) ?? HeartlandExportShapeTests.fixtureJSON(document.transaction!)
            #expect(try await sim.call("PUT", "/admin/records/\(document.kind.plural)/\(document.id)", body: record).status == 200)
            #expect(try await sim.call("GET", path, headers: headers).json == document.corrected, "\(document.defect) \(document.id)")
        }
    }
}
