import Accounting
import BookOracle
import Foundation
import HeartlandConnector
import HeartlandIngest
import HeartlandSimulator
import PipelineContracts
import Testing
@testable import Transformer

/// Generated store days, end to end up to the journal: heartland-sim serves the day, the batches are
/// closed, heartland-ingest's `HeartlandEventSource` builds each batch's event from what Heartland holds,
/// and the transformer turns it into a journal. Per batch, the journal's net per GL account must be
/// exactly what `ExpectedBooks` (an oracle of ACCOUNTING.md written apart from the product) computes
/// from the generator's own records.
@Suite struct GeneratedDayBooksTests {
    struct Day: Sendable, CustomTestStringConvertible {
        var day: String
        var seed: UInt64
        var stores: Int
        var tickets: Int
        var note = ""
        var testDescription: String { "\(day) seed \(seed), \(stores) stores × \(tickets) tickets\(note.isEmpty ? "" : " (\(note))")" }
    }

    static let days: [Day] = [UInt64(3), 17, 101, 2_024, 7_919, 31_337, 65_537, 999_983].enumerated().map { index, seed in
        Day(day: index.isMultiple(of: 2) ? "2026-11-27" : "2026-06-12", seed: seed, stores: 3, tickets: 200 + 25 * index)
    } + [
        // Clocks go back at 02:00: the day is 25 hours long, and the Los Angeles store (store 4) sells until 23:30
        // local, 07:30 UTC the next day.
        Day(day: "2026-11-01", seed: 4_242, stores: 4, tickets: 300, note: "DST ends, Los Angeles store"),
        // Yesterday's batch (returns of yesterday's sales) falls in the previous year.
        Day(day: "2027-01-01", seed: 12, stores: 4, tickets: 250, note: "New Year, Los Angeles store"),
    ]

    static let mappingPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/mapping.yaml").path

