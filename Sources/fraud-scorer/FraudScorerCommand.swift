import ArgumentParser

@main
struct FraudScorerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fraud-scorer",
        abstract: "The fraud-scorer stage, and the tools to train, evaluate and backtest its scoring (docs/FRAUD.md).",
        subcommands: [Serve.self, Generate.self, Train.self, Evaluate.self, Backtest.self, Bench.self, Pipeline.self],
        defaultSubcommand: Serve.self)
}
