import Foundation
import HeartlandConnector
import Logging
import Messaging

/// The heartland-loader stage: applies Sage's master data to Heartland Retail, exactly once per
/// record version (the ledger), writing only what differs (so a repeat or the bridge's own change
/// coming back writes nothing):
///
/// - `heartland.item.update`: the Sage-owned fields of the item with `public_id` = Sage `ItemNumber`
///   (created when missing and `heartland.create_missing_items`);
/// - `heartland.stock.set`: stock on hand at the mapped location, set to Sage's quantity with one
///   adjustment set of the difference (recomputed on every attempt, so a retry never adjusts twice);
/// - `heartland.customer.upsert`: the Sage-owned fields of the twin customer (same number, a link, or
///   a confident match), a new customer when there is none, a review hold when the match is uncertain;
/// - `heartland.order.status`: Sage's fulfilment (`shipped`, `invoiced`) on the Heartland order.
public struct HeartlandLoaderHandler: StageHandler {
    public static let stage = "heartland-loader"
    let client: RetailMasterDataClient
    let links: CustomerLinks
    let policy: SyncPolicy
    let support: SyncLoaderSupport

    /// Writes to one record happen one at a time across the handlers; `versions` keeps the newest version
    /// applied per record, so an older command is a no-op (nil: not checked).
    public init(client: RetailMasterDataClient, ledger: IdempotencyStore, links: CustomerLinks, policy: SyncPolicy,
                auditExchange: String = "bridge.audit", versions: RecordVersions? = nil) {
        self.client = client
        self.links = links
        self.policy = policy
        support = SyncLoaderSupport(stage: Self.stage, ledger: ledger, auditExchange: auditExchange, versions: versions)
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        switch message.routingKey {
        case SyncRoute.heartlandItemUpdate:
            let command = try message.decode(SyncMessage<ItemRecord>.self)
            return try await support.apply(message, record: RecordVersion(record: "item:\(command.record.itemNumber)", version: command.record.version),
                                           logger: logger) { key in try await item(command, key: key) }
        case SyncRoute.heartlandStockSet:
            let command = try message.decode(SyncMessage<StockRecord>.self)
            let record = "stock:\(command.record.itemNumber)@\(command.record.location)"
            return try await support.apply(message, record: RecordVersion(record: record, version: command.record.version),
                                           logger: logger) { key in try await stock(command, key: key) }
        case SyncRoute.heartlandCustomerUpsert:
            let command = try message.decode(SyncMessage<SyncCustomer>.self)
            let record = "customer:\(command.record.side.rawValue):\(command.record.id)"
            return try await support.apply(message, record: RecordVersion(record: record, version: command.record.version),
                                           logger: logger) { _ in try await customer(command) }
        case SyncRoute.heartlandOrderStatus:
            let command = try message.decode(SyncMessage<OrderStatusRecord>.self)
            return try await support.apply(message, record: RecordVersion(record: "order:\(command.record.orderNumber)", version: command.record.version),
                                           logger: logger) { _ in try await orderStatus(command) }
        default:
            throw StageError.permanent("heartland-loader has no rule for commands of type '\(message.routingKey)'")
        }
    }

    func item(_ command: SyncMessage<ItemRecord>, key: String) async throws -> SyncApplied {
        let record = command.record
        guard let existing = try await client.item(publicId: record.itemNumber) else {
            guard policy.createMissingItems, let price = record.priceCents else {
                throw StageError.permanent("Heartland has no item \(record.itemNumber) (Sage item, version \(record.version)) and "
                    + (policy.createMissingItems ? "Sage has no \(policy.priceList) price for it" : "heartland.create_missing_items is off")
                    + "; create the item in Heartland with Item # \(record.itemNumber), then run `bridgectl dlq replay heartland-loader`")
            }
            let created = try await client.createItem([
                "public_id": .string(record.itemNumber), "description": .string(record.description), "price": .dollars(cents: price),
                "active": .bool(record.active),
            ])
            return SyncApplied(wrote: true, detail: "created Heartland item \(created.id) (Item # \(record.itemNumber)) from Sage version \(record.version)")
        }
        var changes: [String: RetailValue] = [:]
        for field in command.fields {
            switch field {
            case "description" where existing.description != record.description: changes["description"] = .string(record.description)
            case "price": if let price = record.priceCents, price != existing.priceCents { changes["price"] = .dollars(cents: price) }
            case "active" where (existing.active ?? true) != record.active: changes["active"] = .bool(record.active)
            default: break
            }
        }
        guard !changes.isEmpty else {
            return SyncApplied(wrote: false, detail: "Heartland item \(existing.id) (Item # \(record.itemNumber)) already holds Sage version \(record.version): nothing written")
        }
        _ = try await client.updateItem(id: existing.id, changes)
        return SyncApplied(wrote: true, detail: "Heartland item \(existing.id) (Item # \(record.itemNumber)): \(changes.keys.sorted().joined(separator: ", ")) "
            + "from Sage version \(record.version)" + (record.priceCents.map { ", price \(Self.dollars($0))" } ?? ""))
    }

