import Accounting
import ArgumentParser
import BridgeSettings
import Foundation
import Logging
import MappingEditor
import SageConnector

/// `bridgectl mapping`: the console's mapping page from the command line (docs/MAPPING.md).
struct MappingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapping",
        abstract: "The GL mapping: check a file against Sage and the last 30 days, compare it with the one in force, versions.",
        discussion: "Sage through the Web API (SAGE_URL, SAGE_COMPANY, SAGE_USER, SAGE_PASSWORD[_FILE]); Heartland's last 30 days from heartland-ingest's inbox.",
        subcommands: [Validate.self, Diff.self, History.self, Restore.self, Init.self])

    struct Files: ParsableArguments {
        @Option(help: "The mapping file in force (the transformer's). Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
        var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"
        @Option(help: "The mapping's versions (SQLite, the console's). Default: $BRIDGE_MAPPING_VERSIONS or var/mapping-versions.sqlite.")
        var versions: String = EnvironmentReader.current.value("BRIDGE_MAPPING_VERSIONS") ?? "var/mapping-versions.sqlite"
        @Option(help: "heartland-ingest's inbox, read-only. Default: $BRIDGE_INGEST_INBOX or var/heartland-ingest.sqlite.")
        var ingestInbox: String = EnvironmentReader.current.value("BRIDGE_INGEST_INBOX") ?? "var/heartland-ingest.sqlite"

        func workbench(sage needed: Bool) throws -> MappingWorkbench {
            var sage: (any SageChartReader)?
            if needed {
                let settings: SageSettings
                do { settings = try SageSettings() } catch { throw ValidationError(error.description) }
                guard case .webAPI(let connection) = settings else {
                    throw ValidationError("the chart of accounts is read through the Web API: set SAGE_MODE=http and SAGE_URL")
                }
                var logger = Logger(label: "bridgectl")
                logger.logLevel = .error
                sage = SageWebAPIClient(connection: connection, logger: logger)
            }
            let history = FileManager.default.fileExists(atPath: ingestInbox) ? ingestInbox : nil
            var workbench = MappingWorkbench(mappingPath: mapping, versions: try MappingVersions(path: versions), sage: sage, historyPath: history)
            // The command line waits for the whole check (the console answers with its progress after a few seconds).
            workbench.checkWait = .seconds(24 * 3600)
            return workbench
        }
    }

    static func read(_ path: String) throws -> MappingDocument {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("\(path) cannot be read") }
        do { return try MappingDocument(yaml: text, source: path) } catch { throw ValidationError(error.description) }
    }

    static func print(_ check: MappingCheck) {
        Swift.print("checked against \(check.sageAccounts) Sage accounts, \(check.batches) closed batch(es) and \(check.payRuns) pay run(s) since \(check.since)")
        for problem in check.problems { Swift.print("\(problem.severity == .error ? "refused" : "note"): \(problem.message)") }
        Swift.print(check.passed ? "the mapping passes" : "the mapping cannot be saved: \(check.errors.count) problem(s)")
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a mapping file as the page does before a save: accounts exist and are active in Sage, the last 30 days are covered and balance. Exit 1 when it would be refused.")
        @OptionGroup var files: Files
        @Argument(help: "The file to check. Default: the mapping in force.") var file: String?
        @Flag(help: "Print the check as JSON.") var json = false

        func run() async throws {
            let workbench = try files.workbench(sage: true)
            let check = try await workbench.check(try MappingCommand.read(file ?? files.mapping))
            if json { Swift.print(try Output.json(check)) } else { MappingCommand.print(check) }
            if !check.passed { throw ExitCode(1) }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The rules whose account a file changes against the mapping in force; with --batch, that posted day's journal with the file beside what Sage holds.")
        @OptionGroup var files: Files
        @Argument(help: "The changed mapping file.") var file: String
        @Option(help: "A closed batch heartland-ingest kept (a store day already posted): preview its journal.") var batch: String?

        func run() async throws {
            let workbench = try files.workbench(sage: batch != nil)
            let candidate = try MappingCommand.read(file)
            let changes = try MappingCommand.read(files.mapping).changes(to: candidate)
            if changes.isEmpty { Swift.print("no rule changes its account") }
            let names = candidate.rules.accounts
            Swift.print(Output.table(["rule", "in force", "in \(file)"], changes.map {
                [$0.rule, $0.before ?? "(none)", ($0.after ?? "(none)") + ($0.after.map { " " + (names[AccountNumber($0)] ?? "") } ?? "")]
            }))
            guard let batch else { return }
            for preview in try await workbench.preview(candidate, batchID: batch) {
                Swift.print("\n\(preview.reference) (store \(preview.store), \(preview.businessDate)): "
                            + (preview.sageBatch.map { "Sage batch \($0)" } ?? "Sage holds nothing under this reference") + ", \(preview.differences) difference(s)")
                func side(_ line: JournalPreview.Line?) -> [String] {
                    guard let line else { return ["", ""] }
                    return [line.account, (line.cents < 0 ? "-" : "") + Money.decimalString(Int64(line.cents.magnitude))]
                }
                Swift.print(Output.table(["line", "account", "amount", "Sage account", "Sage amount", "difference"], preview.rows.map {
                    [$0.description] + side($0.proposed) + side($0.sage) + [$0.status == .same ? "" : $0.status.rawValue]
                }))
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every saved version of the mapping, newest first (`--show N` prints one's text).")
        @OptionGroup var files: Files
        @Option(help: "Print this version's text.") var show: Int64?

        func run() async throws {
            let versions = try MappingVersions(path: files.versions)
            if let show {
                Swift.print(try await versions.version(show).text, terminator: "")
                return
            }
            let all = try await versions.versions()
            guard !all.isEmpty else {
                Swift.print("no version saved yet in \(files.versions)")
                return
            }
            Swift.print(Output.table(["version", "saved", "by", "why", ""], all.map {
                ["\($0.id)", $0.savedAt, $0.actor, $0.why, $0.restoredFrom.map { "restores \($0)" } ?? ""]
            }))
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save an earlier version again as a new version, after the same checks as a save (the transformer picks it up).")
        @OptionGroup var files: Files
        @Argument(help: "The version to restore.") var version: Int64
        @Option(help: "Why (kept with the version).") var why: String
        @Option(help: "Who (kept with the version). Default: $USER.") var actor: String = EnvironmentReader.current.value("USER") ?? "bridgectl"

        func run() async throws {
            let workbench = try files.workbench(sage: true)
            do {
                let (saved, check) = try await workbench.restore(version, actor: actor, why: why)
                MappingCommand.print(check)
                Swift.print("restored version \(version) as version \(saved.id) in \(files.mapping)")
            } catch let failure as MappingWorkbench.Failure {
                if case .refused(let check) = failure { MappingCommand.print(check) }
                throw ValidationError(failure.description)
            }
        }
    }

    /// Compose's one-shot `mapping-init`: the deployment's mapping lives on a volume the console writes (docs/DEPLOYMENT.md),
    /// seeded once from the file shipped in Config/; what the console saved since is never overwritten.
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a mapping file at the mapping path when none is there yet (a deployment's first start); a mapping already there is kept.")
        @Option(help: "The mapping file in force (the transformer's). Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
        var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"
        @Option(help: "The mapping to start from (checked by the loader's rules before it is written).") var from: String

        func run() async throws {
            if FileManager.default.fileExists(atPath: mapping) {
                _ = try MappingCommand.read(mapping)
                Swift.print("\(mapping) is there already: kept")
                return
            }
            let document = try MappingCommand.read(from)
            do { try Data(document.text.utf8).write(to: URL(fileURLWithPath: mapping), options: .atomic) } catch {
                throw ValidationError("\(mapping) cannot be written: \(error.localizedDescription)")
            }
            Swift.print("\(from) copied to \(mapping)")
        }
    }
}
