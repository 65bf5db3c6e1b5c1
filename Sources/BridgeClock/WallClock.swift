import Foundation
import Synchronization

/// What a clock on the wall in a time zone showed at an instant: the date and the minute of the day, as
/// `Calendar(identifier: .gregorian).dateComponents` gives them in that zone.
///
/// Worked out from the zone's offset at the instant and the civil-date arithmetic of the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`), not through a Calendar: the fraud scorer asks it for every sale it scores, and a
/// Calendar made, set to a zone and asked for components, then `String(format:)` for the day, cost about 15 µs each
/// time. Instants before 1600 (where Foundation's Gregorian calendar turns Julian) are asked of a Calendar.
public struct WallClock: Sendable, Hashable {
    public let year: Int
    public let month: Int
    public let day: Int
    /// Minutes since local midnight, 0 to 1439.
    public let minuteOfDay: Int

    public init(of instant: Date, in zone: TimeZone) {
        let local = instant.timeIntervalSince1970.rounded(.down) + Double(zone.secondsFromGMT(for: instant))
        guard local >= Self.year1600, local < Self.year10000 else {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
            (year, month, day, minuteOfDay) = (c.year ?? 0, c.month ?? 0, c.day ?? 0, (c.hour ?? 0) * 60 + (c.minute ?? 0))
            return
        }
        let seconds = Int(local)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        minuteOfDay = (seconds - days * 86_400) / 60
        // civil_from_days: days since 1970-01-01 to year, month, day.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// The zone named `identifier` (an IANA name), UTC when there is none by that name; made once a name.
    public init(of instant: Date, inZoneNamed identifier: String) {
        self.init(of: instant, in: Self.zone(named: identifier))
    }

    /// `2026-11-27`.
    public var isoDay: String {
        guard (0...9999).contains(year) else { return String(format: "%04d-%02d-%02d", year, month, day) }
        return String(unsafeUninitializedCapacity: 10) { out in
            func put(_ value: Int, endingAt end: Int, width: Int) {
                var rest = value
                for position in stride(from: end, to: end - width, by: -1) {
                    out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, endingAt: 3, width: 4)
            out[4] = UInt8(ascii: "-")
            put(month, endingAt: 6, width: 2)
            out[7] = UInt8(ascii: "-")
            put(day, endingAt: 9, width: 2)
            return 10
        }
    }

    /// The zone by IANA name, UTC for an unknown name, each made once.
    public static func zone(named identifier: String) -> TimeZone {
        if let zone = zones.withLock({ $0[identifier] }) { return zone }
        let zone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
        zones.withLock { $0[identifier] = zone }
        return zone
    }

    private static let zones = Mutex<[String: TimeZone]>([:])
    /// 1600-01-01T00:00:00 and 10000-01-01T00:00:00, local seconds since 1970.
    private static let year1600: Double = -11_676_096_000
    private static let year10000: Double = 253_402_300_800
}
