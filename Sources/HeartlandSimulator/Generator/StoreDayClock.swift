import Foundation

/// Local times of one location's business day, and the ids derived from (location, day).
struct StoreDayClock {
    let location: Location
    let day: String
    let calendar: Calendar
    let year: Int, month: Int, dayOfMonth: Int
    /// Days since 2000-01-01; part of every generated id, so ids never collide across days.
    let dayNumber: Int64

    init?(location: Location, day: String) {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = location.zone
        self.location = location
        self.day = day
        self.calendar = calendar
        (year, month, dayOfMonth) = (parts[0], parts[1], parts[2])
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        guard let start = utc.date(from: DateComponents(year: 2000, month: 1, day: 1)),
            let date = utc.date(from: DateComponents(year: year, month: month, day: dayOfMonth)),
            utc.dateComponents([.year, .month, .day], from: date) == DateComponents(year: year, month: month, day: dayOfMonth)
        else { return nil }
        dayNumber = Int64(utc.dateComponents([.day], from: start, to: date).day!)
    }

    /// The instant of a local second of this business day (0 = local midnight).
    func instant(secondOfDay: Int) -> Date {
        calendar.date(from: DateComponents(
            year: year, month: month, day: dayOfMonth, hour: secondOfDay / 3600, minute: (secondOfDay / 60) % 60,
            second: secondOfDay % 60))!
    }

    var compactDay: String { day.replacingOccurrences(of: "-", with: "") }
    var batchId: String { String(format: "BAT_%@_%02lld", compactDay, location.id) }
    func ticketId(_ sequence: Int) -> Int64 { dayNumber * 10_000_000 + location.id * 100_000 + Int64(sequence) }
    func ticketNumber(_ sequence: Int) -> String { String(format: "%@-%@-%05d", location.publicId, compactDay, sequence) }

    /// The previous calendar day as `YYYY-MM-DD`.
    var previousDay: String { day(shiftedBy: -1) }
    /// The next calendar day as `YYYY-MM-DD`.
    var nextDay: String { day(shiftedBy: 1) }

    private func day(shiftedBy days: Int) -> String {
        let date = calendar.date(from: DateComponents(year: year, month: month, day: dayOfMonth, hour: 12))!
        let shifted = calendar.date(byAdding: .day, value: days, to: date)!
        let c = calendar.dateComponents([.year, .month, .day], from: shifted)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}
