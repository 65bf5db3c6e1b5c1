import Foundation
import Synchronization

/// The simulator's notion of now. Tests move it forward through `POST /admin/clock` to expire
/// tokens or leave a downtime window without waiting.
public final class SimClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    public init() {}

    public func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    public func advance(seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    public var offsetSeconds: TimeInterval { offset.withLock { $0 } }
}
