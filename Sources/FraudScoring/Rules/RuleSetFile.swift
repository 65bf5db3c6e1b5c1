import Foundation
import Logging
import Synchronization

/// A rule file that is re-read when its modification time changes, so loss prevention can tune rules
/// without a release. A file that stops parsing keeps the last good rules in force and logs why.
public final class RuleSetFile: Sendable {
    public let path: String
    private let logger: Logger
    private let state: Mutex<(rules: RuleSet, stamp: FileStamp?, lastError: RuleSyntaxError?)>

    /// Fails when the file cannot be read or parsed at start: a scorer must not start without its rules.
    public init(path: String, logger: Logger = Logger(label: "fraud-scorer.rules")) throws {
        self.path = path
        self.logger = logger
        let stamp = FileStamp(path)
        let rules = try RuleParser.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
        state = Mutex((rules, stamp, nil))
    }

    /// The rules in force, re-read first if the file changed since it was last read.
    public func current() -> RuleSet {
        let stamp = FileStamp(path)
        return state.withLock { state in
            guard stamp != state.stamp else { return state.rules }
            state.stamp = stamp
            do {
                state.rules = try RuleParser.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
                state.lastError = nil
                logger.info("rules reloaded", metadata: ["path": "\(path)", "rules": "\(state.rules.rules.count)",
                                                          "lists": "\(state.rules.lists.count)"])
            } catch let error as RuleSyntaxError {
                state.lastError = error
                logger.error("rules not reloaded; the previous rules stay in force", metadata: ["error": "\(error)"])
            } catch {
                logger.error("rules not reloaded; the previous rules stay in force",
                             metadata: ["path": "\(path)", "error": "\(error)"])
            }
            return state.rules
        }
    }

    /// The syntax error of the last reload attempt, if it failed.
    public var lastError: RuleSyntaxError? { state.withLock { $0.lastError } }

    /// Modification time and size: a rewrite within the file system's time resolution still shows in the size.
    struct FileStamp: Equatable {
        var modified: Date?
        var size: Int?

        init?(_ path: String) {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
            modified = attributes[.modificationDate] as? Date
            size = (attributes[.size] as? NSNumber)?.intValue
        }
    }
}
