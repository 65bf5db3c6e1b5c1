import BridgeClock
import Foundation

/// A store's business day: a calendar date in the store's own time zone, not a UTC date.
public struct BusinessDate: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init(year: Int, month: Int, day: Int) throws(BusinessDateError) {
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
              components.isValidDate(in: calendar)
        else { throw .invalidDate(String(format: "%04d-%02d-%02d", year, month, day)) }
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// `2026-11-27` (ISO) or `11/27/2026` (US, as Heartland Payroll writes it).
    public init(parsing text: String) throws(BusinessDateError) {
        let trimmed = text.trimmingWhitespace()
        let iso = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        let us = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        if iso.count == 3, iso[0].count == 4, iso[1].count == 2, iso[2].count == 2,
           let y = Int(iso[0]), let m = Int(iso[1]), let d = Int(iso[2]) {
            try self.init(year: y, month: m, day: d)
        } else if us.count == 3, us[0].count == 2, us[1].count == 2, us[2].count == 4,
                  let m = Int(us[0]), let d = Int(us[1]), let y = Int(us[2]) {
            try self.init(year: y, month: m, day: d)
        } else {
            throw .invalidDate(text)
        }
    }

    /// The local date of `instant` in `timeZone`: a sale at 23:55 in Los Angeles is on that
    /// Los Angeles day even though its UTC date is already the next one.
    public init(of instant: Date, in timeZone: StoreTimeZone) {
        let clock = WallClock(of: instant, in: timeZone.zone)
        (year, month, day) = (clock.year, clock.month, clock.day)
    }

    /// `11/27/2026`, the posting date Sage expects.
    public var sageFormat: String { String(format: "%02d/%02d/%04d", month, day, year) }
    /// `20261127`, for references.
    public var compact: String { String(format: "%04d%02d%02d", year, month, day) }
    /// `2026-11-27`.
    public var iso: String { String(format: "%04d-%02d-%02d", year, month, day) }
    public var description: String { iso }

    /// The date `days` calendar days later (earlier when negative).
    public func adding(days: Int) -> BusinessDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let noon = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12))!
        let parts = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: days, to: noon)!)
        return try! BusinessDate(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    public static func < (lhs: BusinessDate, rhs: BusinessDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}

/// An IANA time zone a store keeps its business days in, validated on creation.
public struct StoreTimeZone: Hashable, Sendable, Codable, CustomStringConvertible {
    public let identifier: String
    /// Made once a name (`WallClock.zone(named:)`), not at every ask: a house-account ticket's day asks for it.
    public var zone: TimeZone { WallClock.zone(named: identifier) }

    public init(_ identifier: String) throws(BusinessDateError) {
        guard TimeZone(identifier: identifier) != nil else { throw .unknownTimeZone(identifier) }
        self.identifier = identifier
    }

    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(identifier)
    }

    public var description: String { identifier }
}

public enum BusinessDateError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidDate(String)
    case unknownTimeZone(String)

    public var description: String {
        switch self {
        case .invalidDate(let text): "\"\(text)\" is not a calendar date (expected YYYY-MM-DD or MM/DD/YYYY)"
        case .unknownTimeZone(let id): "\"\(id)\" is not an IANA time zone (e.g. America/Los_Angeles)"
        }
    }
}
