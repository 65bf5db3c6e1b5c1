import Foundation
import GRDB
import SimulatorKit

/// An exact Heartland state to load: what `generate` writes and `--fixture` / `POST /admin/fixtures`
/// read. JSON keys are the record fields in snake_case, money in integer cents (`*_cents`),
/// timestamps ISO 8601 UTC. Loading replaces records with the same id, so a fixture can be replayed.
///
/// `raw_tickets`, `raw_transactions`, `raw_batches` hold records as Heartland serves them, kept byte for
/// byte (see `RawRecord`); `bad_documents` lists the defective ones of a generated messy day with their
/// corrections (see `BadDocument` and docs/heartland-sim-fixtures.md).
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
    public var rawTickets: [RawRecord] = []
    public var rawTransactions: [RawRecord] = []
    public var rawBatches: [RawRecord] = []
    public var badDocuments: [BadDocument] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case locations, customers, items, inventory, giftCards, batches, transactions, tickets, payRuns, badDocuments
    }

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
        badDocuments = try c.decodeIfPresent([BadDocument].self, forKey: .badDocuments) ?? []
    }

    /// The fields a plain store day had before raw records, always written; the newer ones only when
    /// there are any, so a day without them encodes as it always did.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(locations, forKey: .locations)
        try c.encode(customers, forKey: .customers)
        try c.encode(items, forKey: .items)
        try c.encode(inventory, forKey: .inventory)
        try c.encode(giftCards, forKey: .giftCards)
        try c.encode(batches, forKey: .batches)
        try c.encode(transactions, forKey: .transactions)
        try c.encode(tickets, forKey: .tickets)
        try c.encode(payRuns, forKey: .payRuns)
        if !badDocuments.isEmpty { try c.encode(badDocuments, forKey: .badDocuments) }
    }

    /// Reads fixture JSON: snake_case keys, ISO 8601 timestamps (also for one record of a fixture).
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static func decode(_ data: Data) throws -> StoreDayFixture {
        var fixture = try decoder.decode(StoreDayFixture.self, from: data)
        for kind in RawRecord.Kind.allCases {
            fixture[raw: kind] = (RawJSON.arrayElements(forKey: "raw_" + kind.plural, in: data) ?? []).map(RawRecord.init)
        }
        return fixture
    }

    /// The fixture as JSON; raw records are written after the other fields, each exactly as held.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(self)
        let raws = RawRecord.Kind.allCases.filter { !self[raw: $0].isEmpty }
        guard !raws.isEmpty, data.last == UInt8(ascii: "}") else { return data }
        data.removeLast()
        for (index, kind) in raws.enumerated() {
            if index > 0 || data.count > 1 { data.append(UInt8(ascii: ",")) }
            data.append(Data("\"raw_\(kind.plural)\":[".utf8))
            for (position, record) in self[raw: kind].enumerated() {
                if position > 0 { data.append(UInt8(ascii: ",")) }
                data.append(record.bytes)
            }
            data.append(UInt8(ascii: "]"))
        }
        data.append(UInt8(ascii: "}"))
        return data
    }

    public subscript(raw kind: RawRecord.Kind) -> [RawRecord] {
        get {
            switch kind {
            case .ticket: rawTickets
            case .transaction: rawTransactions
            case .batch: rawBatches
            }
        }
        set {
            switch kind {
            case .ticket: rawTickets = newValue
            case .transaction: rawTransactions = newValue
            case .batch: rawBatches = newValue
            }
        }
    }

    /// Inserts or replaces everything in one transaction.
    public func load(into database: DatabasePool) async throws {
        try await database.write { db in try save(db) }
    }

    /// The batches of the day this fixture opens (`OPEN`) that the database already has, in id order. Generating a day
    /// again writes its tickets over the earlier ones, which have the same ids, and leaves the earlier generation's card
    /// transactions in the batch: a batch whose settlement no longer matches its tickets, which no Heartland serves.
    public func openedBatchesAlreadyThere(in db: Database) throws -> [String] {
        let opened = batches.filter { $0.status == "OPEN" }.map(\.id)
        return try SettlementBatch.filter(opened.contains(Column("id"))).order(Column("id")).fetchAll(db).map(\.id)
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
        for kind in RawRecord.Kind.allCases { try RawRecordStore.save(db, kind, self[raw: kind]) }
    }

    public var summary: JSONValue {
        var summary: [String: JSONValue] = [
            "locations": .int(locations.count), "customers": .int(customers.count), "items": .int(items.count),
            "inventory": .int(inventory.count), "gift_cards": .int(giftCards.count), "batches": .int(batches.count),
            "transactions": .int(transactions.count), "tickets": .int(tickets.count), "pay_runs": .int(payRuns.count),
        ]
        for kind in RawRecord.Kind.allCases where !self[raw: kind].isEmpty { summary["raw_" + kind.plural] = .int(self[raw: kind].count) }
        if !badDocuments.isEmpty { summary["bad_documents"] = .int(badDocuments.count) }
        return .object(summary)
    }
}

/// A defective document of a generated messy day, and how to put it right at the source: `PUT
/// /admin/raw/{kind}s/{id}` with `corrected` (the valid record exactly as Heartland serves it), or
/// `PUT /admin/records/{kind}s/{id}` with `ticket` / `transaction` (the valid record in fixture form).
public struct BadDocument: Codable, Sendable, Equatable {
    public enum Defect: String, Codable, Sendable, CaseIterable {
        /// Ticket: a tax line one cent more than was paid (`payments` no longer add up to the total plus tips).
        case outOfBalance = "out_of_balance"
        /// Ticket: a cash tender carrying a tip (tips only ride on card tenders).
        case tipOnCash = "tip_on_cash"
        /// Ticket: a payment amount that is not a number (`"12.3x"`).
        case malformedAmount = "malformed_amount"
        /// Ticket `completed_at` / transaction `time_created` without an offset (local wall time).
        case missingOffset = "missing_offset"
        /// Transaction: `amount` as a JSON number of dollars (`12.5`) where GP-API writes minor units as a string.
        case numberAmount = "number_amount"
        /// Transaction: `currency` `CAD`.
        case foreignCurrency = "foreign_currency"
        /// Ticket: a second record under an existing ticket's id with other content.
        case duplicateId = "duplicate_id"
    }

    public var kind: RawRecord.Kind
    public var id: String
    public var locationId: Int64
    public var businessDay: String
    public var defect: Defect
    /// Where the defect is, as a path into the served JSON (`payments[0].tip_amount`).
    public var field: String
    /// The valid record as Heartland serves it.
    public var corrected: JSONValue
    /// The valid record in fixture form (one of the two, after `kind`).
    public var ticket: Ticket?
    public var transaction: CardTransaction?

    public init(kind: RawRecord.Kind, id: String, locationId: Int64, businessDay: String, defect: Defect, field: String,
        corrected: JSONValue, ticket: Ticket? = nil, transaction: CardTransaction? = nil)
    {
        self.kind = kind
        self.id = id
        self.locationId = locationId
        self.businessDay = businessDay
        self.defect = defect
        self.field = field
        self.corrected = corrected
        self.ticket = ticket
        self.transaction = transaction
    }
}
