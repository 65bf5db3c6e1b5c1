import ArgumentParser
import FraudScoring
import Foundation

struct Backtest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a rule file would have done on stored history: counts per rule and per action.")

    @Argument(help: "Rule file.")
    var rules: String

    @Option(help: "History (JSON Lines of labelled events, from `fraud-lab generate`).")
    var history: String

    @Option(help: "Model that gives :risk_score: (without one, every risk score is 0).")
    var model: String?

    func run() async throws {
        let ruleSet = try RuleParser.parse(String(contentsOfFile: rules, encoding: .utf8), file: rules)
        let scoringModel = try model.map(FraudModel.load(path:)) ?? .unscored
        if model == nil { print("no --model: :risk_score: is 0 for every event") }
        // The console's replay (one pass, counted as it goes): the counts of `assess` then `BacktestReport.run`, without
        // every event's assessment held.
        var batches = EventBatches(try HistoryFile.read(path: history))
        print(try await HistoryReplay.backtest(&batches, model: scoringModel, rules: [ruleSet])[0].text())
    }
}
