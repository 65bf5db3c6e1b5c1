import AMQP
import Accounting
import BridgeClock
import Foundation
import FraudScoring
import Logging
import Messaging
import PipelineContracts

/// The stage's own time per settlement document: `FraudScoringHandler.handle` on journals carrying N
/// card sales, with the review store, batch history and feature store in SQLite files (WAL) as `serve`
/// runs them. Consecutive store days, so the feature store has history as in production. What it
/// leaves out is the broker: one more publish and consume per document, in the hop records.
enum StageBench {
    struct Figures {
        var sales: Int
        var documents: Int
        var milliseconds: [Double]
        var exceptions = 0
        var held = 0

        func line() -> String {
            let sorted = milliseconds.sorted()
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))] }
            let mean = sorted.reduce(0, +) / Double(sorted.count)
            return String(format: "%5d sales/document, %3d documents: mean %7.1f ms, p50 %7.1f ms, p95 %7.1f ms, max %7.1f ms, %5.0f µs per sale; %d exceptions, %d held",
                          sales, documents, mean, percentile(0.5), percentile(0.95), sorted.last ?? 0, mean * 1_000 / Double(sales), exceptions, held)
        }
    }

    /// Scores `days` documents of `sales` card sales each (one store, consecutive days); the first two
    /// documents warm the caches and are not counted.
    static func run(sales: Int, days: Int, model: FraudModel, folder: URL,
                    inMemoryWindowsFrom: Int = FeatureStore.inMemoryWindowsFrom) async throws -> Figures {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let path = folder.appendingPathComponent("stage-\(sales)-\(inMemoryWindowsFrom)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let scorer = FraudScorer(store: try FeatureStore(path: path + "/features.sqlite", inMemoryWindowsFrom: inMemoryWindowsFrom), model: model,
                                 ruleSet: .pipelineDefault(reviewThreshold: model.reviewThreshold))
        let reviews = try ReviewStore(path: path + "/reviews.sqlite")
        let handler = try FraudScoringHandler(history: try BatchHistory(path: path + "/history.sqlite"), reviews: reviews, scorer: scorer)
        // About 60 % of the simulator's tickets take a card.
        let traffic = try SimulatorTraffic.legitimate(.init(seed: 7, days: days + 2, stores: 1, ticketsPerStore: sales * 2))
        let byDay = Dictionary(grouping: traffic.filter { $0.kind == .sale && $0.tender == .card }) { $0.localTime.day }
        var figures = Figures(sales: sales, documents: 0, milliseconds: [])
        let clock = ContinuousClock()
        for (index, day) in byDay.keys.sorted().enumerated() {
            let message = try Self.message(Array(byDay[day]!.prefix(sales)), day: day)
            let started = clock.now
            _ = try await handler.handle(message, logger: logger)
            let elapsed = clock.now - started
            guard index >= 2 else { continue }
            figures.documents += 1
            figures.milliseconds.append(elapsed.seconds * 1_000)
        }
        figures.exceptions = try await reviews.exceptions().count
        figures.held = try await reviews.list().count
        return figures
    }

    /// A settlement document as the transformer sends it: a journal with a line per brand and the day's card sales.
    static func message(_ sales: [ScoredEvent], day: String) throws -> InboundMessage {
        let usd = try CurrencyCode("USD")
        let date = try BusinessDate(parsing: day)
        let batchID = "BAT_BENCH_\(day)"
        var byBrand: [String: Int64] = [:]
        var transactions: [CardActivity.Transaction] = []
        for sale in sales {
            let brand = sale.cardToken.map { String($0.rawValue.prefix { $0 != ":" }) } ?? "VISA"
            byBrand[brand, default: 0] += sale.amountCents
            transactions.append(CardActivity.Transaction(
                transactionId: sale.id, kind: .sale, ticketId: sale.id, ticketNumber: sale.id, brand: brand,
                cardToken: sale.cardToken.map { "\(brand):??????******\($0.rawValue.suffix(4))" }, amountCents: sale.amountCents, tipCents: 0,
                completedAt: Timestamps.iso8601(sale.occurredAt), terminal: sale.terminal, clerk: sale.clerk, entryMode: Self.heartland(sale.entryMode)))
        }
        let total = byBrand.values.reduce(0, +)
        var lines = byBrand.sorted { $0.key < $1.key }.map { brand, cents in
            JournalLine(account: AccountNumber("1210"), rule: "card/\(brand)", description: "\(brand) clearing", side: .debit,
                        amount: Money(minorUnits: cents, currency: usd))
        }
        let tax = total * 8 / 108
        lines.append(JournalLine(account: AccountNumber("4000"), rule: "revenue", description: "Sales", side: .credit,
                                 amount: Money(minorUnits: total - tax, currency: usd)))
        lines.append(JournalLine(account: AccountNumber("2200"), rule: "tax", description: "Sales tax", side: .credit,
                                 amount: Money(minorUnits: tax, currency: usd)))
        let journal = try JournalEntry.balanced(source: .settlement, reference: "HL-S01-\(day)-\(batchID)", idempotencyKey: "heartland:batch:\(batchID)",
                                                postingDate: date, description: "bench", currency: usd, lines: lines)
        let amount = Money(minorUnits: total, currency: usd)
        let totals = CardTotals(transactionCount: sales.count, salesCount: sales.count, sales: amount, refundsCount: 0, refunds: .zero(usd),
                                tips: .zero(usd), fees: .zero(usd))
        let brands = byBrand.sorted { $0.key < $1.key }.map { brand, cents in
            BrandTotals(brand: brand, totals: CardTotals(transactionCount: 0, salesCount: 0, sales: Money(minorUnits: cents, currency: usd),
                                                         refundsCount: 0, refunds: .zero(usd), tips: .zero(usd), fees: .zero(usd)))
        }
        let document = JournalDocument(journal: journal, storeID: sales.first?.store.rawValue ?? "S01",
                                       batch: SettlementBatch(id: BatchID(batchID), businessDate: date, totals: totals, brands: brands),
                                       cardActivity: CardActivity(timeZone: sales.first?.timeZone ?? "America/New_York", transactions: transactions))
        return InboundMessage(Delivery(routingKey: "sage.journal.settlement", properties: MessageProperties(
            type: "sage.journal.settlement", headers: [Header.idempotencyKey: .string(journal.idempotencyKey)]),
            body: Array(try JSONEncoder().encode(document))))
    }

    static func heartland(_ mode: ScoredEvent.EntryMode) -> String? {
        switch mode {
        case .chip: return "CHIP"
        case .contactless: return "CONTACTLESS_CHIP"
        case .swipe: return "SWIPE"
        case .keyed: return "MANUAL"
        case .none: return nil
        }
    }
}
