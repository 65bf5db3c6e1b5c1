import Foundation
import TestPrograms
import Testing

/// The fraud scoring's offline tools are their own executable, `fraud-lab` (issue 22): the production `fraud-scorer`
/// links neither the Heartland simulator nor the tools, and the image builds the stage only.
@Suite struct FraudLabTests {
    /// A target's `dependencies: [...]` list in Package.swift.
    static func dependencies(of target: String) throws -> String {
        let package = try Repository.text("Package.swift")
        let pattern = #"name: ""# + target + #"",\s*(?://[^\n]*\n\s*)*dependencies: \[([^\]]*)\]"#
        return try #require(try Repository.matches(of: pattern, in: package).first, "no target \(target) in Package.swift")
    }

    @Test func theProductionScorerDependsOnNoSimulatorAndTheLabDoes() throws {
        let scorer = try Self.dependencies(of: "fraud-scorer")
        for simulator in ["SimulatorKit", "HeartlandSimulator", "SageSimulator"] {
            #expect(!scorer.contains("\"\(simulator)\""), "fraud-scorer depends on \(simulator): \(scorer)")
        }
        #expect(try Self.dependencies(of: "fraud-lab").contains("\"HeartlandSimulator\""), "fraud-lab generates its days with the simulator")
    }

    @Test func theImageBuildsTheStageAndNotTheLab() throws {
        let dockerfile = try DockerfileTests.instructions().joined(separator: "\n")
        let loop = try #require(try Repository.matches(of: #"for exe in ([a-z -]+); do"#, in: dockerfile).first, "no `for exe in …` build loop")
        let built = Set(loop.split(separator: " ").map(String.init))
        #expect(built.contains("fraud-scorer"))
        #expect(!built.contains("fraud-lab"), "nothing in the image trains or evaluates; Config/fraud-model.json is shipped trained")
        #expect(try Repository.executableProducts().contains("fraud-lab"))
    }

    /// The stage answers only to `serve` (and to nothing: serve is the default); the tools are gone from it.
    @Test func theScorerHasOnlyServeAndTheLabHasTheTools() async throws {
        let scorer = try await ChildProcess.run(Repository.binDirectory().appendingPathComponent("fraud-scorer"), ["--help"], deadline: .seconds(60))
        #expect(scorer.succeeded, "\(scorer.error)")
        #expect(scorer.output.contains("serve"))
        for tool in ["generate", "train", "evaluate", "backtest", "bench", "pipeline"] {
            #expect(!scorer.output.contains("  \(tool) "), "fraud-scorer --help still lists \(tool)")
        }
        let lab = try await ChildProcess.run(Repository.binDirectory().appendingPathComponent("fraud-lab"), ["--help"], deadline: .seconds(60))
        #expect(lab.succeeded, "\(lab.error)")
        for tool in ["generate", "train", "evaluate", "backtest", "bench", "pipeline"] {
            #expect(lab.output.contains("  \(tool) "), "fraud-lab --help does not list \(tool)")
        }
    }
}