    func stock(_ command: SyncMessage<StockRecord>, key: String) async throws -> SyncApplied {
        let record = command.record
        guard let location = policy.heartlandLocation(sage: record.location) else {
            throw StageError.permanent("Sage location \(record.location) has no Heartland location in the sync policy (heartland.locations in "
                + "Config/sync.yaml); add it, then run `bridgectl dlq replay heartland-loader`")
        }
        guard let quantity = MasterDataTransform.wholeQuantity(record.quantityOnHand) else {
            throw StageError.permanent("stock of \(record.itemNumber) at \(record.location): \(record.quantityOnHand) is not whole units")
        }
        guard let item = try await client.item(publicId: record.itemNumber) else {
            // The item's own message may be a moment behind: wait for it, then give up into the parking lot.
            throw StageError.transient("Heartland has no item \(record.itemNumber) yet for the stock of Sage location \(record.location)")
        }
        let current = try await client.inventory(itemId: item.id, locationId: location)?.qtyOnHand ?? 0
        guard current != quantity else {
            return SyncApplied(wrote: false, detail: "Heartland stock of \(record.itemNumber) at location \(location) is already \(quantity): nothing written")
        }
        try await client.adjustInventory(locationId: location, reason: "Sage stock on hand (\(key))", lines: [(item.id, quantity - current)])
        return SyncApplied(wrote: true, detail: "Heartland stock of \(record.itemNumber) at location \(location): \(current) → \(quantity) (Sage version \(record.version))")
    }

    func customer(_ command: SyncMessage<SyncCustomer>) async throws -> SyncApplied {
        let record = command.record
        switch try await resolve(record) {
        case .existing(let existing, let how):
            var changes: [String: RetailValue] = [:]
            var phone: String?
            let current = HeartlandSweeper.record(existing)
            for field in command.fields where current.value(field) != record.value(field) {
                switch field {
                case "first_name": changes["first_name"] = .string(record.firstName)
                case "last_name": changes["last_name"] = .string(record.lastName)
                case "email": changes["email"] = record.email.map { .string($0) } ?? .null
                case "active": changes["active"] = .bool(record.active)
                case "phone": phone = record.phone
                default: break
                }
            }
            if changes.isEmpty && phone == nil {
                return SyncApplied(wrote: false, detail: "Heartland customer \(existing.publicId) (\(how)) already holds Sage customer \(record.number) "
                    + "version \(record.version): nothing written")
            }
            if !changes.isEmpty { _ = try await client.updateCustomer(id: existing.id, changes) }
            if let phone {
                try await client.addAddress(customerId: existing.id, ["first_name": .string(record.firstName), "last_name": .string(record.lastName),
                                                                     "phone": .string(phone)])
            }
            let written = (changes.keys.sorted() + (phone == nil ? [] : ["phone"])).joined(separator: ", ")
            return SyncApplied(wrote: true, detail: "Heartland customer \(existing.publicId) (\(how)): \(written) from Sage customer \(record.number)")
        case .create:
            var fields: [String: RetailValue] = [
                "public_id": .string(record.number), "first_name": .string(record.firstName), "last_name": .string(record.lastName),
                "active": .bool(record.active),
            ]
            if let email = record.email { fields["email"] = .string(email) }
            if let phone = record.phone {
                fields["addresses"] = .array([.object(["first_name": .string(record.firstName), "last_name": .string(record.lastName),
                                                       "phone": .string(phone)])])
            }
            let created = try await client.createCustomer(fields)
            return SyncApplied(wrote: true, detail: "created Heartland customer \(created.publicId) (id \(created.id)) from Sage customer \(record.number)")
        }
    }

    /// The same number (a customer the bridge created, either way), a remembered link, or a confident match.
    func resolve(_ record: SyncCustomer) async throws -> CustomerResolution<Customer> {
        if let same = try await client.customer(publicId: record.number) { return .existing(same, how: "same number") }
        if let linked = try await links.heartland(forSage: record.number), let found = try await client.customer(publicId: linked) {
            return .existing(found, how: "linked to Sage \(record.number)")
        }
        let candidates = try await client.allCustomers().filter { $0.publicId != HeartlandSweeper.walkInCustomer }
        let matcher = CustomerMatcher(nameThreshold: policy.nameThreshold)
        guard let match = try matcher.decide(record, among: candidates.map { HeartlandSweeper.record($0).matchable }, target: "Heartland",
                                             stage: Self.stage),
              let found = candidates.first(where: { String($0.id) == match.id })
        else { return .create }
        try await links.link(heartland: found.publicId, sage: record.number, because: match.because)
        return .existing(found, how: "matched: \(match.because)")
    }

    func orderStatus(_ command: SyncMessage<OrderStatusRecord>) async throws -> SyncApplied {
        let record = command.record
        guard let order = try await client.order(publicId: record.heartlandPublicId) else {
            throw StageError.permanent("Sage order \(record.orderNumber) is \(record.status), but Heartland has no sales order \(record.heartlandPublicId)")
        }
        let rank = ["open": 0, "shipped": 1, "invoiced": 2]
        guard let now = rank[order.status] else {
            throw StageError.permanent("Sage order \(record.orderNumber) is \(record.status), but Heartland order \(order.publicId) is \(order.status); "
                + "resolve it in Heartland or Sage, then run `bridgectl dlq replay heartland-loader`")
        }
        guard now < rank[record.status, default: 0] else {
            return SyncApplied(wrote: false, detail: "Heartland order \(order.publicId) is already \(order.status): nothing written")
        }
        _ = try await client.updateOrder(id: order.id, status: record.status)
        return SyncApplied(wrote: true, detail: "Heartland order \(order.publicId): \(order.status) → \(record.status) (Sage order \(record.orderNumber))")
    }

    static func dollars(_ cents: Int64) -> String { "\(RetailAmount.decimal(cents: cents))" }
}