    /// Every batch of the fixture is checked: the day's own (open until the test closes it) and, when the generator
    /// made one, the previous day's already-closed batch that holds the card sales refunded today. That batch's
    /// business day in the fixture holds exactly those sales (the tickets Heartland serves for it are the ones the
    /// oracle reads), so the same rule applies to it and it is not skipped.
    @Test(arguments: days)
    func journalOfEveryBatchMatchesTheOracle(_ day: Day) async throws {
        let fixture = try StoreDayGenerator.generate(.init(stores: day.stores, day: day.day, seed: day.seed, ticketsPerStore: day.tickets))
        let rules = try MappingRules.load(path: Self.mappingPath)
        let simulator = try await StoreDaySimulator.start(fixture: fixture, now: StoreDaySimulator.after(day.day))
        do {
            try await simulator.closeOpenBatches()
            let client = simulator.client()
            // The ingest inbox claims each document for the first batch that takes it, as in production.
            let inboxPath = FileManager.default.temporaryDirectory.appendingPathComponent("books-\(UUID().uuidString).sqlite").path
            defer { try? FileManager.default.removeItem(atPath: inboxPath) }
            let source = HeartlandEventSource(client: client, inbox: try IngestInbox(path: inboxPath))
            let batches = fixture.batches.sorted { ($0.locationId, $0.businessDay) < ($1.locationId, $1.businessDay) }
            #expect(Set(batches.filter { $0.businessDay == day.day }.map(\.locationId)) == Set(fixture.locations.map(\.id)),
                    "every store has a batch for the generated day")
            // Per store and business day, over every journal of every batch and every refund posted on its own.
            var produced: [String: [String: Int64]] = [:]
            let storeIDs = Dictionary(uniqueKeysWithValues: fixture.locations.map { ($0.publicId, $0.id) })
            for batch in batches {
                try await simulator.waitUntilClosed(batch.id, client: client)
                let event = try await source.event(batchID: batch.id)
                // Through JSON, as the event travels on the broker.
                let received = try JSONDecoder().decode(BatchClosedEvent.self, from: JSONEncoder().encode(event))
                let built = try TransformerHandler(rules: rules).settlement(batch: received)
                #expect(built.quarantined.isEmpty, "\(batch.id): a generated day has no bad document")
                #expect(built.disagreements.isEmpty, "\(batch.id): \(built.disagreements)")
                let home = try #require(built.documents.first { $0.batch != nil }, "\(batch.id): the batch's own journal")
                func add(_ journal: JournalEntry) {
                    #expect(journal.totalDebits == journal.totalCredits, "\(journal.reference): debits ≠ credits")
                    let key = "\(storeIDs[received.store.id] ?? 0) \(journal.postingDate.iso)"
                    for (account, cents) in journal.netByAccount { produced[key, default: [:]][account.rawValue, default: 0] += cents }
                }
                built.documents.forEach { add($0.journal) }
                // The batch's card refunds through the real-time path (as ingest fetches each and the transformer builds
                // it): together with the batch's journals they must be the day's books, each refund counted once.
                var refunds: [String] = []
                for transaction in try await client.transactions(TransactionQuery(batchId: batch.id, type: .refund)).collect() {
                    let event = try await source.refundEvent(transactionID: transaction.id, receivedAt: "2026-11-27T00:00:00Z")
                    let travelled = try JSONDecoder().decode(RefundCreatedEvent.self, from: JSONEncoder().encode(event))
                    guard let refund = try TransformerHandler(rules: rules).refund(travelled) else { continue }
                    #expect(refund.refund?.problems == [], "\(transaction.id): a generated refund is ordinary")
                    refunds.append(refund.journal.reference)
                    add(refund.journal)
                }
                #expect(refunds.sorted() == (home.refunds ?? []).map(\.journal.reference).filter { $0.contains("-R") }.sorted(),
                        "\(batch.id): the refunds the day's journal leaves out are the ones posted on their own")
            }
            for key in produced.keys.sorted() {
                let parts = key.split(separator: " ")
                let expected = ExpectedBooks.settlement(fixture: fixture, locationID: Int64(parts[0]) ?? 0, businessDay: String(parts[1]))
                let books = produced[key, default: [:]].filter { $0.value != 0 }
                #expect(expected.values.reduce(0, +) == 0, "\(key): the oracle's own books do not balance\n\(Self.table(books, expected))")
                #expect(books == expected, "store \(key): journals ≠ oracle\n\(Self.table(books, expected))")
            }
            #expect(produced.count >= fixture.locations.count, "every store's day is compared")
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
    }

    /// The comparison above only means something if the generated days contain every case the rules name;
    /// this counts them over all the days, from the fixtures alone.
    @Test func generatedDaysExerciseEveryRule() throws {
        var seen: [String: Int] = [:]
        for day in Self.days {
            let fixture = try StoreDayGenerator.generate(.init(stores: day.stores, day: day.day, seed: day.seed, ticketsPerStore: day.tickets))
            let zones = Dictionary(uniqueKeysWithValues: fixture.locations.map { ($0.id, $0.zone) })
            let previousDayBatches = Set(fixture.batches.filter { $0.businessDay != day.day }.map(\.id))
            for ticket in fixture.tickets {
                let utcDay = ticket.completedAt.formatted(.iso8601.year().month().day().dateSeparator(.dash))
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = zones[ticket.locationId] ?? .gmt
                let local = calendar.dateComponents([.year, .month, .day], from: ticket.completedAt)
                let localDay = String(format: "%04d-%02d-%02d", local.year ?? 0, local.month ?? 0, local.day ?? 0)
                let cases: [(String, Bool)] = [
                    ("voided ticket", ticket.status == "void"),
                    ("return to cash", ticket.returnOfTicketId != nil && ticket.payments.contains { $0.paymentType == "Cash" }),
                    ("return to card", ticket.returnOfTicketId != nil && ticket.payments.contains { $0.paymentType == "Credit Card" }),
                    ("returned line with a discount", ticket.lines.contains { $0.type == "ItemLine" && $0.qty < 0 && $0.discountCents != 0 }),
                    ("line discount", ticket.lines.contains { $0.type == "ItemLine" && $0.qty > 0 && $0.discountCents != 0 }),
                    ("ticket discount", ticket.lines.contains { $0.type == "DiscountLine" }),
                    ("untaxed ticket", !ticket.lines.contains { $0.type == "TaxLine" }),
                    ("gift card sold", ticket.lines.contains { $0.type == "GiftCardLine" }),
                    ("gift card tender", ticket.payments.contains { $0.paymentType == "Gift Card" }),
                    ("card tip", ticket.payments.contains { $0.tipCents > 0 }),
                    ("split tender", ticket.payments.count > 1),
                    ("sale of the previous business day", ticket.businessDay != day.day),
                    ("local day is not the UTC day", ticket.businessDay != utcDay),
                    ("business_day that is not the local date", ticket.businessDay != localDay),
                ]
                for (name, present) in cases where present { seen[name, default: 0] += 1 }
            }
            for transaction in fixture.transactions where transaction.status != "REVERSED" {
                seen["card brand \(transaction.brand)", default: 0] += 1
                if previousDayBatches.contains(transaction.batchId) { seen["card sale in a previous-day batch", default: 0] += 1 }
            }
        }
        let expected = [
            "voided ticket", "return to cash", "return to card", "returned line with a discount", "line discount", "ticket discount",
            "untaxed ticket", "gift card sold", "gift card tender", "card tip", "split tender", "sale of the previous business day",
            "local day is not the UTC day", "card brand VISA", "card brand MASTERCARD", "card brand AMEX", "card brand DISCOVER",
            "card sale in a previous-day batch",
        ]
        for name in expected {
            #expect(seen[name, default: 0] > 0, "no generated day has a \(name): \(seen.sorted { $0.key < $1.key })")
        }
        // The oracle reads `businessDay`, the transformer the local date of `completed_at`: the generator must keep them equal.
        #expect(seen["business_day that is not the local date"] == nil, "\(seen.sorted { $0.key < $1.key })")
    }

    /// Both maps side by side, one account a line, differences marked.
    static func table(_ journal: [String: Int64], _ oracle: [String: Int64]) -> String {
        var lines = ["account      journal       oracle   difference"]
        for account in Set(journal.keys).union(oracle.keys).sorted() {
            let (j, o) = (journal[account, default: 0], oracle[account, default: 0])
            let mark = j == o ? "" : "   <-- \(j - o)"
            lines.append(account.padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(j).leftPadded(13) + String(o).leftPadded(13) + mark)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
