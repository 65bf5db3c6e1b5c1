#if canImport(Glibc)
import Glibc
#endif
import GRDB
import Logging
import Metrics
import NIOPosix
import ServiceLifecycle
import Synchronization

/// What a worker holds for speed while it works, given back once it has come to rest: every SQLite file's page caches
/// and idle reader connections (`DatabasePool.releaseMemory`: the readers closed, the writer's cache emptied) and then
/// the free pages glibc's malloc keeps for the next allocation (`FreedMemory.release`). After a 10,000-ticket day's
/// start-up the alerter idled at 31.9 MB and heartland-ingest at 33.6 MB, 8.0 and 10.7 MB of it heap (issue 21); this
/// gave back 0.2–1.0 MB a worker, since most of what is freed lies between blocks still in use (docs/BENCHMARKS.md).
///
/// The next message pays for it: a reader connection opened again, a statement prepared again, pages read again from
/// the operating system's cache — microseconds to a few milliseconds, once, after a rest.
public enum AtRest {
    private final class Held: Sendable {
        weak let pool: DatabasePool?
        init(_ pool: DatabasePool) { self.pool = pool }
    }

    private static let held = Mutex<[Held]>([])

    /// Every pool `SQLiteFile` opens is kept here (weakly: a pool closed and let go is forgotten).
    static func keep(_ pool: DatabasePool) {
        held.withLock { held in
            held.removeAll { $0.pool == nil }
            held.append(Held(pool))
        }
    }

    /// The pools open now.
    static var pools: [DatabasePool] {
        held.withLock { $0.compactMap(\.pool) }
    }

    /// Gives back what the process holds for speed (see the type). Blocking, a few milliseconds: it waits for a pool's
    /// running accesses to end, so it runs on NIO's thread pool, never on the cooperative pool.
    public static func release() async {
        try? await NIOThreadPool.singleton.runIfActive {
            for pool in pools { pool.releaseMemory() }
            FreedMemory.release()
        }
    }

    /// The CPU time this process has used so far (all its threads).
    public static func processCPUTime() -> Duration {
        #if canImport(Glibc)
        var time = timespec()
        guard clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time) == 0 else { return .zero }
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
        #else
        return .zero
        #endif
    }
}

/// When a process is at rest after work, from its CPU time sampled at a fixed interval: an interval in which it used
/// less than `quiet` is rest, and the first rest after it used at least `quiet` in all since it last released is the
/// moment to release. A worker between messages uses microseconds an interval (heartbeats, this sampling); a message
/// handled, a page served or a metrics scrape uses milliseconds, so scrapes alone add up to a release now and then.
public struct RestWatch: Sendable, Equatable {
    public let quiet: Duration
    private var last: Duration?
    private var sinceRelease: Duration = .zero

    public init(quiet: Duration) {
        self.quiet = quiet
    }

    /// The process's CPU time now; true when it should release.
    public mutating func sample(_ cpuTime: Duration) -> Bool {
        defer { last = cpuTime }
        guard let last else { return false }
        let used = cpuTime - last
        sinceRelease += used
        guard used < quiet, sinceRelease >= quiet else { return false }
        sinceRelease = .zero
        return true
    }
}

/// Every worker's service that releases at rest (`AtRest`): samples the process's CPU time every `interval` (default
/// 5 s; rest is less than 1 % of a core in it) and releases once after work. Stops at the group's graceful shutdown.
public struct RestingMemory: Service {
    public static let defaultInterval = Duration.seconds(5)

    let interval: Duration
    let clock: any Clock<Duration>
    let logger: Logger
    let cpuTime: @Sendable () -> Duration
    let release: @Sendable () async -> Void
    let released = Counter(label: "bridge_memory_released_at_rest_total")

    public init(interval: Duration = defaultInterval, clock: any Clock<Duration> = ContinuousClock(), logger: Logger,
                cpuTime: @escaping @Sendable () -> Duration = AtRest.processCPUTime,
                release: @escaping @Sendable () async -> Void = AtRest.release) {
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.cpuTime = cpuTime
        self.release = release
    }

    public func run() async {
        await cancelWhenGracefulShutdown { [self] in
            var watch = RestWatch(quiet: interval / 100)
            _ = watch.sample(cpuTime())
            while (try? await clock.sleep(for: interval)) != nil {
                guard watch.sample(cpuTime()) else { continue }
                await release()
                released.increment()
                logger.debug("at rest after work: the memory held for speed given back")
            }
        }
    }
}
