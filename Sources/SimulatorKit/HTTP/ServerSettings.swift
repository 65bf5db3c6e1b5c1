import ArgumentParser
import BridgeClock
import Foundation

/// What every simulator needs to start, whatever it simulates.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 0
    /// SQLite file; nil means a temporary file.
    public var databasePath: String?
    public var faults = FaultPlan()
    public var rateLimit = RateLimiter.Limit()
    /// What the simulator takes as now (ticket times, business days, batch closes, token expiry).
    public var clock = BridgeClock.system

    public init() {}
}

/// The command-line flags behind `ServerSettings`, shared by both simulators' mains.
public struct ServerFlags: ParsableArguments {
    @Option(help: "Address to listen on.") public var host = "127.0.0.1"
    @Option(help: "Port; 0 picks a free one (printed as the first stdout line).") public var port = 0
    @Option(help: "SQLite file; state survives restarts. Default: a temporary file.") public var db: String?
    @Option(help: "Fault to inject, key=value (repeatable), e.g. latency_ms=200 or error_rate=0.1.") public var fault: [String] = []
    @Option(help: "Rate limit per client as RATE/BURST (e.g. 20/100) or 'off'.") public var rateLimit = "50/200"
    @Option(help: "Now, for tests and demos: an instant (2026-12-02T07:30:00Z) or an offset in seconds (-3600). Default: $BRIDGE_CLOCK or the system clock.")
    public var clock: String?

    public init() {}

    public func settings() throws -> ServerSettings {
        var settings = ServerSettings()
        settings.host = host
        settings.port = port
        settings.databasePath = db
        do { settings.faults = try FaultPlan(flags: fault) } catch { throw ValidationError("\(error)") }
        guard let limit = RateLimiter.Limit(flag: rateLimit) else { throw ValidationError("bad --rate-limit \(rateLimit)") }
        settings.rateLimit = limit
        do { settings.clock = try BridgeClock.resolve(flag: clock) } catch { throw ValidationError("\(error)") }
        return settings
    }
}
