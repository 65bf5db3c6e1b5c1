import Foundation
import Logging
import Messaging
import SageConnector
import SyncContracts

/// sage-ingest's sweep of Sage 300: items and their price-list prices, stock per location, AR
/// customers, and the orders the bridge created from Heartland (`HL-…`), each since its watermark.
/// Publishes `sage.item.changed`, `sage.stock.changed`, `sage.customer.changed` and
/// `sage.order.status_changed` on `bridge.events` for records whose Sage-owned fields changed.
public struct SageSweeper: SyncSweeper {
    public let source = "sage-ingest"
    let client: SageMasterDataClient
    let state: SyncState
    let policy: SyncPolicy
    let publisher: any MessagePublisher
    let exchange: String
    let logger: Logger

    public init(client: SageMasterDataClient, state: SyncState, policy: SyncPolicy, publisher: any MessagePublisher,
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
        try await items(&batch)
        try await stock(&batch)
        try await customers(&batch)
        try await orders(&batch)
        return try await batch.complete(source: source, publisher: publisher, state: state)
    }

    /// An item changes when its master record or its price changes: both are polled, and the item is
    /// rebuilt whole from both.
    func items(_ batch: inout SweepBatch) async throws {
        let changedItems = try await client.items(changedSince: try state.watermark("sage.items"))
        let changedPrices = try await client.prices(priceList: policy.priceList, currency: policy.currency,
                                                    changedSince: try state.watermark("sage.prices"))
        batch.advance("sage.items", to: changedItems.compactMap(\.DateLastMaintained).max())
        batch.advance("sage.prices", to: changedPrices.compactMap(\.dateLastMaintained).max())
        var itemsByNumber = Dictionary(changedItems.map { ($0.ItemNumber, $0) }, uniquingKeysWith: { $1 })
        var pricesByNumber = Dictionary(changedPrices.map { ($0.itemNumber, $0) }, uniquingKeysWith: { $1 })
        let owned = policy.owned(.item, by: .sage)
        let others = policy.owned(.item, by: .heartland)
        for number in Set(itemsByNumber.keys).union(pricesByNumber.keys).sorted() {
            if itemsByNumber[number] == nil { itemsByNumber[number] = try await client.item(number: number) }
            if pricesByNumber[number] == nil {
                pricesByNumber[number] = try await client.prices(priceList: policy.priceList, currency: policy.currency, changedSince: nil,
                                                                 itemNumber: number).first
            }
            guard let item = itemsByNumber[number] else { continue }
            let price = pricesByNumber[number]
            let version = [item.DateLastMaintained, price?.dateLastMaintained].compactMap { $0 }.max() ?? ""
            let record = ItemRecord(itemNumber: number, description: item.Description ?? "", priceCents: price?.basePriceCents,
                                    active: item.isActive, version: version)
            let changedElsewhere = try await batch.shadow(state, entity: "item", key: number, fields: others, values: record.value)
            try await batch.add(state, entity: "item", key: number, fingerprint: SyncState.fingerprint(owned.map(record.value)), version: version,
                                routingKey: SyncRoute.sageItemChanged, record: record, fields: owned,
                                idempotencyKey: SyncKey.sageItem(number, version), exchange: exchange, changedElsewhere: changedElsewhere)
        }
    }

    func stock(_ batch: inout SweepBatch) async throws {
        let details = try await client.locationDetails(changedSince: try state.watermark("sage.stock"))
        batch.advance("sage.stock", to: details.compactMap(\.DateLastMaintained).max())
        for detail in details {
            let quantity = "\(detail.QuantityOnHand)"
            let version = detail.DateLastMaintained ?? ""
            let record = StockRecord(itemNumber: detail.ItemNumber, location: detail.Location, quantityOnHand: quantity, version: version)
            try await batch.add(state, entity: "stock", key: "\(detail.ItemNumber)|\(detail.Location)", fingerprint: SyncState.fingerprint([quantity]),
                                version: version, routingKey: SyncRoute.sageStockChanged, record: record, fields: ["quantity_on_hand"],
                                idempotencyKey: SyncKey.sageStock(detail.ItemNumber, detail.Location, version), exchange: exchange)
        }
    }

