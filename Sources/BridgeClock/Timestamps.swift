import Foundation

/// The one way instants are written and read as text (RFC 3339 / ISO 8601): message bodies and headers, stored rows,
/// pages, and the simulators' API renderings.
///
/// Writing rounds to the nearest millisecond first, as Foundation's `ISO8601DateFormatter` did for every message and
/// row before this type existed, so the text is byte-for-byte what it was (`Date.ISO8601FormatStyle` alone truncates,
/// and an instant read from `…31.111Z` would be written back as `…31.110Z`). The styles are values made once; a new
/// `ISO8601DateFormatter` per call cost about a millisecond.
public enum Timestamps {
    private static let secondsStyle = Date.ISO8601FormatStyle()
    private static let millisecondsStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let dayStyle = Date.ISO8601FormatStyle().year().month().day()

    /// `2026-11-27T14:05:09Z`
    public static func iso8601(_ date: Date) -> String {
        wholeSecond(date).formatted(secondsStyle)
    }

    /// `2026-11-27T09:05:09-05:00` in the given zone.
    public static func iso8601(_ date: Date, in zone: TimeZone) -> String {
        let style = Date.ISO8601FormatStyle(timeZone: zone).year().month().day().time(includingFractionalSeconds: false)
            .timeZone(separator: .colon)
        return wholeSecond(date).formatted(style)
    }

    /// `2026-11-27T14:05:09.123Z`
    public static func iso8601Millis(_ date: Date) -> String {
        Date(timeIntervalSince1970: (wholeMilliseconds(date) + 0.25) / 1000).formatted(millisecondsStyle)
    }

    /// An RFC 3339 instant, with or without fractional seconds, `Z` or an offset; nil for anything else.
    public static func instant(_ text: String) -> Date? {
        (try? Date(text, strategy: secondsStyle)) ?? (try? Date(text, strategy: millisecondsStyle))
    }

    /// An instant as `instant` reads it, or a bare `2026-11-27` (UTC midnight): what the simulated APIs accept.
    public static func parse(_ text: String) -> Date? {
        instant(text) ?? (try? Date(text, strategy: dayStyle))
    }

    /// `YYYY-MM-DD` of a date in a zone.
    public static func day(_ date: Date, in zone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        BridgeClock.localDay(of: date, in: zone)
    }

    /// Milliseconds since 1970, rounded half up as `ISO8601DateFormatter` rounds (its `UDate` is `(t + 978307200) * 1000 + 0.5`,
    /// floored).
    private static func wholeMilliseconds(_ date: Date) -> Double {
        ((date.timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down)
    }

    /// The second `ISO8601DateFormatter` wrote for `date`, as an instant a quarter second into it (the styles truncate).
    private static func wholeSecond(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (wholeMilliseconds(date) / 1000).rounded(.down) + 0.25)
    }
}
