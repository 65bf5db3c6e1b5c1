import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory a large message left free back to the system. glibc's malloc keeps what a 20 MB batch event freed
/// in its arenas, so a worker that handled one stayed at the size of its busiest moment until it exited (heartland-ingest
/// idled at 102 MB after start-up, 60 MB of it freed memory kept; issue 21). `malloc_trim(0)` hands the free pages back;
/// it is looked up at run time (glibc has it, other C libraries may not: then nothing happens).
public enum FreedMemory {
    /// Bodies of at least this many bytes are large enough to trim after.
    public static let largeBody = 1 << 20

    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim = function("malloc_trim", as: Trim.self)

    /// The C library's function of that name, looked up at run time; nil where there is none.
    private static func function<F>(_ name: String, as type: F.Type) -> F? {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }

    /// Returns the free pages of every arena to the system (a few milliseconds; call it after large work, not per message).
    public static func release() {
        _ = trim?(0)
    }

    private typealias Option = @convention(c) (Int32, Int32) -> Int32

    private static let option = function("mallopt", as: Option.self)

    /// The allocator's settings every worker starts with (`Bootstrap.run`, once, before the worker's threads allocate);
    /// nothing happens where there is no `mallopt`.
    public static func configure() {
        mapLargeBlocksApart()
        oneArenaACore()
    }

    /// Blocks of 128 KiB or more are mapped on their own and unmapped when freed, whatever was freed before. glibc otherwise
    /// raises that threshold to the size of the largest mapped block freed (up to 32 MiB), so after a batch event's 98 MB
    /// body the pieces of the next one came from the arenas and stayed there: `transformer bench` on the 100,000-ticket
    /// event three times, peak 372 MB, 334 MB with the threshold fixed (the same as `MALLOC_MMAP_THRESHOLD_=131072`).
    static func mapLargeBlocksApart() {
        _ = option?(-3 /* M_MMAP_THRESHOLD */, 128 << 10)
    }

    /// At most one arena a core, not glibc's eight: each arena keeps its own free blocks and partly used pages, which no
    /// trim returns, and a worker's threads (NIO's, Dispatch's, the cooperative pool, SQLite's queues) had spread a large
    /// day's start-up over 16 of them on two cores: heartland-ingest's heap 9.3 MB for 4.8 MB in use (issue 21). More
    /// threads than cores cannot all allocate at once anyway. The environment's `MALLOC_ARENA_MAX` wins, as glibc reads it.
    static func oneArenaACore() {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = option?(-8 /* M_ARENA_MAX */, Int32(clamping: max(2, ProcessInfo.processInfo.activeProcessorCount)))
    }
}
