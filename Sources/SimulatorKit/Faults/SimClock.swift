import BridgeClock
import Foundation
import Synchronization

/// The simulator's notion of now: the bridge's clock (the system clock, or the instant set with
/// `--clock` / `BRIDGE_CLOCK`), which tests move forward through `POST /admin/clock` to expire
/// tokens or leave a downtime window without waiting.
public final class SimClock: Sendable {
    private let offset: Mutex<TimeInterval>

    public init(_ start: BridgeClock = .system) { offset = Mutex(start.offset) }

    public func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    public func advance(seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    public var offsetSeconds: TimeInterval { offset.withLock { $0 } }
}
