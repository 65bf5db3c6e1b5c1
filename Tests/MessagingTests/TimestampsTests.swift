import BridgeClock
import Foundation
import Testing

/// The one RFC 3339 formatter writes what the `ISO8601DateFormatter`s it replaced wrote, byte for byte (notices, headers
/// and stored rows), and reads instants with or without fractional seconds.
@Suite struct TimestampsTests {
    /// What the replaced code did: a new formatter per call.
    static func formatter(fractional: Bool) -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        if fractional { formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds] }
        return formatter
    }

    @Test func writesWhatTheFormattersItReplacedWrote() {
        let millis = Self.formatter(fractional: true), seconds = Self.formatter(fractional: false)
        // Instants on and between milliseconds, and within half a millisecond of the next second (where rounding shows).
        var instants = [0, 1_796_000_000, 1_796_000_000.0005, 1_796_000_000.0004, 1_796_000_000.9995, 1_796_000_000.9999, 1_796_291_671.1105928,
                        -1.5, 1_795_186_800.123].map { Date(timeIntervalSince1970: $0) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { instants.append(Date(timeIntervalSince1970: Double.random(in: 0..<4_000_000_000, using: &rng))) }
        for instant in instants {
            #expect(Timestamps.iso8601Millis(instant) == millis.string(from: instant), "\(instant.timeIntervalSince1970)")
            #expect(Timestamps.iso8601(instant) == seconds.string(from: instant), "\(instant.timeIntervalSince1970)")
        }
        #expect(Timestamps.iso8601Millis(Date(timeIntervalSince1970: 1_796_000_000.9999)) == "2026-11-30T00:53:21.000Z")
        #expect(Timestamps.iso8601(Date(timeIntervalSince1970: 1_795_186_800)) == "2026-11-20T15:00:00Z")
        #expect(Timestamps.iso8601(Date(timeIntervalSince1970: 1_795_186_800), in: TimeZone(identifier: "America/New_York")!)
                    == "2026-11-20T10:00:00-05:00")
    }

    @Test func readsInstantsWithOrWithoutFractionalSecondsAndWritesThemBack() throws {
        #expect(Timestamps.instant("2026-11-20T15:00:00Z") == Date(timeIntervalSince1970: 1_795_186_800))
        #expect(Timestamps.instant("2026-11-20T10:00:00-05:00") == Date(timeIntervalSince1970: 1_795_186_800))
        let fractional = try #require(Timestamps.instant("2026-11-20T15:00:00.111Z"))
        #expect(abs(fractional.timeIntervalSince1970 - 1_795_186_800.111) < 0.000_01)
        #expect(Timestamps.iso8601Millis(fractional) == "2026-11-20T15:00:00.111Z", "read and written back unchanged")
        for unreadable in ["", "now", "2026-11-20", "2026-11-20 15:00:00Z", "20/11/2026 15:00", "2026-11-20T15:00"] {
            #expect(Timestamps.instant(unreadable) == nil, "\(unreadable)")
        }
        #expect(Timestamps.parse("2026-11-20") == Date(timeIntervalSince1970: 1_795_132_800), "the simulators also take a bare day")
    }

    @Test func durationsInTheirUnits() {
        let duration = Duration.seconds(2) + .milliseconds(345) + .nanoseconds(6)
        #expect(duration.milliseconds == 2_345)
        #expect(duration.nanoseconds == 2_345_000_006)
        #expect(abs(duration.seconds - 2.345_000_006) < 1e-12)
    }
}
