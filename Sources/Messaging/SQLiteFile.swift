import Foundation
import GRDB

/// How every worker opens its SQLite file (inbox, ledger, operations store): the folder is created if
/// missing, writers wait up to 10 s for a lock, and a pool means WAL, so a reader (a test, an operator's
/// `bridgectl report`) never blocks the writing worker. One pool per file and process: stores that
/// share a file (the loaders' ledger and customer links, the alerter's operations store and customer
/// reviews) share its pool. Every pool opened here gives its caches back when the process is at rest
/// (`AtRest`). The conventions are in docs/ARCHITECTURE.md, "SQLite files".
public enum SQLiteFile {
    public static func pool(path: String) throws -> DatabasePool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let pool = try openedDespiteAConcurrentWALSwitch {
            try DatabasePool(path: path, configuration: configuration(readonly: false))
        }
        AtRest.keep(pool)
        return pool
    }

    /// Processes that open a new file at the same moment each switch it to WAL. SQLite answers one of them
    /// SQLITE_BUSY at once, without waiting out the busy timeout (both hold a shared lock and want an exclusive
    /// one: waiting would deadlock), so the loser opens again, after a short pause, until the winner is done
    /// (at most 10 s). Opening happens once, as a process starts.
    static func openedDespiteAConcurrentWALSwitch(_ open: () throws -> DatabasePool) throws -> DatabasePool {
        let deadline = ContinuousClock.now + .seconds(10)
        var pause = 0.002
        while true {
            do {
                return try open()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: pause)  // blocking-ok: milliseconds, only while another process opens the same new file
                pause = min(pause * 2, 0.1)
            }
        }
    }

    /// Another process's file, read only (the console reads the fraud-scorer's feature store and
    /// heartland-ingest's inbox): it must exist, and neither it nor its tables are created or migrated.
    public static func readOnlyPool(path: String) throws -> DatabasePool {
        let pool = try DatabasePool(path: path, configuration: configuration(readonly: true))
        AtRest.keep(pool)
        return pool
    }

    private static func configuration(readonly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readonly
        configuration.busyMode = .timeout(10)
        return configuration
    }
}

extension DatabaseWriter {
    /// Brings a store's tables to its newest schema when the store opens: the migrations this file has not
    /// had yet run in order, each in its own transaction, and are recorded in `grdb_migrations`. Stores
    /// sharing a file each have their own migrator, with identifiers that name the store.
    ///
    /// The one synchronous write of a store: it runs while the process starts, before anything is served;
    /// every later access is `async` (a process already serving migrates with the `async` form).
    public func migrate(_ migrator: DatabaseMigrator) throws {
        // Another process that opened the same file at the same moment may record a migration first (every migration is
        // idempotent; the second to record it fails on `grdb_migrations`' key): what is left is read again. Each such failure
        // means one more migration is done, so there are at most as many as the migrator has.
        for attempt in 0... {
            do {
                return try migrator.migrate(self)  // blocking-ok: a store's tables are made at start-up, before it serves anything
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT && attempt < migrator.migrations.count {}
        }
    }

    /// `migrate(_:)` from a process that is already serving (the console opens the fraud-scorer's review
    /// store on first use): the migrations run on the writer's queue, no cooperative thread waits.
    public func migrate(_ migrator: DatabaseMigrator) async throws {
        for attempt in 0... {
            do {
                return try await migrateOnce(migrator)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT && attempt < migrator.migrations.count {}
        }
    }

    private func migrateOnce(_ migrator: DatabaseMigrator) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            migrator.asyncMigrate(self) { result in continuation.resume(with: result.map { _ in () }) }
        }
    }
}

extension Database {
    /// A migration's step for a column added after a table's first release: files whose table already has
    /// it (made by a version of the store that added it by hand, before it had a migrator) are left as they are.
    public func addColumnIfMissing(_ column: String, to table: String, definition: String) throws {
        guard try !columns(in: table).contains(where: { $0.name == column }) else { return }
        try execute(sql: "ALTER TABLE \(table) ADD COLUMN \(column) \(definition)")
    }
}
