import BridgeClock
import Foundation
import Synchronization
import SimulatorKit

/// Fiscal years are calendar years of twelve monthly periods. Posting is allowed only on days
/// inside the open range (default: 1 January of the previous year through 31 December of this one).
public final class FiscalCalendar: Sendable {
    public struct OpenRange: Sendable, Equatable {
        /// Inclusive `YYYY-MM-DD` bounds.
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }

        public static func defaultRange(now: Date) -> OpenRange {
            let year = Int(Timestamps.day(now).prefix(4))!
            return OpenRange(from: "\(year - 1)-01-01", to: "\(year)-12-31")
        }
    }

    public struct Period: Sendable, Equatable {
        public let year: String
        public let period: String
    }

    private let range: Mutex<OpenRange>

    public init(open: OpenRange) { range = Mutex(open) }

    public var open: OpenRange { range.withLock { $0 } }

    public func reopen(_ open: OpenRange) { range.withLock { $0 = open } }

    /// The period of a posting day (`YYYY-MM-DD...`), or nil when the day is not in an open period.
    public func openPeriod(forDay day: String) -> Period? {
        let key = String(day.prefix(10))
        guard key.count == 10, Timestamps.parse(key) != nil else { return nil }
        let open = self.open
        guard key >= open.from, key <= open.to else { return nil }
        return Period(year: String(key.prefix(4)), period: String(key.dropFirst(5).prefix(2)))
    }
}
