import Foundation
import Logging
import Messaging

/// A rule file that is re-read when it changes (`Messaging.ReloadingFile`), so loss prevention can tune rules
/// without a release. A file that stops parsing keeps the last good rules in force and logs why.
public final class RuleSetFile: Sendable {
    private let file: ReloadingFile<RuleSet>

    public var path: String { file.path }

    /// Fails when the file cannot be read or parsed at start: a scorer must not start without its rules.
    public init(path: String, logger: Logger = Logger(label: "fraud-scorer.rules")) throws {
        file = try ReloadingFile(path: path, what: "rules", logger: logger) { text, path in try RuleParser.parse(text, file: path) }
    }

    /// The rules in force, re-read first if the file changed since it was last read.
    public func current() -> RuleSet { file.current() }

    /// The syntax error of the last reload attempt, if it failed.
    public var lastError: RuleSyntaxError? { file.lastError as? RuleSyntaxError }
}
