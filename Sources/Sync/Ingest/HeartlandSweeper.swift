import Foundation
import HeartlandConnector
import Logging
import Messaging
import SyncContracts

/// heartland-ingest's master-data sweep of Heartland Retail: customers changed since the watermark
/// (published when a Heartland-owned field changed), items, and sales orders (customer / special orders: new ones,
/// then each later version whose lines or cancellation changed, with their customer and items resolved for Sage).
public struct HeartlandSweeper: SyncSweeper {
    public let source = "heartland-ingest"
    let client: RetailMasterDataClient
    let state: SyncState
    let policy: SyncPolicy
    let publisher: any MessagePublisher
    let exchange: String
    let logger: Logger

    public init(client: RetailMasterDataClient, state: SyncState, policy: SyncPolicy, publisher: any MessagePublisher,
                exchange: String = "bridge.events", logger: Logger) {
        self.client = client
        self.state = state
        self.policy = policy
        self.publisher = publisher
        self.exchange = exchange
        self.logger = logger
    }

    public func sweep() async throws -> SweepReport {
        var batch = SweepBatch()
        try await customers(&batch)
        try await items(&batch)
        try await orders(&batch)
        return try await batch.complete(source: source, publisher: publisher, state: state)
    }

    func customers(_ batch: inout SweepBatch) async throws {
        let customers = try await client.customers(updatedSince: try state.watermark("heartland.customers"))
        batch.advance("heartland.customers", to: customers.compactMap(\.updatedAt).max())
        let owned = policy.owned(.customer, by: .heartland)
        let others = policy.owned(.customer, by: .sage)
        for customer in customers where customer.publicId != SyncCustomer.heartlandWalkIn {
            let record = SyncCustomer(heartland: customer)
            let changedElsewhere = try await batch.shadow(state, entity: "customer", key: record.id, fields: others, values: record.value)
            try await batch.add(state, entity: "customer", key: record.id, fingerprint: SyncState.fingerprint(owned.map(record.value)),
                                version: record.version, routingKey: SyncRoute.heartlandCustomerChanged, record: record, fields: owned,
                                idempotencyKey: SyncKey.heartlandCustomer(record.id, Self.version(record.version, SyncEntity.customer.fields.map(record.value))),
                                exchange: exchange,
                                changedElsewhere: changedElsewhere)
        }
    }

    /// Items changed in Heartland: published when a Heartland-owned field changed, or when the item is
    /// first seen (so that an item created in Heartland is created in Sage), or when a Sage-owned field
    /// was changed here (the loader reports the conflict).
    func items(_ batch: inout SweepBatch) async throws {
        let items = try await client.items(updatedSince: try state.watermark("heartland.items"))
        batch.advance("heartland.items", to: items.compactMap(\.updatedAt).max())
        let owned = policy.owned(.item, by: .heartland)
        let others = policy.owned(.item, by: .sage)
        for item in items where !item.publicId.isEmpty {
            let record = Self.record(item)
            let changedElsewhere = try await batch.shadow(state, entity: "item", key: item.publicId, fields: others, values: record.value)
            try await batch.add(state, entity: "item", key: item.publicId, fingerprint: SyncState.fingerprint(owned.map(record.value)),
                          version: record.version, routingKey: SyncRoute.heartlandItemChanged, record: record, fields: owned,
                          idempotencyKey: SyncKey.heartlandItem(item.publicId, Self.version(record.version, SyncEntity.item.fields.map(record.value))),
                          exchange: exchange, changedElsewhere: changedElsewhere)
        }
    }

    /// A record version for idempotency keys: Heartland's `updated_at` is to the second, so two changes in
    /// one second (the bridge's write, then a person's) would share it; the values' fingerprint tells them apart.
    static func version(_ updatedAt: String, _ values: [String?]) -> String {
        "\(updatedAt)~\(SyncState.fingerprint(values).prefix(8))"
    }

    /// Card numbers typed into an item's description are masked here, before anything is published or logged.
    public static func record(_ item: Item) -> ItemRecord {
        ItemRecord(itemNumber: item.publicId, description: CardMask.mask(item.description ?? ""), priceCents: item.priceCents,
                   active: item.active ?? true, version: item.updatedAt ?? "")
    }

    /// Sales orders: an open order goes to Sage when first seen (`heartland.order.created`); after that, a change to
    /// its lines or its cancellation goes as a new version (`heartland.order.changed`, carrying the whole order).
    /// Its status moving to shipped or invoiced is Sage's fulfilment written back by the bridge, and is not a change
    /// (the fingerprint leaves it out), nor is the fulfilment note the bridge writes in a custom field.
    func orders(_ batch: inout SweepBatch) async throws {
        let orders = try await client.orders(updatedSince: try state.watermark("heartland.orders"))
        batch.advance("heartland.orders", to: orders.compactMap(\.updatedAt).max())
        for order in orders {
            let fingerprint = Self.fingerprint(order)
            let seen = try await state.fingerprint("order", String(order.id))
            guard seen != fingerprint, seen != nil || order.status == "open" else {
                batch.unchanged += 1
                continue
            }
            var customer: SyncCustomer?
            if let id = order.customerId {
                let found = try await client.customer(id: id)
                if found.publicId != SyncCustomer.heartlandWalkIn { customer = SyncCustomer(heartland: found) }
            }
            var lines: [OrderRecord.Line] = []
            for line in order.lines {
                let item = try await client.item(id: line.itemId)
                lines.append(.init(itemNumber: item.publicId, quantity: line.qty, unitPriceCents: line.unitPriceCents,
                                   description: line.description.map(CardMask.mask)))
            }
            let version = order.updatedAt ?? ""
            let record = OrderRecord(heartlandId: order.id, publicId: order.publicId,
                                     sageLocation: order.locationId.flatMap { policy.sageLocation(heartland: $0) },
                                     customer: customer, lines: lines, createdAt: order.createdAt,
                                     status: order.status == "cancelled" ? "cancelled" : "open", version: version)
            let first = seen == nil
            try await batch.add(state, entity: "order", key: String(order.id), fingerprint: fingerprint, version: version,
                                routingKey: first ? SyncRoute.heartlandOrderCreated : SyncRoute.heartlandOrderChanged, record: record, fields: [],
                                idempotencyKey: first ? SyncKey.heartlandOrder(order.id)
                                    : SyncKey.heartlandOrder(order.id, version: "\(version)~\(fingerprint.prefix(8))"),
                                exchange: exchange)
        }
    }

    /// What of an order the bridge carries to Sage: cancelled or not, and its lines.
    static func fingerprint(_ order: RetailOrder) -> String {
        SyncState.fingerprint([order.status == "cancelled" ? "cancelled" : "active"]
            + order.lines.map { "\($0.itemId)×\($0.qty)@\($0.unitPriceCents)" })
    }
}
