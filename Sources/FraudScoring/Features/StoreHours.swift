import Foundation

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
