import Foundation
import Logging
import Messaging

/// The transformer's rules for master data (customers, items, stock, orders) in either direction:
/// events `heartland.customer.*`, `heartland.order.*` and `sage.*` become commands on `bridge.commands`.
/// The transformer hands every such event here. It keeps no state and reads no configuration: the
/// source ingest already chose the fields its side owns, and the loaders resolve identities.
///
/// | event (bridge.events) | command (bridge.commands) | checks |
/// |---|---|---|
/// | `sage.item.changed` | `heartland.item.update` | item number, description, price ≥ 0 |
/// | `sage.stock.changed` | `heartland.stock.set` | whole quantity |
/// | `sage.customer.changed` | `heartland.customer.upsert` | a name |
/// | `sage.order.status_changed` | `heartland.order.status` | `partially_shipped`, `shipped` or `invoiced` |
/// | `heartland.customer.changed` | `sage.customer.upsert` | a name |
/// | `heartland.order.created` | `sage.order.create` | lines, positive quantities, prices ≥ 0 |
/// | `heartland.order.changed` | `sage.order.update` | the same, and `open` or `cancelled` |
/// | `heartland.item.changed` | `sage.item.upsert` | item number, description, price ≥ 0 |
public enum MasterDataTransform {
    /// True for the routing keys this transform owns.
    public static func handles(_ routingKey: String) -> Bool {
        routingKey.hasPrefix("sage.") || routingKey.hasPrefix("heartland.customer.") || routingKey.hasPrefix("heartland.order.")
            || routingKey.hasPrefix("heartland.item.")
    }

    public static func outcome(for message: InboundMessage, commandsExchange: String, logger: Logger) throws -> StageOutcome {
        let command: OutboundMessage
        switch message.routingKey {
        case SyncRoute.sageItemChanged:
            command = try forward(message, SyncMessage<ItemRecord>.self, to: SyncRoute.heartlandItemUpdate, commandsExchange) { item in
                try require(!item.itemNumber.isEmpty, "item without an ItemNumber")
                try require(!item.description.trimmingCharacters(in: .whitespaces).isEmpty, "item \(item.itemNumber) has no description")
                try require((item.priceCents ?? 0) >= 0, "item \(item.itemNumber) has a negative price")
            }
        case SyncRoute.heartlandItemChanged:
            command = try forward(message, SyncMessage<ItemRecord>.self, to: SyncRoute.sageItemUpsert, commandsExchange) { item in
                try require(!item.itemNumber.isEmpty, "Heartland item without an Item # (public_id): Sage needs an ItemNumber")
                try require(!item.description.trimmingCharacters(in: .whitespaces).isEmpty, "Heartland item \(item.itemNumber) has no description")
                try require((item.priceCents ?? 0) >= 0, "Heartland item \(item.itemNumber) has a negative price")
            }
        case SyncRoute.sageStockChanged:
            command = try forward(message, SyncMessage<StockRecord>.self, to: SyncRoute.heartlandStockSet, commandsExchange) { stock in
                try require(Self.wholeQuantity(stock.quantityOnHand) != nil,
                            "stock of item \(stock.itemNumber) at Sage location \(stock.location): QuantityOnHand \(stock.quantityOnHand) "
                                + "is not a whole number of units; Heartland counts whole units")
            }
        case SyncRoute.sageCustomerChanged:
            command = try forward(message, SyncMessage<SyncCustomer>.self, to: SyncRoute.heartlandCustomerUpsert, commandsExchange, check: named)
        case SyncRoute.heartlandCustomerChanged:
            command = try forward(message, SyncMessage<SyncCustomer>.self, to: SyncRoute.sageCustomerUpsert, commandsExchange, check: named)
        case SyncRoute.sageOrderStatusChanged:
            command = try forward(message, SyncMessage<OrderStatusRecord>.self, to: SyncRoute.heartlandOrderStatus, commandsExchange) { status in
                try require(["partially_shipped", "shipped", "invoiced"].contains(status.status),
                            "Sage order \(status.orderNumber): status '\(status.status)' is not partially_shipped, shipped or invoiced")
                for line in status.lines ?? [] {
                    try require(line.shipped >= 0 && line.shipped <= line.ordered,
                                "Sage order \(status.orderNumber), item \(line.itemNumber): \(line.shipped) shipped of \(line.ordered) ordered")
                }
            }
        case SyncRoute.heartlandOrderCreated:
            command = try forward(message, SyncMessage<OrderRecord>.self, to: SyncRoute.sageOrderCreate, commandsExchange, check: validOrder)
        case SyncRoute.heartlandOrderChanged:
            command = try forward(message, SyncMessage<OrderRecord>.self, to: SyncRoute.sageOrderUpdate, commandsExchange) { order in
                try require(order.status == nil || ["open", "cancelled"].contains(order.status!),
                            "Heartland order \(order.publicId): status '\(order.status ?? "")' is not open or cancelled")
                try validOrder(order)
            }
        default:
            throw StageError.permanent("master-data sync has no rule for events of type '\(message.routingKey)'")
        }
        logger.debug("master-data command", metadata: ["from": "\(message.routingKey)", "to": "\(command.routingKey)"])
        return .publish([command])
    }

    static func forward<Record>(_ message: InboundMessage, _ type: SyncMessage<Record>.Type, to routingKey: String, _ exchange: String,
                                check: (Record) throws -> Void) throws -> OutboundMessage {
        var document = try message.decode(type)
        guard document.schema == SyncRoute.schema(message.routingKey) else {
            throw StageError.permanent("\(message.routingKey): unknown schema \(document.schema)")
        }
        try check(document.record)
        document.schema = SyncRoute.schema(routingKey)
        let key = message.idempotencyKey ?? document.idempotencyKey
        return try OutboundMessage(exchange: exchange, routingKey: routingKey, json: document, idempotencyKey: key, schema: document.schema)
    }

    static func validOrder(_ order: OrderRecord) throws {
        try require(!order.lines.isEmpty, "Heartland order \(order.publicId) has no lines")
        for (index, line) in order.lines.enumerated() {
            try require(line.quantity > 0 && line.unitPriceCents >= 0 && !line.itemNumber.isEmpty,
                        "Heartland order \(order.publicId), line \(index + 1): item '\(line.itemNumber)', quantity \(line.quantity), "
                            + "unit price \(line.unitPriceCents) cents: needs an item, a positive quantity and a price ≥ 0")
        }
        if let customer = order.customer { try named(customer) }
    }

    static func named(_ customer: SyncCustomer) throws {
        try require(!(customer.firstName + customer.lastName).trimmingCharacters(in: .whitespaces).isEmpty,
                    "\(customer.side.rawValue) customer \(customer.number) has no name")
    }

    static func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
        if !condition { throw StageError.permanent(reason()) }
    }

    /// `12`, `12.0`, `12.000` → 12; `12.5` → nil.
    public static func wholeQuantity(_ text: String) -> Int64? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first.flatMap({ Int64($0) }) else { return nil }
        if parts.count == 2, !parts[1].allSatisfy({ $0 == "0" }) { return nil }
        return whole
    }
}
