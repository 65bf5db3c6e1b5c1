import ArgumentParser
import Transformer
import WorkerRuntime

@main
struct FraudScorerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fraud-scorer",
        abstract: "Pass-through until fraud scoring is built: forwards every journal marked not_assessed.")

    @OptionGroup var worker: WorkerOptions

    func run() async throws {
        try await Worker.run(stage: "fraud-scorer", handler: FraudPassThroughHandler(), options: worker)
    }
}
