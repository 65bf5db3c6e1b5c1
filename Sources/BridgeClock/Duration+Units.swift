extension Duration {
    /// Whole milliseconds (for logs, headers and TTLs).
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
    /// Whole nanoseconds (for latency timers).
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    /// Seconds as a `Double` (for `Date` arithmetic, `TimeInterval` APIs and benchmark figures).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
