import BridgeClock
import Foundation
import StableHash

/// `heartland-sim generate`: a deterministic store day for N locations as a `StoreDayFixture`.
public enum StoreDayGenerator {
    public struct Options: Sendable {
        public var stores: Int
        public var day: String
        public var seed: UInt64
        public var ticketsPerStore: Int
        /// Batches closed during each store's day (1...4). Above 1, or with `badPercent` above 0, the day is
        /// messy: see `MessyDayGenerator`. 1 and 0 give the plain day, one open batch per store.
        public var batchesPerDay: Int
        /// Share of defective documents, 0...5 %.
        public var badPercent: Int

        public init(stores: Int, day: String, seed: UInt64, ticketsPerStore: Int = 300, batchesPerDay: Int = 1, badPercent: Int = 0) {
            self.stores = stores
            self.day = day
            self.seed = seed
            self.ticketsPerStore = ticketsPerStore
            self.batchesPerDay = batchesPerDay
            self.badPercent = badPercent
        }

        public var isMessy: Bool { batchesPerDay > 1 || badPercent > 0 }
    }

    public enum GeneratorError: Error, CustomStringConvertible {
        case badDay(String)
        case badCounts

        public var description: String {
            switch self {
            case .badDay(let day): return "--day \(day) is not a valid YYYY-MM-DD date"
            case .badCounts: return "--stores must be 1...99, --tickets-per-store 1...49999, --batches-per-day 1...4 and --bad-percent 0...5"
            }
        }
    }

    /// Catalog and customer timestamps: fixed, so output does not depend on when it runs.
    static let epoch = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z

    /// The time zones of the first `stores` generated stores.
    public static func zones(stores: Int) -> [TimeZone] {
        (0..<max(1, stores)).map { TimeZone(identifier: SampleData.stores[$0 % SampleData.stores.count].zone)! }
    }

    /// The business day to generate so that the day is over at every generated store at `instant`, and
    /// a ticket rung up at `instant` falls on a later day at each of them: whatever the hour, a live
    /// sale or refund never lands in the generated day.
    public static func lastFinishedDay(stores: Int, at instant: Date) -> String {
        BridgeClock.lastFinishedDay(at: instant, zones: zones(stores: stores))
    }

    public static func generate(_ options: Options) throws -> StoreDayFixture {
        guard (1...99).contains(options.stores), (1...49_999).contains(options.ticketsPerStore),
            (1...4).contains(options.batchesPerDay), (0...5).contains(options.badPercent)
        else {
            throw GeneratorError.badCounts
        }
        var fixture = StoreDayFixture()
        fixture.items = SampleData.catalog.enumerated().map { index, entry in
            Item(id: Int64(index + 1), publicId: entry.publicId, description: entry.description, longDescription: nil,
                priceCents: entry.priceCents, originalPriceCents: entry.priceCents, costCents: entry.costCents,
                active: true, taxable: entry.taxable, updatedAt: epoch)
        }
        fixture.customers = customers(seed: options.seed)
        fixture.locations = (1...options.stores).map { number in
            let profile = SampleData.stores[(number - 1) % SampleData.stores.count]
            return Location(
                id: Int64(number), publicId: String(format: "S%02d", number), name: "Store \(number) – \(profile.city)",
                timeZone: profile.zone, taxRateBasisPoints: profile.taxRateBasisPoints,
                merchantId: String(format: "MER_%06d", 880_000 + number), deviceId: String(format: "DEV%04d", number))
        }
        var periodStart = options.day
        for location in fixture.locations {
            guard let clock = StoreDayClock(location: location, day: options.day),
                let yesterdayClock = StoreDayClock(location: location, day: clock.previousDay)
            else { throw GeneratorError.badDay(options.day) }
            periodStart = clock.previousDay
            try addStoreDay(clock: clock, yesterdayClock: yesterdayClock, options: options, fixture: &fixture)
        }
        fixture.payRuns = [PayrollGenerator.payRun(
            seed: options.seed, day: options.day, locations: fixture.locations, periodStart: periodStart,
            created: fixture.locations.first.flatMap { StoreDayClock(location: $0, day: options.day)?.instant(secondOfDay: 86_000) } ?? epoch)]
        return fixture
    }

