import ArgumentParser
import Foundation
import FraudScoring
import WorkerRuntime

/// The pipeline stage: the batch-level check with review holds (see `FraudScoringHandler`).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the stage (default): hold unusual settlement batches for review, forward the rest marked allowed.")

    @OptionGroup var worker: WorkerOptions
    @Option(help: "SQLite review store of held documents. Default: $BRIDGE_REVIEW_DB or var/fraud-reviews.sqlite.")
    var reviewStore: String = ProcessInfo.processInfo.environment["BRIDGE_REVIEW_DB"] ?? "var/fraud-reviews.sqlite"
    @Option(help: "SQLite history of each store's batches. Default: $BRIDGE_BATCH_HISTORY or var/fraud-batch-history.sqlite.")
    var batchHistory: String = ProcessInfo.processInfo.environment["BRIDGE_BATCH_HISTORY"] ?? "var/fraud-batch-history.sqlite"

    func run() async throws {
        let handler = FraudScoringHandler(history: try BatchHistory(path: batchHistory), reviews: try ReviewStore(path: reviewStore))
        try await Worker.run(stage: "fraud-scorer", handler: handler, options: worker)
    }
}