    func customers(_ batch: inout SweepBatch) async throws {
        let customers = try await client.customers(changedSince: try state.watermark("sage.customers"))
        batch.advance("sage.customers", to: customers.compactMap(\.DateLastMaintained).max())
        let owned = policy.owned(.customer, by: .sage)
        let others = policy.owned(.customer, by: .heartland)
        for customer in customers {
            let record = Self.record(customer)
            let changedElsewhere = try await batch.shadow(state, entity: "customer", key: customer.CustomerNumber, fields: others, values: record.value)
            try await batch.add(state, entity: "customer", key: customer.CustomerNumber, fingerprint: SyncState.fingerprint(owned.map(record.value)),
                                version: record.version, routingKey: SyncRoute.sageCustomerChanged, record: record, fields: owned,
                                idempotencyKey: SyncKey.sageCustomer(customer.CustomerNumber, record.version), exchange: exchange,
                                changedElsewhere: changedElsewhere)
        }
    }

    /// Orders that came from Heartland: their fulfilment (partially shipped, shipped, invoiced, with what each line
    /// has shipped) goes back. An order the bridge has just created or edited is `open` with nothing shipped, which
    /// Heartland already knows: that is the bridge's own write seen again, and it is not published; nor is an edit
    /// that leaves the fulfilment as it was (the fingerprint is the fulfilment alone).
    func orders(_ batch: inout SweepBatch) async throws {
        let orders = try await client.orders(changedSince: try state.watermark("sage.orders"), numberPrefix: policy.orderPrefix)
        batch.advance("sage.orders", to: orders.compactMap(\.DateLastEdited).max())
        for order in orders {
            let status = order.fulfilment
            guard status != "open" else {
                if try await state.fingerprint("order", order.OrderNumber) == nil { batch.unchanged += 1 }
                continue
            }
            var lines: [OrderStatusRecord.ShippedLine]? = (order.OrderDetails ?? []).map {
                OrderStatusRecord.ShippedLine(itemNumber: $0.Item, ordered: $0.QuantityOrdered, shipped: $0.QuantityShippedToDate ?? 0)
            }
            // A shipment recorded without line quantities says nothing per line.
            if lines?.allSatisfy({ $0.shipped == 0 }) == true { lines = nil }
            let fingerprint = SyncState.fingerprint([status] + (lines ?? []).map { "\($0.itemNumber):\($0.shipped)/\($0.ordered)" })
            let record = OrderStatusRecord(orderNumber: order.OrderNumber, heartlandPublicId: String(order.OrderNumber.dropFirst(policy.orderPrefix.count)),
                                           status: status, version: order.DateLastEdited ?? "", lines: lines)
            try await batch.add(state, entity: "order", key: order.OrderNumber, fingerprint: fingerprint, version: record.version,
                                routingKey: SyncRoute.sageOrderStatusChanged, record: record, fields: ["status"],
                                idempotencyKey: SyncKey.sageOrder(order.OrderNumber, status, shipped: fingerprint), exchange: exchange)
        }
    }

    /// Sage keeps one `CustomerName`; Heartland a first and a last name: the first word is the first name.
    public static func record(_ customer: SageCustomer) -> SyncCustomer {
        let (first, last) = CustomerNames.split(customer.CustomerName ?? "")
        return SyncCustomer(side: .sage, id: customer.CustomerNumber, number: customer.CustomerNumber, firstName: first, lastName: last,
                            email: customer.Email?.nilIfEmpty, phone: customer.PhoneNumber?.nilIfEmpty, active: customer.isActive,
                            version: customer.DateLastMaintained ?? "")
    }
}

enum CustomerNames {
    /// `Brown, Michael` → (`Michael`, `Brown`); `Dr. Michael J. Brown Jr.` → (`Michael J.`, `Brown Jr.`); a company's name is its last name.
    static func split(_ name: String) -> (String, String) {
        let parsed = PersonName.parse(name)
        return (parsed.first, parsed.last)
    }

    static func join(_ first: String, _ last: String) -> String {
        [first, last].map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
