import Foundation
import HeartlandConnector
import Logging
import Messaging
import PipelineContracts
import SyncContracts

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
/// - `heartland.order.status`: Sage's fulfilment (partially shipped, shipped, invoiced; what each line shipped) on the
///   Heartland order.
public struct HeartlandLoaderHandler: StageHandler {
    public static let stage = "heartland-loader"
    let client: RetailMasterDataClient
    let links: CustomerLinks
    let policy: SyncPolicy
    let support: SyncLoaderSupport
    let twins: TwinSearch

    /// - Parameters:
    ///   - index: the index of Heartland's customers for the twin search (in the ledger's file).
    ///   - versions: the newest version applied per record, so an older command is a no-op (nil: not checked).
    ///     Writes to one record happen one at a time across the handlers.
    public init(client: RetailMasterDataClient, ledger: IdempotencyStore, links: CustomerLinks, index: CustomerIndex, policy: SyncPolicy,
                auditExchange: String = "bridge.audit", versions: RecordVersions? = nil) {
        self.client = client
        self.links = links
        self.policy = policy
        let twins = TwinSearch(index: index, links: links, matcher: CustomerMatcher(nameThreshold: policy.nameThreshold)) { since in
            try await client.customers(updatedSince: since).filter { $0.publicId != SyncCustomer.heartlandWalkIn }.map(SyncCustomer.init(heartland:))
        }
        self.twins = twins
        support = SyncLoaderSupport(stage: Self.stage, ledger: ledger, auditExchange: auditExchange, versions: versions,
                                    decisions: { try await twins.apply($0) })
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
                                           logger: logger) { key in try await customer(command, key: key) }
        case SyncRoute.heartlandCustomerDecision:
            return try await support.apply(message, logger: logger) { _ in try await decision(message.decode(CustomerMatchDecision.self)) }
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
        let conflicts = try SyncConflicts.notices(
            .item, changedOn: .sage, fields: command.changedElsewhere ?? [], policy: policy, what: record.itemNumber,
            twin: "Heartland item \(existing.id)", theirs: record.value, ours: HeartlandSweeper.record(existing).value, stage: Self.stage,
            exchange: support.auditExchange, key: key)
        guard !changes.isEmpty else {
            return SyncApplied(wrote: false, detail: "Heartland item \(existing.id) (Item # \(record.itemNumber)) already holds Sage version \(record.version): nothing written",
                               notices: conflicts)
        }
        _ = try await client.updateItem(id: existing.id, changes)
        return SyncApplied(wrote: true, detail: "Heartland item \(existing.id) (Item # \(record.itemNumber)): \(changes.keys.sorted().joined(separator: ", ")) "
            + "from Sage version \(record.version)" + (record.priceCents.map { ", price \(Self.dollars($0))" } ?? ""), notices: conflicts)
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

    func customer(_ command: SyncMessage<SyncCustomer>, key: String) async throws -> SyncApplied {
        let record = command.record
        return try await twins.serially {
            switch try await resolve(record) {
            case .existing(let existing, let how):
                var changes: [String: RetailValue] = [:]
                var phone: String?
                let current = SyncCustomer(heartland: existing)
                for field in command.fields where !current.holds(field, of: record) {
                    switch field {
                    case "first_name": changes["first_name"] = .string(record.firstName)
                    case "last_name": changes["last_name"] = .string(record.lastName)
                    case "email": changes["email"] = record.email.map { .string($0) } ?? .null
                    case "active": changes["active"] = .bool(record.active)
                    case "phone": phone = record.phone
                    default: break
                    }
                }
                let conflicts = try SyncConflicts.notices(
                    .customer, changedOn: record.side, fields: command.changedElsewhere ?? [], policy: policy,
                    what: "customer \(record.number)", twin: "Heartland customer \(existing.publicId)",
                    theirs: record.value, ours: current.value, stage: Self.stage, exchange: support.auditExchange, key: key)
                if changes.isEmpty && phone == nil {
                    try await twins.index.remember(current)
                    return SyncApplied(wrote: false, detail: "Heartland customer \(existing.publicId) (\(how)) already holds Sage customer \(record.number) "
                        + "version \(record.version): nothing written", notices: conflicts)
                }
                var updated = existing
                if !changes.isEmpty { updated = try await client.updateCustomer(id: existing.id, changes) }
                if let phone {
                    try await client.addAddress(customerId: existing.id, ["first_name": .string(record.firstName), "last_name": .string(record.lastName),
                                                                         "phone": .string(phone)])
                }
                var remembered = SyncCustomer(heartland: updated)
                if let phone { remembered.phone = phone }
                try await twins.index.remember(remembered)
                let written = (changes.keys.sorted() + (phone == nil ? [] : ["phone"])).joined(separator: ", ")
                return SyncApplied(wrote: true, detail: "Heartland customer \(existing.publicId) (\(how)): \(written) from Sage customer \(record.number)",
                                   notices: conflicts)
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
                try await twins.index.remember(SyncCustomer(heartland: created))
                return SyncApplied(wrote: true, detail: "created Heartland customer \(created.publicId) (id \(created.id)) from Sage customer \(record.number)")
            }
        }
    }

