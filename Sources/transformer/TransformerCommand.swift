import Accounting
import ArgumentParser
import BridgeSettings
import Foundation
import Transformer
import WorkerRuntime

@main
struct TransformerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transformer", abstract: "Turn Heartland events into balanced Sage journals with the mapping file.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "Mapping file, read again when it changes. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
    var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"

    func run() async throws {
        Worker.bootstrap("transformer", options: worker)
        // Read again whenever the file changes (a save from the console's mapping page): no restart needed.
        let source = try MappingFileSource(path: mapping)
        try await Worker.run(stage: "transformer", handler: TransformerHandler(mapping: source), options: worker)
    }
}
