import Accounting
import BridgeClock
import Foundation
import GRDB
import Messaging

/// Every saved version of a configuration file — the mapping, or the fraud rules (`validate` says which text is
/// acceptable) — who, when, why and the whole text, in a small SQLite store. The file on disk stays the source of
/// truth (the transformer or the fraud-scorer reads it, git reviews it); a save writes the file and records the
/// version in one transaction, and a restore is a new version whose text is an earlier one's.
public final class MappingVersions: Sendable {
    public struct Version: Codable, Sendable, Equatable {
        public var id: Int64
        /// RFC 3339.
        public var savedAt: String
        public var actor: String
        public var why: String
        public var text: String
        /// The version this one restored, if it is a restore.
        public var restoredFrom: Int64?
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case notFound(Int64)
        case unchanged
        case missingWhy

        public var description: String {
            switch self {
            case .notFound(let id): "no mapping version \(id)"
            case .unchanged: "the mapping is unchanged: nothing to save"
            case .missingWhy: "say why (it is kept with the version)"
            }
        }
    }

    /// The actor of a version recorded because the file on disk differed from the last version saved here.
    public static let foundOnDisk = "(file on disk)"

    private let database: DatabasePool
    private let validate: @Sendable (_ text: String, _ source: String) throws -> Void

    /// `validate` refuses a text that must not be saved; by default, a mapping that does not validate.
    public init(path: String, validate: @escaping @Sendable (_ text: String, _ source: String) throws -> Void = { text, source in
        _ = try MappingDocument(yaml: text, source: source)
    }) throws {
        self.validate = validate
        database = try SQLiteFile.pool(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("mapping-version-v1") { db in
            try db.create(table: "mapping_version") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("saved_at", .text).notNull()
                t.column("actor", .text).notNull()
                t.column("why", .text).notNull()
                t.column("text", .text).notNull()
                t.column("restored_from", .integer)
            }
        }
        try database.migrate(migrator)
    }

    /// Every version, newest first.
    public func versions() async throws -> [Version] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM mapping_version ORDER BY id DESC").map(Self.version) }
    }

    public func version(_ id: Int64) async throws -> Version {
        let found = try await database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM mapping_version WHERE id = ?", arguments: [id]).map(Self.version) }
        guard let found else { throw Failure.notFound(id) }
        return found
    }

    /// Writes `text` to `file` and records it as a new version. The text must validate (`validate`); when the
    /// file on disk is not the last version recorded here (a first save, or an edit by hand), it is recorded first,
    /// so that it can be restored too. The file is replaced atomically (a reader sees the old or the new file whole).
    @discardableResult
    public func save(_ text: String, to file: String, actor: String, why: String, restoring: Int64? = nil, now: Date = Date()) async throws -> Version {
        guard !why.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw Failure.missingWhy }
        try validate(text, file)
        let stamp = Timestamps.iso8601(now)
        return try await database.write { db in
            let onDisk = try? String(contentsOfFile: file, encoding: .utf8)
            let last = try String.fetchOne(db, sql: "SELECT text FROM mapping_version ORDER BY id DESC LIMIT 1")
            if let onDisk, onDisk != last {
                try db.execute(sql: "INSERT INTO mapping_version (saved_at, actor, why, text) VALUES (?, ?, ?, ?)",
                               arguments: [stamp, Self.foundOnDisk, "the file as found before this save", onDisk])
            }
            guard onDisk != text else { throw Failure.unchanged }
            try db.execute(sql: "INSERT INTO mapping_version (saved_at, actor, why, text, restored_from) VALUES (?, ?, ?, ?, ?)",
                           arguments: [stamp, actor, why, text, restoring])
            let id = db.lastInsertedRowID
            // Inside the transaction: a file that cannot be written leaves no version behind.
            try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
            return Version(id: id, savedAt: stamp, actor: actor, why: why, text: text, restoredFrom: restoring)
        }
    }

    /// A new version whose text is version `id`'s.
    @discardableResult
    public func restore(_ id: Int64, to file: String, actor: String, why: String, now: Date = Date()) async throws -> Version {
        let earlier = try await version(id)
        return try await save(earlier.text, to: file, actor: actor, why: why, restoring: id, now: now)
    }

    private static func version(_ row: Row) -> Version {
        Version(id: row["id"], savedAt: row["saved_at"], actor: row["actor"], why: row["why"], text: row["text"], restoredFrom: row["restored_from"])
    }
}
