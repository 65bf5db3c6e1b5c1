/// Fraud scoring for the `fraud-scorer` stage (issue 6), without a broker:
///
/// * `ScoredEvent` — what is scored: a card sale, refund, void or decline, built from Heartland data.
/// * `FeatureStore` — the SQLite history the features are computed from (velocity, baselines, refunds, voids).
/// * `FraudModel` / `LogisticRegression` — the learned model: a 0–100 score with the reasons behind it.
/// * `RuleSet` / `RuleSetFile` — rules as data (`review if :refund_unlinked: and :amount: > 50000`), hot-reloaded.
/// * `FraudDecision` / `ReviewStore` — allow, review, block; held documents released exactly once.
/// * `SettlementSales` / `FraudException` — a settlement batch's card sales scored one by one; the ones
///   sent to review while the batch posts are exceptions an analyst acknowledges.
/// * `FraudScoringHandler` — the pipeline stage that carries the decisions out.
/// * `FraudInjector` / `PatternEvaluation` — labelled fraud patterns and the measured precision and recall.
///
/// docs/FRAUD.md describes the features, the model, the rule grammar and the evaluation.
public enum FraudScoring {
    /// The schema of the labelled history files (`generate`, `train`, `backtest`).
    public static let historySchema = "bridge.fraud.history.v1"
}
