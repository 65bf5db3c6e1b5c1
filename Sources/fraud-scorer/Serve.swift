import ArgumentParser
import BridgeSettings
import FraudScoring
import WorkerRuntime

/// The pipeline stage: batch-level checks and refund scoring with review holds (see `FraudScoringHandler`).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the stage (default): hold unusual settlement batches and suspicious refunds for review, forward the rest.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "SQLite review store of held documents. Default: $BRIDGE_REVIEW_DB or var/fraud-reviews.sqlite.")
    var reviewStore: String = EnvironmentReader.current.value("BRIDGE_REVIEW_DB") ?? "var/fraud-reviews.sqlite"
    @Option(help: "SQLite history of each store's batches. Default: $BRIDGE_BATCH_HISTORY or var/fraud-batch-history.sqlite.")
    var batchHistory: String = EnvironmentReader.current.value("BRIDGE_BATCH_HISTORY") ?? "var/fraud-batch-history.sqlite"
    @Option(help: "SQLite feature store (velocity, baselines) for scoring refunds. Default: $BRIDGE_FEATURE_STORE or var/fraud-features.sqlite.")
    var featureStore: String = EnvironmentReader.current.value("BRIDGE_FEATURE_STORE") ?? "var/fraud-features.sqlite"
    @Option(help: "Model file from `fraud-lab train` (default: $BRIDGE_FRAUD_MODEL; none: rules only, risk score 0).")
    var model: String?
    @Option(help: "Rule file, re-read when it changes (default: $BRIDGE_FRAUD_RULES; none: the pipeline's default rules, see docs/FRAUD.md).")
    var rules: String?
    @Option(help: "Each store's opening hours, for the out-of-hours features (YAML `S01: \"07:00-22:00\"`, see docs/FRAUD.md). Default: $BRIDGE_STORE_HOURS; none: 06:30-24:00 everywhere.")
    var storeHours: String?

    func run() async throws {
        Worker.bootstrap("fraud-scorer", options: worker)
        // Optional files: the flag, else the variable (ArgumentParser takes no default for an optional option).
        let environment = EnvironmentReader.current
        let loaded = try (model ?? environment.value("BRIDGE_FRAUD_MODEL")).map { try FraudModel.load(path: $0) } ?? .unscored
        let hours = try (storeHours ?? environment.value("BRIDGE_STORE_HOURS")).map { try StoreHoursFile(path: $0) } ?? StoreHoursFile()
        let features = try FeatureStore(path: featureStore, hours: hours.stores, defaultHours: hours.fallback)
        let scorer = try (rules ?? environment.value("BRIDGE_FRAUD_RULES"))
            .map { FraudScorer(store: features, model: loaded, rules: try RuleSetFile(path: $0)) }
            ?? FraudScorer(store: features, model: loaded, ruleSet: .pipelineDefault(reviewThreshold: loaded.reviewThreshold))
        let handler = try FraudScoringHandler(history: try BatchHistory(path: batchHistory), reviews: try ReviewStore(path: reviewStore),
                                              scorer: scorer)
        try await Worker.run(stage: "fraud-scorer", handler: handler, options: worker)
    }
}
