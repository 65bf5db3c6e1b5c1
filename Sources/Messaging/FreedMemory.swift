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

    nonisolated(unsafe) private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    /// Returns the free pages of every arena to the system (a few milliseconds; call it after large work, not per message).
    public static func release() {
        _ = trim?(0)
    }
}
