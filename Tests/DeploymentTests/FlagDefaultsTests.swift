import Foundation
import TestPrograms
import Testing

/// Every executable takes a flag not given from the environment through `EnvironmentReader` (issue 22; the shared
/// worker options are tested in WorkerOptionsTests): a path from a variable, trimmed, is the default `--help` shows, and
/// a malformed number in a variable stops the program before it starts, with the variable's name, instead of silently
/// becoming the default.
@Suite struct FlagDefaultsTests {
    static func run(_ executable: String, _ arguments: [String], _ environment: [String: String]) async throws -> CommandResult {
        try await ChildProcess.run(Repository.binDirectory().appendingPathComponent(executable), arguments, environment: environment,
                                   deadline: .seconds(60))
    }

    /// Help text with its line breaks and indentation made single spaces (ArgumentParser wraps it to the terminal).
    static func flattened(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test(arguments: [
        ("fraud-scorer", ["serve", "--help"], "BRIDGE_REVIEW_DB"),
        ("transformer", ["--help"], "BRIDGE_MAPPING"),
        ("sage-loader", ["--help"], "BRIDGE_LEDGER"),
        ("heartland-ingest", ["--help"], "BRIDGE_INBOX"),
        ("sage-ingest", ["--help"], "BRIDGE_SYNC_STATE"),
        ("heartland-loader", ["--help"], "BRIDGE_LEDGER"),
        ("alerter", ["--help"], "BRIDGE_OPERATIONS_DB"),
        ("bridgectl", ["review", "list", "--help"], "BRIDGE_REVIEW_DB"),
    ])
    func aPathFromTheEnvironmentIsTheDefault(executable: String, arguments: [String], variable: String) async throws {
        let help = try await Self.run(executable, arguments, [variable: " /from/\(variable.lowercased()) \n"])
        #expect(help.succeeded, "\(help.error)")
        #expect(Self.flattened(help.output).contains("(default: /from/\(variable.lowercased()))"), "\(executable): \(help.output)")
    }

    @Test(arguments: [
        ("fraud-scorer", "BRIDGE_PREFETCH", "many", "BRIDGE_PREFETCH must be a whole number in 1…65535, not 'many'"),
        ("transformer", "BRIDGE_CONCURRENCY", "0", "BRIDGE_CONCURRENCY must be a whole number of at least 1, not '0'"),
        ("heartland-ingest", "HEARTLAND_POLL_SECONDS", "soon", "HEARTLAND_POLL_SECONDS must be a number of seconds of at least 0, not 'soon'"),
        ("heartland-ingest", "BRIDGE_WEBHOOK_PORT", "http", "BRIDGE_WEBHOOK_PORT must be a whole number in 0…65535, not 'http'"),
        ("sage-ingest", "SAGE_POLL_SECONDS", "0", "SAGE_POLL_SECONDS must be a number of seconds greater than 0, not '0'"),
        ("alerter", "BRIDGE_CONSOLE_PORT", "http", "BRIDGE_CONSOLE_PORT must be a whole number in 0…65535, not 'http'"),
    ])
    func aMalformedNumberStopsTheProgramWithTheVariablesName(executable: String, variable: String, value: String, message: String) async throws {
        let refused = try await Self.run(executable, [], [variable: value])
        #expect(!refused.succeeded)
        #expect(Self.flattened(refused.error).contains(message), "\(executable): \(refused.error)")
    }
}
