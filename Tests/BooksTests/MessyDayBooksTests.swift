import Accounting
import BookOracle
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HeartlandConnector
import HeartlandIngest
import HeartlandSimulator
import Logging
import PipelineContracts
import SimulatorKit
import Testing
@testable import Transformer

/// Messy days (issue 14), end to end up to the journals: 1–4 batches per store-day closing at random times (one after
/// midnight closing the previous day), late tickets, gateway-only refunds and 1–3 % bad documents of every kind.
/// heartland-ingest's event source assigns each document to one batch (claims in a real inbox), the transformer builds
/// the journals and sets bad tickets aside, the refund path posts refunds on their own. Per store and business day the
/// journals' net per account must equal `ExpectedBooks` over the valid documents; every valid ticket must be in exactly
/// one journal and every bad one set aside; after correcting each at the source and replaying it, the books must equal
/// the oracle over all documents.
@Suite struct MessyDayBooksTests {
    struct Day: Sendable, CustomTestStringConvertible {
        var day: String
        var seed: UInt64
        var batches: Int
        var badPercent: Int
        var testDescription: String { "\(day) seed \(seed), \(batches) batches a day, \(badPercent) % bad" }
    }

    static let days: [Day] = [
        Day(day: "2026-11-27", seed: 5, batches: 1, badPercent: 1),
        Day(day: "2026-11-27", seed: 77, batches: 2, badPercent: 2),
        Day(day: "2026-06-12", seed: 901, batches: 3, badPercent: 3),
        Day(day: "2026-11-01", seed: 4_243, batches: 4, badPercent: 3),
    ]

    @Test(arguments: days)
    func booksEqualTheOracleBeforeAndAfterTheBadDocumentsAreCorrected(_ day: Day) async throws {
        let fixture = try StoreDayGenerator.generate(.init(stores: 3, day: day.day, seed: day.seed, ticketsPerStore: 300,
                                                           batchesPerDay: day.batches, badPercent: day.badPercent))
        let rules = try MappingRules.load(path: GeneratedDayBooksTests.mappingPath)
        let handler = TransformerHandler(rules: rules)
        let simulator = try await StoreDaySimulator.start(fixture: fixture, now: StoreDaySimulator.after(day.day))
        let inboxPath = FileManager.default.temporaryDirectory.appendingPathComponent("messy-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: inboxPath) }
        do {
            try await simulator.closeOpenBatches()
            let client = simulator.client()
            let source = HeartlandEventSource(client: client, inbox: try IngestInbox(path: inboxPath))
            let locations = Dictionary(uniqueKeysWithValues: fixture.locations.map { ($0.publicId, $0.id) })
            var books = Books()
            var inJournals: [String: String] = [:]  // "<location> <ticket id>" → journal reference
            var held: [QuarantinedDocument] = []
            // Batches in the order they closed, as their webhooks arrive.
            var batches: [(id: String, closed: Date)] = []
            for batch in try await client.batches(BatchQuery(status: .closed)).collect() {
                batches.append((batch.id, batch.timeClosed.flatMap { try? Date($0, strategy: .iso8601) } ?? .distantFuture))
            }
            #expect(batches.count >= fixture.locations.count * day.batches, "every batch of the day is closed")
            for batch in batches.sorted(by: { ($0.closed, $0.id) < ($1.closed, $1.id) }) {
                let event = try JSONDecoder().decode(BatchClosedEvent.self, from: JSONEncoder().encode(try await source.event(batchID: batch.id)))
                let location = locations[event.store.id] ?? 0
                let built = try handler.settlement(batch: event)
                for document in built.documents {
                    books.add(document.journal, location: location)
                    for ticket in document.documents ?? [] {
                        let key = "\(location) \(ticket)"
                        #expect(inJournals[key] == nil, "ticket \(key) is in \(inJournals[key] ?? "") and \(document.journal.reference)")
                        inJournals[key] = document.journal.reference
                    }
                }
                held += built.quarantined
                // The batch's refunds, through the real-time path (each posts on its own, exchanges with the batch).
                for transaction in try await source.refundIDs(batchID: batch.id) {
                    let event = try await source.refundEvent(transactionID: transaction, receivedAt: "2026-11-27T00:00:00Z")
                    let travelled = try JSONDecoder().decode(RefundCreatedEvent.self, from: JSONEncoder().encode(event))
                    if let refund = try handler.refund(travelled) { books.add(refund.journal, location: location) }
                }
            }

            // Before any correction: the books of the valid documents. A ticket served twice under one id with different
            // content is set aside whole (which record is right is a person's call), so it counts after its correction only.
            let duplicated = Set(fixture.badDocuments.filter { $0.defect == .duplicateId }.map { "\($0.locationId) \($0.id)" })
            var valid = fixture
            valid.tickets.removeAll { duplicated.contains("\($0.locationId) \($0.id)") }
            try books.expectEqual(to: valid, documents: .valid, "before corrections")

            // Every valid ticket is in exactly one journal; every bad ticket is set aside, none posted.
            let badTickets = fixture.badDocuments.filter { $0.kind == .ticket }
            let heldKeys = Set(held.map { "\(locations[$0.store.id] ?? 0) \($0.documentId)" })
            for bad in badTickets {
                #expect(heldKeys.contains("\(bad.locationId) \(bad.id)"), "\(bad.defect.rawValue) ticket \(bad.id) of location \(bad.locationId) is set aside")
                #expect(inJournals["\(bad.locationId) \(bad.id)"] == nil, "bad ticket \(bad.id) is in no journal")
            }
            #expect(Set(badTickets.map(\.defect)).isSuperset(of: day.badPercent >= 2 ? [.outOfBalance, .tipOnCash, .malformedAmount, .missingOffset, .duplicateId] : []),
                    "every kind of bad ticket is generated")
            for ticket in valid.tickets where ticket.status == "complete" {
                guard !badTickets.contains(where: { $0.id == String(ticket.id) && $0.locationId == ticket.locationId }) else { continue }
                let isRefund = ticket.returnOfTicketId != nil
                #expect(inJournals["\(ticket.locationId) \(ticket.id)"] != nil || isRefund,
                        "valid ticket \(ticket.id) of location \(ticket.locationId) (\(ticket.businessDay)) is in a journal")
            }

            // Corrected at the source and replayed: each posts once, in a supplementary journal on its own day.
            var replayed = Set<String>()
            for bad in badTickets where replayed.insert("\(bad.locationId) \(bad.id)").inserted {
                try await simulator.putRaw("tickets", id: bad.id, bad.corrected)
                let document = try #require(held.first { locations[$0.store.id] == bad.locationId && $0.documentId == bad.id })
                let record = try await client.rawTicketJSON(id: bad.id)
                let corrected = TicketCorrectedEvent(store: document.store, documentId: bad.id, locationId: bad.locationId, batchId: document.batchId,
                                                     batchReference: document.batchReference, ticket: RawJSON(record))
                guard case .publish(let outputs) = try handler.correctedOutcome(corrected, logger: Logger(label: "test")),
                      let output = outputs.first(where: { $0.exchange == "bridge.scoring" })
                else {
                    Issue.record("corrected ticket \(bad.id) (\(bad.defect.rawValue)) did not post")
                    continue
                }
                let supplement = try JSONDecoder().decode(JournalDocument.self, from: Data(output.body))
                #expect(supplement.journal.reference.hasSuffix("-T\(bad.id)"))
                books.add(supplement.journal, location: bad.locationId)
            }
            try books.expectEqual(to: fixture, documents: .corrected, "after corrections")
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
    }