    /// The same number (a customer the bridge created, either way), a remembered link, or a confident
    /// match found through the index; an uncertain match throws `CustomerReviewHold`.
    func resolve(_ record: SyncCustomer) async throws -> CustomerResolution<Customer> {
        if let same = try await client.customer(publicId: record.number) { return .existing(same, how: "same number") }
        guard case .twin(let number, _, let because) = try await twins.find(record),
              let found = try await client.customer(publicId: number)
        else { return .create }
        return .existing(found, how: because)
    }

    /// A person's decision about an uncertain match, sent by the console to both loaders.
    func decision(_ decision: CustomerMatchDecision) async throws -> SyncApplied {
        try await twins.apply(decision)
        let pairs = decision.pairs.map { "Heartland \($0.heartland) / Sage \($0.sage)" }.joined(separator: ", ")
        return SyncApplied(wrote: true, detail: "customer decision by \(decision.by) recorded: \(pairs) "
            + (decision.verdict == .same ? "are the same person (linked)" : "are different people (never matched again)"))
    }

    /// Sage's fulfilment on the Heartland order: its status moves forward to shipped or invoiced (Heartland has no
    /// status for a partial shipment: the order stays open), and the custom field `sage_fulfilment` says what each line
    /// has shipped. Older fulfilments than one applied never arrive here (the record's version).
    func orderStatus(_ command: SyncMessage<OrderStatusRecord>) async throws -> SyncApplied {
        let record = command.record
        guard let order = try await client.order(publicId: record.heartlandPublicId) else {
            throw StageError.permanent("Sage order \(record.orderNumber) is \(record.status), but Heartland has no sales order \(record.heartlandPublicId)")
        }
        let rank = ["open": 0, "shipped": 1, "invoiced": 2]
        guard let now = rank[order.status] else {
            throw StageError.permanent("Sage order \(record.orderNumber) is \(record.status.replacingOccurrences(of: "_", with: " ")), but Heartland order "
                + "\(order.publicId) is \(order.status); resolve it in Heartland or Sage, then run `bridgectl dlq replay heartland-loader`")
        }
        let target = record.status == "partially_shipped" ? "open" : record.status
        let status = now < rank[target, default: 0] ? target : nil
        let shown = record.status.replacingOccurrences(of: "_", with: " ") + (record.lines == nil ? "" : ": \(record.shippedText)")
            + " (Sage order \(record.orderNumber))"
        let note = order.custom[RetailOrder.fulfilmentField] == shown ? nil : shown
        guard status != nil || note != nil else {
            return SyncApplied(wrote: false, detail: "Heartland order \(order.publicId) is already \(order.status) with \(shown): nothing written")
        }
        _ = try await client.updateOrder(id: order.id, status: status, custom: note.map { [RetailOrder.fulfilmentField: $0] } ?? [:])
        return SyncApplied(wrote: true, detail: "Heartland order \(order.publicId): " + (status.map { "\(order.status) → \($0), " } ?? "") + shown)
    }

    static func dollars(_ cents: Int64) -> String { "\(RetailAmount.decimal(cents: cents))" }
}