    private static func addStoreDay(
        clock: StoreDayClock, yesterdayClock: StoreDayClock, options: Options, fixture: inout StoreDayFixture
    ) throws {
        let customerIds = fixture.customers.map(\.id)
        let sales = SalesDayGenerator(
            seed: options.seed, clock: clock, items: fixture.items, customerIds: customerIds,
            ticketCount: options.ticketsPerStore)
        let yesterdaySales = SalesDayGenerator(
            seed: options.seed, clock: yesterdayClock, items: fixture.items, customerIds: customerIds,
            ticketCount: options.ticketsPerStore)
        let today = sales.generate()
        let yesterday = yesterdaySales.generate()
        let returns = ReturnsGenerator(
            seed: options.seed, clock: clock, sales: sales, count: max(1, options.ticketsPerStore * 4 / 100)
        ).generate(today: today, yesterday: yesterday)
        if options.isMessy {
            let day = MessyDayGenerator(
                seed: options.seed, clock: clock, yesterdayClock: yesterdayClock, batchesPerDay: options.batchesPerDay,
                badPercent: options.badPercent
            ).generate(today: today, yesterday: yesterday, returns: returns)
            fixture.tickets += day.tickets
            fixture.transactions += day.transactions
            fixture.batches += day.batches
            fixture.rawTickets += day.rawTickets
            fixture.rawTransactions += day.rawTransactions
            fixture.badDocuments += day.badDocuments
        } else {
            addPlainDay(clock: clock, yesterdayClock: yesterdayClock, today: today, yesterday: yesterday, returns: returns, fixture: &fixture)
        }
        fixture.giftCards += today.giftCardBalances.keys.sorted().map { GiftCard(number: $0, balanceCents: today.giftCardBalances[$0]!) }
        fixture.inventory += inventory(seed: options.seed, clock: clock, items: fixture.items,
            tickets: today.tickets + returns.tickets)
    }

    /// One open batch for the day, and the previous day's (closed just after midnight) when today's
    /// returns refund its sales.
    private static func addPlainDay(
        clock: StoreDayClock, yesterdayClock: StoreDayClock, today: SalesDayGenerator.Output,
        yesterday: SalesDayGenerator.Output, returns: ReturnsGenerator.Output, fixture: inout StoreDayFixture
    ) {
        let referencedIds = Set(returns.referencedSales.map(\.id))
        fixture.tickets += returns.referencedSales + (today.tickets + returns.tickets).sorted { $0.completedAt < $1.completedAt }
        fixture.transactions += yesterday.transactions.filter { referencedIds.contains($0.ticketId ?? -1) }.map { sale in
            var batched = sale
            batched.status = sale.status == "REVERSED" ? sale.status : "BATCHED"
            return batched
        }
        fixture.transactions += (today.transactions + returns.transactions).sorted { $0.timeCreated < $1.timeCreated }
        if !referencedIds.isEmpty {
            fixture.batches.append(SettlementBatch(
                id: yesterdayClock.batchId, locationId: clock.location.id, businessDay: yesterdayClock.day, status: "CLOSED",
                timeCreated: yesterdayClock.instant(secondOfDay: 25_200), timeClosed: clock.instant(secondOfDay: 1_800)))
        }
        fixture.batches.append(SettlementBatch(
            id: clock.batchId, locationId: clock.location.id, businessDay: clock.day, status: "OPEN",
            timeCreated: clock.instant(secondOfDay: 25_200), timeClosed: nil))
    }

    /// Opening stock per item, less what the day's completed tickets sold (returns add back).
    private static func inventory(seed: UInt64, clock: StoreDayClock, items: [Item], tickets: [Ticket]) -> [InventoryValue] {
        var rng = SeededRandom(seed, clock.location.id, "stock")
        var sold: [Int64: Int64] = [:]
        for ticket in tickets where ticket.status == "complete" {
            for line in ticket.itemLines { sold[line.itemId ?? 0, default: 0] += line.qty }
        }
        return items.map { item in
            InventoryValue(
                itemId: item.id, locationId: clock.location.id, qtyOnHand: rng.int(40...200) - sold[item.id, default: 0],
                qtyCommitted: rng.int(0...5), unitCostCents: item.costCents, updatedAt: clock.instant(secondOfDay: 86_000))
        }
    }

    private static func customers(seed: UInt64) -> [Customer] {
        var rng = SeededRandom(seed, "customers")
        return (1...150).map { number in
            let first = rng.pick(SampleData.firstNames)
            let last = rng.pick(SampleData.lastNames)
            let profile = rng.pick(SampleData.stores)
            let address = CustomerAddress(
                id: Int64(number), firstName: first, lastName: last, address1: "\(rng.int(1...9999)) Main St",
                address2: nil, city: profile.city, state: profile.state, zip: rng.digits(5), country: "US",
                phone: "555-\(rng.digits(3))-\(rng.digits(4))")
            return Customer(
                id: Int64(number), publicId: String(format: "C%05d", number), firstName: first, lastName: last,
                email: "\(first.lowercased()).\(last.lowercased())\(number)@example.com", active: true,
                addresses: [address], createdAt: epoch, updatedAt: epoch)
        }
    }
}
