import ArgumentParser

/// The offline tools of the fraud scoring (docs/FRAUD.md): labelled histories generated with the Heartland simulator's
/// store days, model training, evaluation, backtests, benchmarks and the evaluation through the running pipeline. Apart
/// from `fraud-scorer` so that the production worker links neither the simulator nor these tools.
@main
struct FraudLabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fraud-lab",
        abstract: "The offline tools of the fraud-scorer's scoring: generate, train, evaluate, backtest, bench, pipeline (docs/FRAUD.md).",
        subcommands: [Generate.self, Train.self, Evaluate.self, Backtest.self, Bench.self, Pipeline.self])
}
