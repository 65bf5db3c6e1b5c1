import Foundation

/// The instant the bridge and its simulators take as "now" wherever a business day, a batch close or a
/// ticket time is derived from it.
///
/// In production it is the system clock. Tests and demos set it, so that nothing passes or fails with
/// the hour at which it runs: `BRIDGE_CLOCK` (or `--clock`) names either an instant, from which "now"
/// then advances in real time (`2026-12-02T07:30:00Z`), or an offset from the system clock in seconds
/// (`-3600`, `+86400.5`). A launcher that starts several processes turns an instant into an offset once
/// (``offsetText``) and gives every process the same offset, so they agree to the millisecond.
public struct BridgeClock: Sendable, Equatable, CustomStringConvertible {
    /// Seconds added to the system clock.
    public let offset: TimeInterval

    public static let system = BridgeClock(offset: 0)

    public init(offset: TimeInterval) { self.offset = offset }

    /// A clock that reads `instant` at `realNow` and advances in real time from there.
    public init(startingAt instant: Date, realNow: Date = Date()) {
        offset = instant.timeIntervalSince(realNow)
    }

    public func now() -> Date { Date().addingTimeInterval(offset) }

    /// The form every process of one launch should be given: an offset.
    public var offsetText: String { String(format: "%+.3f", offset) }

    public var description: String { offset == 0 ? "system clock" : "system clock \(offsetText) s" }

    public enum ParseError: Error, CustomStringConvertible {
        case unreadable(String)
        public var description: String {
            switch self {
            case .unreadable(let text):
                "unreadable clock '\(text)': give an RFC 3339 instant (2026-12-02T07:30:00Z) or an offset in seconds (-3600, +86400)"
            }
        }
    }

    /// Reads an instant or an offset (see the type's documentation); empty text is the system clock.
    public static func parse(_ text: String, realNow: Date = Date()) throws -> BridgeClock {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .system }
        if let first = trimmed.first, first == "+" || first == "-" || first.isNumber, !trimmed.contains("T"),
           let seconds = Double(trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed), seconds.isFinite {
            return BridgeClock(offset: seconds)
        }
        if let instant = Timestamps.instant(trimmed) { return BridgeClock(startingAt: instant, realNow: realNow) }
        throw ParseError.unreadable(trimmed)
    }

    /// `BRIDGE_CLOCK` from the environment, or the system clock when it is unset.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BridgeClock {
        try parse(environment["BRIDGE_CLOCK"] ?? "")
    }

    /// `--clock` when given, else `BRIDGE_CLOCK`, else the system clock.
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BridgeClock {
        if let flag { return try parse(flag) }
        return try fromEnvironment(environment)
    }
}

extension BridgeClock {
    /// The local calendar date at `instant` in `zone`, as YYYY-MM-DD.
    public static func localDay(of instant: Date, in zone: TimeZone) -> String {
        WallClock(of: instant, in: zone).isoDay
    }

    /// The last business day that is over for every one of `zones` at `instant`: the day before the
    /// earliest of their local dates. A store day generated for it never meets a ticket rung up "now".
    public static func lastFinishedDay(at instant: Date, zones: [TimeZone]) -> String {
        let earliest = zones.map { localDay(of: instant, in: $0) }.min() ?? localDay(of: instant, in: TimeZone(identifier: "UTC")!)
        return day(earliest, plus: -1)
    }

    /// `day` (YYYY-MM-DD) moved by `days` calendar days.
    public static func day(_ day: String, plus days: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = day.split(separator: "-").compactMap { Int($0) }
        precondition(parts.count == 3, "a day is YYYY-MM-DD, got \(day)")
        let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12))!
        return localDay(of: calendar.date(byAdding: .day, value: days, to: date)!, in: calendar.timeZone)
    }
}
