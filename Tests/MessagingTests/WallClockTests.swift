import BridgeClock
import Foundation
import StableHash
import Testing

/// `WallClock` works out a zone's date and minute from the zone's offset and calendar arithmetic instead of a Calendar:
/// it must read what Foundation's Gregorian calendar reads, in every kind of zone, across offsets' changes, before 1970,
/// a hair either side of a minute and of midnight, and before 1600 where it hands over to the Calendar.
@Suite struct WallClockTests {
    static let zones = [
        "UTC", "America/New_York", "America/Los_Angeles", "America/St_Johns", "America/Caracas", "Europe/London", "Europe/Dublin",
        "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Australia/Adelaide", "Pacific/Chatham", "Pacific/Kiritimati",
        "Pacific/Apia", "Pacific/Pago_Pago", "America/Sao_Paulo", "Africa/Casablanca", "Asia/Tehran",
    ].map { TimeZone(identifier: $0)! }

    static func calendarReading(_ instant: Date, _ zone: TimeZone) -> (String, Int, Int, Int, Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        return (String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!), c.year!, c.month!, c.day!, c.hour! * 60 + c.minute!)
    }

    static func check(_ instant: Date, _ zone: TimeZone) {
        let clock = WallClock(of: instant, in: zone)
        let expected = calendarReading(instant, zone)
        #expect((clock.isoDay, clock.year, clock.month, clock.day, clock.minuteOfDay) == expected,
                "\(instant.timeIntervalSince1970) in \(zone.identifier)")
    }

    @Test func readsWhatTheGregorianCalendarReadsInEveryKindOfZone() {
        var random = SeededRandom(seed: 2026)
        for zone in Self.zones {
            for _ in 0..<1_500 {
                // 1600 to 2400, most between 1950 and 2100, some at whole minutes and a hair either side of one.
                let span: ClosedRange<Double> = Bool.random(using: &random) ? -631_152_000...4_102_444_800 : -11_676_096_000...13_569_465_600
                var seconds = Double.random(in: span, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: seconds = (seconds / 60).rounded(.down) * 60
                case 1: seconds = (seconds / 60).rounded(.down) * 60 - 0.000_1
                case 2: seconds = (seconds / 60).rounded(.down) * 60 + 0.999
                default: break
                }
                Self.check(Date(timeIntervalSince1970: seconds), zone)
            }
        }
    }

    @Test func readsTheMinutesAroundEveryOffsetChangeAndMidnight() {
        for zone in Self.zones {
            var instant = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01
            let end = Date(timeIntervalSince1970: 2_051_222_400)  // 2035-01-01
            while let change = zone.nextDaylightSavingTimeTransition(after: instant), change < end {
                for step in stride(from: -120.0, through: 120, by: 0.5) { Self.check(change.addingTimeInterval(step * 60), zone) }
                instant = change
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let midnight = calendar.startOfDay(for: Date(timeIntervalSince1970: 1_798_000_000))
            for step in stride(from: -2.0, through: 2, by: 0.25) { Self.check(midnight.addingTimeInterval(step), zone) }
        }
    }

    @Test func readsBefore1970AndHandsOverTheCalendarsJulianCenturies() {
        for zone in Self.zones {
            for seconds in [-1.0, -0.5, -86_400, -86_401, -2_208_988_800, -11_676_096_000, -11_676_096_001, -12_219_292_800, -62_135_596_800] {
                Self.check(Date(timeIntervalSince1970: seconds), zone)
            }
        }
        #expect(WallClock(of: Date(timeIntervalSince1970: 0), in: TimeZone(identifier: "UTC")!).isoDay == "1970-01-01")
        #expect(WallClock(of: Date(timeIntervalSince1970: -1), in: TimeZone(identifier: "UTC")!).minuteOfDay == 1_439)
    }

    @Test func aZoneIsFoundByNameAndAnUnknownNameIsUTC() {
        #expect(WallClock.zone(named: "America/Chicago").identifier == "America/Chicago")
        #expect(WallClock.zone(named: "Mars/Olympus_Mons") == TimeZone(identifier: "UTC")!)
        let instant = Date(timeIntervalSince1970: 1_798_000_000)
        #expect(WallClock(of: instant, inZoneNamed: "Asia/Kolkata") == WallClock(of: instant, in: TimeZone(identifier: "Asia/Kolkata")!))
    }
}
