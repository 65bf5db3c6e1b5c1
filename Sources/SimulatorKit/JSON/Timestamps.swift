import Foundation

/// Timestamp renderings used across the simulators.
public enum Timestamps {
    /// `2026-11-27T14:05:09Z`
    public static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// `2026-11-27T09:05:09-05:00` in the given zone.
    public static func iso8601(_ date: Date, in zone: TimeZone) -> String {
        var style = Date.ISO8601FormatStyle(timeZone: zone)
        style = style.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .colon)
        return date.formatted(style)
    }

    /// Parses `2026-11-27T14:05:09Z`, with offset or fractional seconds, or a bare `2026-11-27` (UTC midnight).
    public static func parse(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return d }
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day()) { return d }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// `YYYY-MM-DD` of a date in a zone.
    public static func day(_ date: Date, in zone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}

extension Timestamps {
    /// `2026-11-27T14:05:09.123Z`: last-edited stamps, fine enough for change polling.
    public static func iso8601Millis(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
