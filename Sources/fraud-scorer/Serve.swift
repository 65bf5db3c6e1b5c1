import ArgumentParser
import Transformer
import WorkerRuntime

/// The pipeline stage. Still the pass-through (every journal forwarded, marked not_assessed) until the
/// scorer is wired to the broker.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the stage (default): for now forwards every journal marked not_assessed.")

    @OptionGroup var worker: WorkerOptions

    func run() async throws {
        try await Worker.run(stage: "fraud-scorer", handler: FraudPassThroughHandler(), options: worker)
    }
}
