import Foundation
import Logging
import Synchronization

/// A configuration file that is read again when its modification time or size changes, so that a person can change
/// it without a restart (the fraud rules, the GL mapping). A file that stops parsing keeps the last good value in
/// force: the error is logged, kept in `lastError` and handed to `onRejected` once per change of the file.
public final class ReloadingFile<Value: Sendable>: Sendable {
    public typealias Parse = @Sendable (_ text: String, _ path: String) throws -> Value

    public let path: String
    private let parse: Parse
    private let logger: Logger
    private let what: String
    private let onRejected: @Sendable (any Error) -> Void
    private let state: Mutex<(value: Value, stamp: FileStamp?, lastError: (any Error)?)>

    /// Fails when the file cannot be read or parsed at start: a worker must not start without it.
    /// `what` names the file in the log (`rules`, `mapping`).
    public init(path: String, what: String, logger: Logger, onRejected: @escaping @Sendable (any Error) -> Void = { _ in },
                parse: @escaping Parse) throws {
        self.path = path
        self.parse = parse
        self.logger = logger
        self.what = what
        self.onRejected = onRejected
        let stamp = FileStamp(path)
        let value = try parse(ConfigurationFile.text(path, what: what), path)
        state = Mutex((value, stamp, nil))
    }

    /// The value in force, read again first if the file changed since it was last read (a stat per call; the file is
    /// small and read only when it changed).
    public func current() -> Value {
        let stamp = FileStamp(path)
        var rejected: (any Error)?
        let value = state.withLock { state in
            guard stamp != state.stamp else { return state.value }
            state.stamp = stamp
            do {
                state.value = try parse(ConfigurationFile.text(path, what: what), path)
                state.lastError = nil
                logger.info("\(what) reloaded", metadata: ["path": "\(path)"])
            } catch {
                state.lastError = error
                rejected = error
                logger.error("\(what) not reloaded; the previous \(what) is kept in force", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            return state.value
        }
        if let rejected { onRejected(rejected) }
        return value
    }

    /// The error of the last reload attempt, if it failed (nil once a later one succeeded).
    public var lastError: (any Error)? { state.withLock { $0.lastError } }

    /// Modification time and size: a rewrite within the file system's time resolution still shows in the size.
    struct FileStamp: Equatable {
        var modified: Date?
        var size: Int?
        var inode: Int?

        init?(_ path: String) {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
            modified = attributes[.modificationDate] as? Date
            size = (attributes[.size] as? NSNumber)?.intValue
            inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue
        }
    }
}
