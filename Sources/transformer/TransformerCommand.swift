import Accounting
import ArgumentParser
import Foundation
import Transformer
import WorkerRuntime

@main
struct TransformerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transformer", abstract: "Turn Heartland events into balanced Sage journals with the mapping file.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "Mapping file. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
    var mapping: String = ProcessInfo.processInfo.environment["BRIDGE_MAPPING"] ?? "Config/mapping.yaml"

    func run() async throws {
        let rules = try MappingRules.load(path: mapping)
        try await Worker.run(stage: "transformer", handler: TransformerHandler(rules: rules), options: worker)
    }
}
