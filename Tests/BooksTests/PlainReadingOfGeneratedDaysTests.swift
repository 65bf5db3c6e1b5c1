@testable import Accounting
import Foundation
@testable import HeartlandSimulator
import Testing

/// Issue 21: heartland-ingest's and the transformer's plain readings of ticket records (`SketchReading.plainly`,
/// `WireTicket.plainly`) on the records
/// heartland-sim serves for messy days: every normal ticket as `RetailRendering` writes it, and every defective document of
/// every kind as the generator writes it (a raw record). Each reads exactly as `JSONDecoder` reads it, and the normal ones
/// are all read plainly: the plain reading is the one a day takes, not one its records decline.
@Suite struct PlainReadingOfGeneratedDaysTests {
    @Test(arguments: [(UInt64(5), 1, 1), (77, 2, 3), (4_243, 4, 5)])
    func aGeneratedDaysRecordsReadAsJSONDecoderReadsThem(seed: UInt64, batches: Int, badPercent: Int) throws {
        let fixture = try StoreDayGenerator.generate(.init(stores: 3, day: "2026-11-27", seed: seed, ticketsPerStore: 300,
                                                           batchesPerDay: batches, badPercent: badPercent))
        let zones = Dictionary(uniqueKeysWithValues: fixture.locations.map { ($0.id, TimeZone(identifier: $0.timeZone)!) })
        let cards = Dictionary(fixture.transactions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let normal = fixture.tickets.map { RetailRendering.ticket($0, zone: zones[$0.locationId]!, cards: cards).serialized() }
        let defective = fixture.rawTickets.map(\.bytes)
        #expect(normal.count > 900 && (badPercent == 0 || !defective.isEmpty))
        for raw in normal + defective {
            #expect(HeartlandJSON.read(raw, currency: .usd) == HeartlandJSON.readDecoding(raw, currency: .usd), "\(String(decoding: raw, as: UTF8.self))")
            let sketch = SketchReading.of(raw), decoded = try? TicketKeys.decoder(for: raw).decode(SketchReading.self, from: raw)
            #expect(sketch?.id == decoded?.id && sketch?.completedAt == decoded?.completedAt && sketch?.transactionIDs == decoded?.transactionIDs
                    && sketch?.houseAccountCustomerID == decoded?.houseAccountCustomerID, "\(String(decoding: raw, as: UTF8.self))")
        }
        let unread = normal.filter { WireTicket.plainly($0) == nil || SketchReading.plainly($0) == nil }
        #expect(unread.isEmpty, "not read plainly: \(unread.prefix(3).map { String(decoding: $0, as: UTF8.self) })")
        let defectiveReadPlainly = defective.filter { WireTicket.plainly($0) != nil }.count
        print("seed \(seed): \(normal.count) tickets read plainly; of \(defective.count) defective records, \(defectiveReadPlainly) read plainly")
    }
}
