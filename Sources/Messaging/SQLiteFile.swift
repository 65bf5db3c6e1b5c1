import Foundation
import GRDB

/// How every worker opens its SQLite file (inbox, ledger, operations store): the folder is created if
/// missing, writers wait up to 10 s for a lock, and a pool means WAL, so a reader (a test, an operator's
/// `bridgectl report`) never blocks the writing worker.
public enum SQLiteFile {
    public static func pool(path: String) throws -> DatabasePool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabasePool(path: path, configuration: configuration)
    }
}
