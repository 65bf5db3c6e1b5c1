import Foundation
import GRDB
import SimulatorKit

/// An exact Heartland state to load: what `generate` writes and `--fixture` / `POST /admin/fixtures`
/// read. JSON keys are the record fields in snake_case, money in integer cents (`*_cents`),
/// timestamps ISO 8601 UTC. Loading replaces records with the same id, so a fixture can be replayed.
public struct StoreDayFixture: Codable, Sendable, Equatable {
    public var locations: [Location] = []
    public var customers: [Customer] = []
    public var items: [Item] = []
    public var inventory: [InventoryValue] = []
    public var giftCards: [GiftCard] = []
    public var batches: [SettlementBatch] = []
    public var transactions: [CardTransaction] = []
    public var tickets: [Ticket] = []
    public var payRuns: [PayRun] = []

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        locations = try c.decodeIfPresent([Location].self, forKey: .locations) ?? []
        customers = try c.decodeIfPresent([Customer].self, forKey: .customers) ?? []
        items = try c.decodeIfPresent([Item].self, forKey: .items) ?? []
        inventory = try c.decodeIfPresent([InventoryValue].self, forKey: .inventory) ?? []
        giftCards = try c.decodeIfPresent([GiftCard].self, forKey: .giftCards) ?? []
        batches = try c.decodeIfPresent([SettlementBatch].self, forKey: .batches) ?? []
        transactions = try c.decodeIfPresent([CardTransaction].self, forKey: .transactions) ?? []
        tickets = try c.decodeIfPresent([Ticket].self, forKey: .tickets) ?? []
        payRuns = try c.decodeIfPresent([PayRun].self, forKey: .payRuns) ?? []
    }

    public static func decode(_ data: Data) throws -> StoreDayFixture {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(StoreDayFixture.self, from: data)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// Inserts or replaces everything in one transaction.
    public func load(into database: DatabasePool) async throws {
        try await database.write { db in try save(db) }
    }

    /// Inserts or replaces everything, in the caller's transaction (a simulator seeded at start-up).
    public func save(_ db: Database) throws {
        for record in locations { try record.save(db) }
        for record in customers { try record.save(db) }
        for record in items { try record.save(db) }
        for record in inventory { try record.save(db) }
        for record in giftCards { try record.save(db) }
        for record in batches { try record.save(db) }
        for record in transactions { try record.save(db) }
        for record in tickets { try record.save(db) }
        for record in payRuns { try record.save(db) }
    }

    public var summary: JSONValue {
        [
            "locations": .int(locations.count), "customers": .int(customers.count), "items": .int(items.count),
            "inventory": .int(inventory.count), "gift_cards": .int(giftCards.count), "batches": .int(batches.count),
            "transactions": .int(transactions.count), "tickets": .int(tickets.count), "pay_runs": .int(payRuns.count),
        ]
    }
}
