import Foundation
import Accounting
import Messaging
import Yams

/// A store's opening hours in its own time zone, as minutes of the local day. Closing may be after
/// midnight (`closing` > 1440 means the next morning).
public struct StoreHours: Codable, Sendable, Hashable {
    public var opening: Int
    public var closing: Int

    public init(opening: Int, closing: Int) {
        self.opening = opening
        self.closing = closing
    }

    /// 06:30 to midnight: the simulator's stores trade from 07:00 and take returns until 23:45.
    public static let standard = StoreHours(opening: 6 * 60 + 30, closing: 24 * 60)

    /// As the hours file writes them: `07:00-22:00`, `10:00-26:00` (closing after midnight).
    public var text: String {
        String(format: "%02d:%02d-%02d:%02d", opening / 60, opening % 60, closing / 60, closing % 60)
    }

    /// 0 inside the hours, else the minutes to the nearer of the last closing and the next opening (at least 1).
    public func minutesOutside(minuteOfDay m: Int) -> Int {
        let day = 24 * 60
        let close = closing % day == 0 ? day : closing % day
        let open: Bool
        if closing > day { open = m >= opening || m < close }
        else { open = m >= opening && m < close }
        guard !open else { return 0 }
        let sinceClosing = ((m - close) % day + day) % day
        let untilOpening = ((opening - m) % day + day) % day
        return max(1, min(sinceClosing, untilOpening))
    }
}

/// Each store's opening hours, from a YAML file loss prevention keeps (`Config/store-hours.yaml`):
///
///     default: "06:30-24:00"      # stores not listed (else StoreHours.standard)
///     S01: "07:00-22:00"          # in the store's own time zone
///     S02: "10:00-26:00"          # closing after midnight: 02:00 the next morning
///
/// Read once when the fraud-scorer starts. A malformed line is an error naming the store and the value.
public struct StoreHoursFile: Sendable, Equatable {
    public var stores: [StoreID: StoreHours]
    public var fallback: StoreHours

    public init(stores: [StoreID: StoreHours] = [:], fallback: StoreHours = .standard) {
        self.stores = stores
        self.fallback = fallback
    }

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case notAMapping(String)
        case badHours(store: String, value: String)

        public var description: String {
            switch self {
            case .notAMapping(let path): "\(path): expected lines `STORE: \"HH:MM-HH:MM\"` (a YAML mapping)"
            case .badHours(let store, let value):
                "store hours of \(store): \"\(value)\" is not HH:MM-HH:MM with opening before closing (closing up to 47:59 for the next morning)"
            }
        }
    }

    public init(path: String) throws {
        let text = try ConfigurationFile.text(path, what: "store hours")
        guard let mapping = try Yams.load(yaml: text) as? [String: Any] else { throw Problem.notAMapping(path) }
        self.init()
        for (store, value) in mapping {
            let text = "\(value)"
            guard let hours = Self.parse(text) else { throw Problem.badHours(store: store, value: text) }
            if store == "default" { fallback = hours } else { stores[StoreID(store)] = hours }
        }
    }

    /// The store's hours, or the default for a store not listed.
    public func hours(of store: StoreID) -> StoreHours { stores[store] ?? fallback }

    static func parse(_ text: String) -> StoreHours? {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let opening = minutes(parts[0]), let closing = minutes(parts[1]),
              opening < 24 * 60, opening < closing, closing - opening <= 24 * 60 else { return nil }
        return StoreHours(opening: opening, closing: closing)
    }

    static func minutes(_ text: String) -> Int? {
        let hm = text.split(separator: ":")
        guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0..<48).contains(h), (0..<60).contains(m) else { return nil }
        return h * 60 + m
    }
}
