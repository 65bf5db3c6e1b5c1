import Accounting
import Foundation

/// One settlement batch of a store, summarised for the batch-level check: totals, refund share, card mix.
public struct BatchSummary: Codable, Sendable, Hashable {
    public var store: StoreID
    public var batchId: String
    public var businessDay: String
    public var salesCents: Int64
    public var refundCents: Int64
    public var transactionCount: Int
    /// Share of sales cents per card brand (`VISA` → 0.55); sums to 1 when there are card sales.
    public var cardMix: [String: Double]

    public init(store: StoreID, batchId: String, businessDay: String, salesCents: Int64, refundCents: Int64,
                transactionCount: Int, cardMix: [String: Double]) {
        self.store = store
        self.batchId = batchId
        self.businessDay = businessDay
        self.salesCents = salesCents
        self.refundCents = refundCents
        self.transactionCount = transactionCount
        self.cardMix = cardMix
    }

    /// Refunds as a share of sales (0 when there are no sales).
    public var refundShare: Double { salesCents > 0 ? Double(refundCents) / Double(salesCents) : 0 }

    /// Summarises scored events of one batch; `brandOf` reads the brand from a card token.
    public init(store: StoreID, batchId: String, businessDay: String, events: [ScoredEvent]) {
        var sales: Int64 = 0, refunds: Int64 = 0
        var brands: [String: Int64] = [:]
        for event in events where event.store == store {
            switch event.kind {
            case .sale:
                sales += event.amountCents
                if let token = event.cardToken { brands[Self.brand(of: token), default: 0] += event.amountCents }
            case .refund: refunds += event.amountCents
            case .void: sales -= event.amountCents
            case .decline: break
            }
        }
        let cardTotal = brands.values.reduce(0, +)
        self.init(store: store, batchId: batchId, businessDay: businessDay, salesCents: sales, refundCents: refunds,
                  transactionCount: events.filter { $0.store == store && $0.kind != .decline }.count,
                  cardMix: cardTotal > 0 ? brands.mapValues { Double($0) / Double(cardTotal) } : [:])
    }

    static func brand(of token: CardToken) -> String {
        token.rawValue.split(separator: ":").first.map(String.init) ?? "UNKNOWN"
    }
}
