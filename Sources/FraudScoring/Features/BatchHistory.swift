import Accounting
import Foundation
import GRDB
import Messaging

/// The batch-level check: a settlement batch whose total, refund share or card mix is far from the
/// store's recent batches is flagged for review before its journal posts, with the reason.
public final class BatchHistory: Sendable {
    /// Batches of a store needed before anything is called unusual.
    public static let minimumHistory = 5
    static let window = 60

    private let database: any DatabaseWriter

    public init(path: String?) throws {
        database = try path.map { try SQLiteFile.pool(path: $0) } ?? DatabaseQueue()
        try database.migrate(Self.migrator)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // `IF NOT EXISTS`: a file the store wrote before it had a migrator is taken as it is.
        migrator.registerMigration("batch-history-v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS batch_summary (
                    batch_id TEXT PRIMARY KEY,
                    store TEXT NOT NULL,
                    business_day TEXT NOT NULL,
                    summary TEXT NOT NULL
                );
                CREATE INDEX IF NOT EXISTS batch_summary_store ON batch_summary(store, business_day);
                """)
        }
        return migrator
    }()

    /// Compares the batch with the store's previous batches, then records it. Empty: nothing unusual.
    public func check(_ batch: BatchSummary) async throws -> [String] {
        let json = String(decoding: try JSONEncoder().encode(batch), as: UTF8.self)
        return try await database.write { db in
            let history = try String.fetchAll(db, sql: """
                SELECT summary FROM batch_summary WHERE store = ? AND business_day < ? AND batch_id <> ?
                ORDER BY business_day DESC LIMIT ?
                """, arguments: [batch.store.rawValue, batch.businessDay, batch.batchId, Self.window])
                .compactMap { try? JSONDecoder().decode(BatchSummary.self, from: Data($0.utf8)) }
            try db.execute(sql: "INSERT OR REPLACE INTO batch_summary (batch_id, store, business_day, summary) VALUES (?, ?, ?, ?)",
                           arguments: [batch.batchId, batch.store.rawValue, batch.businessDay, json])
            return Self.unusual(batch, history: history)
        }
    }

    static func unusual(_ batch: BatchSummary, history: [BatchSummary]) -> [String] {
        guard history.count >= minimumHistory else { return [] }
        var reasons: [String] = []
        let totals = history.map { log1p(Double(max(0, $0.salesCents))) }
        let (mean, std) = meanAndStd(totals)
        let z = (log1p(Double(max(0, batch.salesCents))) - mean) / max(0.05, std)
        if abs(z) > 4 {
            reasons.append(String(format: "batch sales $%.2f are %.1f standard deviations from the store's last %d batches",
                                  Double(batch.salesCents) / 100, z, history.count))
        }
        let shares = history.map(\.refundShare)
        let (shareMean, shareStd) = meanAndStd(shares)
        if batch.refundShare > shareMean + max(0.05, 4 * shareStd) {
            reasons.append(String(format: "refunds are %.1f%% of sales against %.1f%% usually",
                                  batch.refundShare * 100, shareMean * 100))
        }
        var usualMix: [String: Double] = [:]
        for summary in history { for (brand, share) in summary.cardMix { usualMix[brand, default: 0] += share / Double(history.count) } }
        let brands = Set(usualMix.keys).union(batch.cardMix.keys)
        let distance = brands.reduce(0) { $0 + abs((batch.cardMix[$1] ?? 0) - (usualMix[$1] ?? 0)) } / 2
        if !batch.cardMix.isEmpty, distance > 0.25 {
            reasons.append(String(format: "card brand mix differs from usual by %.0f%% of card sales", distance * 100))
        }
        return reasons
    }

    static func meanAndStd(_ values: [Double]) -> (Double, Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }
}
