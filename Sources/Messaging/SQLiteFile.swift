import Foundation
import GRDB

/// How every worker opens its SQLite file (inbox, ledger, operations store): the folder is created if
/// missing, writers wait up to 10 s for a lock, and a pool means WAL, so a reader (a test, an operator's
/// `bridgectl report`) never blocks the writing worker. One pool per file and process: stores that
/// share a file (the loaders' ledger and customer links) share its pool.
public enum SQLiteFile {
    public static func pool(path: String) throws -> DatabasePool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabasePool(path: path, configuration: configuration)
    }
}

extension DatabaseWriter {
    /// Creates or upgrades a store's tables when the store opens. The one synchronous write of a store:
    /// it runs while the process starts, before anything is served; every later access is `async`.
    public func prepareSchema(_ schema: (Database) throws -> Void) throws {
        try write(schema)  // blocking-ok: a store's tables are created at start-up, before it serves anything
    }
}