    /// Net per account per "<location> <business day>", from journals.
    struct Books {
        var net: [String: [String: Int64]] = [:]

        mutating func add(_ journal: JournalEntry, location: Int64) {
            #expect(journal.totalDebits == journal.totalCredits, "\(journal.reference) balances")
            for (account, cents) in journal.netByAccount { net["\(location) \(journal.postingDate.iso)", default: [:]][account.rawValue, default: 0] += cents }
        }

        func expectEqual(to fixture: StoreDayFixture, documents: ExpectedBooks.Documents, _ when: String) throws {
            var keys = Set(net.keys)
            for location in fixture.locations {
                for day in Set(fixture.tickets.filter { $0.locationId == location.id }.map(\.businessDay)) { keys.insert("\(location.id) \(day)") }
            }
            for key in keys.sorted() {
                let parts = key.split(separator: " ")
                let expected = ExpectedBooks.messySettlement(fixture: fixture, locationID: Int64(parts[0]) ?? 0, businessDay: String(parts[1]),
                                                             documents: documents)
                let produced = net[key, default: [:]].filter { $0.value != 0 }
                #expect(produced == expected, "\(when): location \(key): journals ≠ oracle\n\(GeneratedDayBooksTests.table(produced, expected))")
            }
        }
    }
}

extension StoreDaySimulator {
    /// `PUT /admin/raw/{kind}/{id}`: the record is corrected at the source.
    func putRaw(_ kind: String, id: String, _ record: JSONValue) async throws {
        var request = URLRequest(url: running.baseURL.appendingPathComponent("admin/raw/\(kind)/\(id)"))
        request.httpMethod = "PUT"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = record.serialized()
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw SimulatorFailure(description: "PUT raw \(kind) \(id) answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
    }
}
