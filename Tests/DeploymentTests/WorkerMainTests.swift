import Foundation
import Testing

/// Every worker's main chooses its logging backend before it makes anything that logs (issue 22): a logger made
/// before `Worker.bootstrap` writes through swift-log's default handler and ignores `--log-level`.
@Suite struct WorkerMainTests {
    /// The commands that take the shared `WorkerOptions`, by file.
    static func workerCommands() throws -> [(path: String, text: String)] {
        let base = Repository.url("Sources")
        var found: [(String, String)] = []
        for case let path as String in FileManager.default.enumerator(atPath: base.path) ?? .init() where path.hasSuffix(".swift") {
            let text = try String(contentsOf: base.appendingPathComponent(path), encoding: .utf8)
            if text.contains("@OptionGroup var worker: WorkerOptions") { found.append(("Sources/\(path)", text)) }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    @Test func bootstrapIsTheFirstThingEachWorkerMainDoes() throws {
        let commands = try Self.workerCommands()
        #expect(commands.count >= 8, "every worker executable: \(commands.map(\.path))")
        for (path, text) in commands {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let run = try #require(lines.firstIndex { $0.contains("func run() async throws {") }, "\(path) has no run()")
            let first = lines[(run + 1)...].first { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.contains("//") } ?? ""
            #expect(first.contains("Worker.bootstrap("), "\(path): the first line of run() is `\(first.trimmingCharacters(in: .whitespaces))`")
            #expect(!text.contains("Logger(label:"), "\(path) makes its own logger: take the one Worker.bootstrap returns")
        }
    }
}
