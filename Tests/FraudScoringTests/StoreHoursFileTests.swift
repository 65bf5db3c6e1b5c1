import Accounting
import Foundation
import Testing
@testable import FraudScoring

/// Store hours from the file loss prevention keeps: per store, a default, after midnight, and clear errors.
@Suite struct StoreHoursFileTests {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hours-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func storesAndADefault() throws {
        let hours = try StoreHoursFile(path: try file("default: \"08:00-20:00\"\nS01: \"07:00-22:00\"\nS02: 10:00-26:00\n"))
        #expect(hours.fallback == StoreHours(opening: 480, closing: 1200))
        #expect(hours.stores[StoreID("S01")] == StoreHours(opening: 420, closing: 1320))
        #expect(hours.stores[StoreID("S02")]?.minutesOutside(minuteOfDay: 90) == 0, "01:30 is before S02's 02:00 closing")
        #expect(hours.stores[StoreID("S02")]?.minutesOutside(minuteOfDay: 180) == 60)
    }

    @Test func numericStoreIdsAreReadAsWritten() throws {
        // Heartland's location ids are numbers. YAML's rules make the value `101` an integer and `007` the number 7; the
        // file's keys are read as the text written.
        let hours = try StoreHoursFile(path: try file("101: \"07:00-22:00\"\n007: 08:00-20:00\n"))
        #expect(hours.stores[StoreID("101")] == StoreHours(opening: 420, closing: 1320))
        #expect(hours.stores[StoreID("007")] == StoreHours(opening: 480, closing: 1200))
    }

    @Test func theShippedFileLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/store-hours.yaml").path
        #expect(try StoreHoursFile(path: path).fallback == .standard)
    }

    @Test func aStoreClosedAtThreeInTheMorningIsOutOfHoursThere() async throws {
        // The same 03:00 local sale: inside the hours of a store open until 04:00, outside the default.
        let late = StoreHoursFile(stores: [StoreID("S01"): StoreHours(opening: 600, closing: 28 * 60)])
        let store = try FeatureStore(path: nil, hours: late.stores, defaultHours: late.fallback)
        let zone = TimeZone(identifier: "America/Chicago")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let at = calendar.date(from: DateComponents(year: 2026, month: 3, day: 3, hour: 3))!
        func sale(_ id: String, _ store: String) -> ScoredEvent {
            ScoredEvent(id: id, kind: .sale, store: StoreID(store), terminal: "1", clerk: "Ava", tender: .card,
                        cardToken: nil, entryMode: .chip, amountCents: 2_500, occurredAt: at, timeZone: zone.identifier)
        }
        let vectors = try await store.observe([sale("a", "S01"), sale("b", "S02")])
        let open = vectors[0], closed = vectors[1]
        #expect(open[.outsideHours] == 0)
        #expect(closed[.outsideHours] == 1)
    }

    @Test func malformedHoursNameTheStore() throws {
        #expect(throws: StoreHoursFile.Problem.badHours(store: "S03", value: "22:00-07:00")) {
            try StoreHoursFile(path: try file("S03: \"22:00-07:00\"\n"))
        }
        #expect(throws: StoreHoursFile.Problem.self) { try StoreHoursFile(path: try file("- S01\n")) }
    }
}
