import BridgeClock
import Foundation
import Testing

/// The injectable clock: what tests and demos set so that nothing depends on the hour they run at.
@Suite struct BridgeClockTests {
    static func instant(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }
    static let newYork = TimeZone(identifier: "America/New_York")!, losAngeles = TimeZone(identifier: "America/Los_Angeles")!

    @Test func anInstantStartsThereAndAdvancesInRealTime() throws {
        let real = Self.instant("2026-12-02T10:00:00Z")
        let clock = try BridgeClock.parse("2026-12-02T02:00:00Z", realNow: real)
        #expect(clock.offset == -8 * 3600)
        let reading = clock.now().timeIntervalSince(Date().addingTimeInterval(-8 * 3600))
        #expect(abs(reading) < 60, "now is the system clock moved by the offset")
    }

    @Test func anOffsetIsTakenAsIs() throws {
        #expect(try BridgeClock.parse("-3600").offset == -3600)
        #expect(try BridgeClock.parse("+86400.5").offset == 86_400.5)
        #expect(try BridgeClock.parse(BridgeClock(offset: -1234.5).offsetText).offset == -1234.5, "offsetText reads back")
        #expect(try BridgeClock.parse("") == .system)
        #expect(try BridgeClock.fromEnvironment([:]) == .system)
        #expect(try BridgeClock.fromEnvironment(["BRIDGE_CLOCK": "60"]).offset == 60)
        #expect(try BridgeClock.resolve(flag: "-5", environment: ["BRIDGE_CLOCK": "60"]).offset == -5, "the flag wins")
    }

    @Test func unreadableTextIsRefusedWithTheFormsItTakes() {
        #expect(throws: BridgeClock.ParseError.self) { try BridgeClock.parse("tomorrow") }
        #expect(throws: BridgeClock.ParseError.self) { try BridgeClock.parse("2026-12-02 25:00") }
        let message = (try? BridgeClock.parse("noon")).map { "\($0)" } ?? "\(BridgeClock.ParseError.unreadable("noon"))"
        #expect(message.contains("RFC 3339"))
    }

    @Test(arguments: [
        // (UTC instant, the last day over at both New York and Los Angeles)
        ("2026-12-02T02:00:00Z", "2026-11-30"),  // both stores are still on Dec 1st
        ("2026-12-02T07:30:00Z", "2026-11-30"),  // New York 02:30 and Los Angeles 23:30, both on Dec 1st
        ("2026-12-02T15:00:00Z", "2026-12-01"),  // both on Dec 2nd
        ("2026-07-02T07:30:00Z", "2026-07-01"),  // summer time: New York 03:30 and Los Angeles 00:30 on Jul 2nd
        ("2026-01-01T06:00:00Z", "2025-12-30"),  // New York on the new year, Los Angeles not yet: the earlier decides
    ])
    func theLastFinishedDayIsOverAtEveryStore(instant: String, expected: String) {
        let at = Self.instant(instant)
        let day = BridgeClock.lastFinishedDay(at: at, zones: [Self.newYork, Self.losAngeles])
        #expect(day == expected)
        for zone in [Self.newYork, Self.losAngeles] {
            #expect(BridgeClock.localDay(of: at, in: zone) > day, "a ticket rung up now falls after the generated day")
        }
    }

    @Test func daysMoveAcrossMonthsYearsAndLeapDays() {
        #expect(BridgeClock.day("2026-03-01", plus: -1) == "2026-02-28")
        #expect(BridgeClock.day("2028-03-01", plus: -1) == "2028-02-29")
        #expect(BridgeClock.day("2026-12-31", plus: 1) == "2027-01-01")
    }
}
