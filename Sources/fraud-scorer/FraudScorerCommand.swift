import ArgumentParser

/// The fraud-scorer stage. Its offline tools (generate, train, evaluate, backtest, bench, pipeline) are `fraud-lab`.
@main
struct FraudScorerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fraud-scorer",
        abstract: "The fraud-scorer stage (docs/FRAUD.md); the tools to train, evaluate and backtest its scoring are `fraud-lab`.",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self)
}
