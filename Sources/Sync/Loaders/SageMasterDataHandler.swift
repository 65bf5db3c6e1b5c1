import Accounting
import Foundation
import Logging
import Messaging
import PipelineContracts
import SageConnector
import SyncContracts

/// sage-loader's AR poster (`SageLoader.ReceivablesPoster`) as the master-data half calls it: whether Sage already holds
/// a document (a description of it), and posting one for a Sage customer number (a description of what Sage holds).
public struct ReceivablesHooks: Sendable {
    /// A document as Sage AR holds it: described for the audit trail, and in the bridge's terms for the reconciliation.
    public struct Posted: Sendable {
        public var detail: String
        public var sage: SageReceivable?

        public init(detail: String, sage: SageReceivable?) {
            self.detail = detail
            self.sage = sage
        }
    }

    public var posted: @Sendable (ReceivableDocument) async throws -> Posted?
    /// Posts the document for the Sage customer, once Sage holds the invoices it must follow (a receipt's `precededBy`).
    public var post: @Sendable (ReceivableDocument, _ customer: String, _ after: [String]) async throws -> Posted

    public init(posted: @escaping @Sendable (ReceivableDocument) async throws -> Posted?,
                post: @escaping @Sendable (ReceivableDocument, _ customer: String, _ after: [String]) async throws -> Posted) {
        self.posted = posted
        self.post = post
    }
}

/// sage-loader's master-data half: applies Heartland's customers and sales orders to Sage 300,
/// exactly once per record version (the ledger; for orders Sage itself, which refuses a second
/// `OrderNumber`):
///
/// - `sage.customer.upsert`: the Heartland-owned fields of the twin AR customer (same number, a link,
///   or a confident match), a new customer numbered like Heartland's when there is none, a review hold
///   when the match is uncertain;
/// - `sage.order.create`, `sage.order.update`: the OE order `HL-<Heartland order #>` for the customer (resolved the
///   same way) made to hold the Heartland order's version: created when missing, its lines changed (never below what
///   Sage has shipped), deleted when cancelled with nothing shipped; an older version than one applied is a no-op.
public struct SageMasterDataHandler: StageHandler {
    public static let stage = "sage-loader"
    let client: SageMasterDataClient
    let links: CustomerLinks
    let policy: SyncPolicy
    let support: SyncLoaderSupport
    let twins: TwinSearch
    /// Posts tickets' AR documents (`sage.ar.invoice`, `sage.ar.receipt`) for the customer found or created here; nil: none.
    let receivables: ReceivablesHooks?

    /// - Parameters:
    ///   - index: the index of Sage's customers for the twin search (in the ledger's file).
    ///   - versions: the newest version applied per order, so an older one is a no-op (nil: not checked).
    public init(client: SageMasterDataClient, ledger: IdempotencyStore, links: CustomerLinks, index: CustomerIndex, policy: SyncPolicy,
                auditExchange: String = "bridge.audit", versions: RecordVersions? = nil, receivables: ReceivablesHooks? = nil) {
        self.client = client
        self.receivables = receivables
        self.links = links
        self.policy = policy
        let twins = TwinSearch(index: index, links: links, matcher: CustomerMatcher(nameThreshold: policy.nameThreshold)) { since in
            try await client.customers(changedSince: since).map(SageSweeper.record)
        }
        self.twins = twins
        support = SyncLoaderSupport(stage: Self.stage, ledger: ledger, auditExchange: auditExchange, versions: versions,
                                    decisions: { try await twins.apply($0) })
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        if message.routingKey == SyncRoute.sageOrderCreate || message.routingKey == SyncRoute.sageOrderUpdate {
            let command = try message.decode(SyncMessage<OrderRecord>.self)
            let version = command.record.version.map { RecordVersion(record: "order:\(command.record.heartlandId)", version: $0) }
            return try await support.apply(message, record: version, logger: logger) { _ in try await order(command) }
        }
        return try await support.apply(message, logger: logger) { key in
            switch message.routingKey {
            case SyncRoute.sageCustomerUpsert: return try await customer(message.decode(SyncMessage<SyncCustomer>.self), key: key)
            case SyncRoute.sageCustomerDecision: return try await decision(message.decode(CustomerMatchDecision.self))
            case SyncRoute.sageItemUpsert: return try await item(message.decode(SyncMessage<ItemRecord>.self), key: key)
            case ReceivableCommand.invoiceRoutingKey, ReceivableCommand.receiptRoutingKey:
                return try await receivable(message.decode(ReceivableCommand.self))
            default: throw StageError.permanent("sage-loader has no master-data rule for commands of type '\(message.routingKey)'")
            }
        }
    }

    func customer(_ command: SyncMessage<SyncCustomer>, key: String) async throws -> SyncApplied {
        let record = command.record
        return try await twins.serially {
            switch try await resolve(record) {
            case .existing(let existing, let how):
                let current = SageSweeper.record(existing)
                var changes: [String: String] = [:]
                for field in command.fields where !current.holds(field, of: record) {
                    switch field {
                    case "first_name", "last_name":
                        let first = policy.owner(.customer, "first_name") == record.side ? record.firstName : current.firstName
                        let last = policy.owner(.customer, "last_name") == record.side ? record.lastName : current.lastName
                        changes["CustomerName"] = CustomerNames.join(first, last)
                        changes["ContactName"] = changes["CustomerName"]
                    case "email": changes["Email"] = record.email ?? ""
                    case "phone": changes["PhoneNumber"] = record.phone ?? ""
                    case "active": changes["Status"] = record.active ? "Active" : "Inactive"
                    default: break
                    }
                }
                let conflicts = try SyncConflicts.notices(
                    .customer, changedOn: record.side, fields: command.changedElsewhere ?? [], policy: policy,
                    what: "customer \(record.number)", twin: "Sage customer \(existing.CustomerNumber)",
                    theirs: record.value, ours: current.value, stage: Self.stage, exchange: support.auditExchange, key: key)
                guard !changes.isEmpty else {
                    try await twins.index.remember(current)
                    return SyncApplied(wrote: false, detail: "Sage customer \(existing.CustomerNumber) (\(how)) already holds Heartland customer "
                        + "\(record.number) version \(record.version): nothing written", notices: conflicts)
                }
                let updated = try await client.updateCustomer(number: existing.CustomerNumber, changes)
                try await twins.index.remember(SageSweeper.record(updated))
                return SyncApplied(wrote: true, detail: "Sage customer \(existing.CustomerNumber) (\(how)): \(changes.keys.sorted().joined(separator: ", ")) "
                    + "from Heartland customer \(record.number)", notices: conflicts)
            case .create:
                let created = try await create(record)
                return SyncApplied(wrote: true, detail: "created Sage customer \(created.CustomerNumber) from Heartland customer \(record.number)")
            }
        }
    }

    /// A Heartland item: its Heartland-owned fields on the Sage item with the same `ItemNumber`, or a
    /// new IC item (with its price in the price list) when Sage has none.
    func item(_ command: SyncMessage<ItemRecord>, key: String) async throws -> SyncApplied {
        let record = command.record
        let priceList = policy.priceList, currency = policy.currency
        var found = try await client.item(number: record.itemNumber)
        if found == nil {
            let created: Result<SageItem, SageError>
            do {
                created = .success(try await client.createItem(["ItemNumber": record.itemNumber, "Description": record.description,
                                                                "Status": record.active ? "Active" : "Inactive"]))
            } catch { created = .failure(error) }
            switch created {
            case .success:
                if let price = record.priceCents {
                    try await client.setPrice(itemNumber: record.itemNumber, priceList: priceList, currency: currency, cents: price)
                }
                return SyncApplied(wrote: true, detail: "created Sage item \(record.itemNumber) from Heartland version \(record.version)"
                    + (record.priceCents.map { ", \(priceList) price \(SageAmount.decimal(cents: $0))" } ?? ""))
            case .failure(.duplicateReference):
                // Another delivery created it a moment ago (a redelivery after a lost connection while the first was still
                // running, or the other loader): apply the record over what it wrote, as for an item found at once.
                found = try await client.item(number: record.itemNumber)
            case .failure(let error):
                throw error
            }
        }
        guard let existing = found else { throw StageError.transient("Sage item \(record.itemNumber) exists but cannot be read yet") }
        let price = try await client.prices(priceList: priceList, currency: currency, changedSince: nil, itemNumber: record.itemNumber).first
        let current = ItemRecord(itemNumber: existing.ItemNumber, description: existing.Description ?? "", priceCents: price?.basePriceCents,
                                 active: existing.isActive, version: existing.DateLastMaintained ?? "")
        var fields: [String: String] = [:]
        var newPrice: Int64?
        for field in command.fields where current.value(field) != record.value(field) {
            switch field {
            case "description": fields["Description"] = record.description
            case "active": fields["Status"] = record.active ? "Active" : "Inactive"
            case "price": newPrice = record.priceCents
            default: break
            }
        }
        let conflicts = try SyncConflicts.notices(
            .item, changedOn: .heartland, fields: command.changedElsewhere ?? [], policy: policy, what: record.itemNumber,
            twin: "Sage item \(existing.ItemNumber)", theirs: record.value, ours: current.value, stage: Self.stage,
            exchange: support.auditExchange, key: key)
        guard !fields.isEmpty || newPrice != nil else {
            return SyncApplied(wrote: false, detail: "Sage item \(existing.ItemNumber) already holds Heartland version \(record.version): nothing written",
                               notices: conflicts)
        }
        if !fields.isEmpty { _ = try await client.updateItem(number: existing.ItemNumber, fields) }
        if let newPrice { try await client.setPrice(itemNumber: existing.ItemNumber, priceList: priceList, currency: currency, cents: newPrice) }
        let written = fields.keys.sorted() + (newPrice == nil ? [] : ["\(priceList) price \(SageAmount.decimal(cents: newPrice!))"])
        return SyncApplied(wrote: true, detail: "Sage item \(existing.ItemNumber): \(written.joined(separator: ", ")) from Heartland version \(record.version)",
                           notices: conflicts)
    }

    /// A ticket's AR document: nothing when Sage already holds its number; otherwise posted for the customer found (same
    /// number, a link, a confident match) or created, as for a sales order. An uncertain match holds it for review.
    func receivable(_ command: ReceivableCommand) async throws -> SyncApplied {
        guard let receivables else {
            throw StageError.permanent("\(command.routingKey) \(command.document.documentNumber): this sage-loader posts no AR documents")
        }
        guard command.schema == ReceivableCommand.schema else { throw StageError.permanent("unknown schema \(command.schema)") }
        let document = command.document
        if let existing = try await receivables.posted(document) {
            // Compared with the customer the matching chose (its link), or the same number.
            let customer = try await links.sage(forHeartland: command.customer.number) ?? command.customer.number.uppercased()
            return SyncApplied(wrote: false, detail: "Sage AR already holds \(document.kind.rawValue) \(document.documentNumber): \(existing.detail)",
                               notices: try reconciliationPart(command, sage: existing.sage, customer: customer))
        }
        let customer = try await sageCustomerNumber(for: command.customer)
        let posted = try await receivables.post(document, customer, command.precededBy ?? [])
        return SyncApplied(wrote: true, detail: "\(document.kind.rawValue) \(document.documentNumber) of ticket \(document.ticketNumber) "
            + "(\(Money.decimalString(document.amount.minorUnits))) for Heartland customer \(command.customer.number): \(posted.detail)",
                           notices: try reconciliationPart(command, sage: posted.sage, customer: customer))
    }

    /// The document as Sage AR holds it, for its batch's reconciliation (folded in by the operations store, whether it
    /// arrives before or after the batch's own report). None from a transformer that predates it.
    func reconciliationPart(_ command: ReceivableCommand, sage: SageReceivable?, customer: String) throws -> [OutboundMessage] {
        guard let batchReference = command.reconciledUnder,
              let line = ReceivablesReconciler.compare(expected: [(command.document, customer)], sage: sage.map { [$0] } ?? []).first
        else { return [] }
        let report = ReconciliationReport.receivablePart(line, storeID: StoreID(command.store.id), businessDate: command.document.documentDate,
                                                         partOf: batchReference)
        return [try OutboundMessage(exchange: support.auditExchange, routingKey: AuditEvent.reconciliation.routingKey(report.status.rawValue),
                                    json: report, idempotencyKey: "reconciliation:\(report.reference)", schema: "bridge.reconciliation.v1")]
    }

    /// A person's decision about an uncertain match, sent by the console to both loaders.
    func decision(_ decision: CustomerMatchDecision) async throws -> SyncApplied {
        try await twins.apply(decision)
        let pairs = decision.pairs.map { "Heartland \($0.heartland) / Sage \($0.sage)" }.joined(separator: ", ")
        return SyncApplied(wrote: true, detail: "customer decision by \(decision.by) recorded: \(pairs) "
            + (decision.verdict == .same ? "are the same person (linked)" : "are different people (never matched again)"))
    }

    func create(_ record: SyncCustomer) async throws -> SageCustomer {
        let number = record.number.uppercased()
        guard !number.isEmpty, number.count <= 12 else {
            throw StageError.permanent("Heartland customer \(record.number): a Sage CustomerNumber has at most 12 characters; "
                + "create the customer in Sage by hand, then run `bridgectl dlq replay sage-loader`")
        }
        var fields = policy.sageCustomerDefaults
        fields["CustomerNumber"] = number
        fields["CustomerName"] = CustomerNames.join(record.firstName, record.lastName)
        fields["ContactName"] = fields["CustomerName"]
        fields["Email"] = record.email ?? ""
        fields["PhoneNumber"] = record.phone ?? ""
        fields["Status"] = record.active ? "Active" : "Inactive"
        let result: Result<SageCustomer, SageError>
        do { result = .success(try await client.createCustomer(fields)) } catch { result = .failure(error) }
        switch result {
        case .success(let created):
            try await twins.index.remember(SageSweeper.record(created))
            return created
        case .failure(.duplicateReference):
            // Another delivery created it a moment ago.
            guard let existing = try await client.customer(number: number) else {
                throw StageError.transient("Sage customer \(number) exists but cannot be read yet")
            }
            return existing
        case .failure(let error):
            throw error
        }
    }

    /// The same number, a remembered link, or a confident match found through the index; an uncertain
    /// match throws `CustomerReviewHold`.
    func resolve(_ record: SyncCustomer) async throws -> CustomerResolution<SageCustomer> {
        let number = record.number.uppercased()
        if number.count <= 12, let same = try await client.customer(number: number) { return .existing(same, how: "same number") }
        guard case .twin(let twin, _, let because) = try await twins.find(record), let found = try await client.customer(number: twin) else {
            return .create
        }
        return .existing(found, how: because)
    }

    /// Makes the Sage order hold this version of the Heartland order.
    func order(_ command: SyncMessage<OrderRecord>) async throws -> SyncApplied {
        let record = command.record
        let number = policy.orderPrefix + record.publicId
        let version = record.version.map { " version \($0)" } ?? ""
        if let existing = try await client.order(number: number) {
            guard let uniquifier = existing.OrderUniquifier else {
                throw StageError.transient("Sage order \(number) was read without its OrderUniquifier")
            }
            if record.isCancelled { return try await cancel(existing, uniquifier: uniquifier, record) }
            guard let lines = try OrderLinePlan.lines(current: existing.OrderDetails ?? [], wanted: record.lines, location: record.sageLocation,
                                                      order: number, heartland: record.publicId)
            else {
                return SyncApplied(wrote: false, detail: "Sage order \(number) (uniquifier \(uniquifier)) already holds Heartland order "
                    + "\(record.publicId)\(version): nothing written")
            }
            let updated = try await client.updateOrderLines(uniquifier: uniquifier, lines)
            return SyncApplied(wrote: true, detail: "Sage order \(number): lines \(OrderLinePlan.describe(updated.OrderDetails ?? lines)) "
                + "from Heartland order \(record.publicId)\(version)")
        }
        if record.isCancelled {
            return SyncApplied(wrote: false, detail: "Heartland order \(record.publicId) was cancelled before it reached Sage: nothing written")
        }
        guard let customer = record.customer else {
            throw StageError.permanent("Heartland order \(record.publicId) has no customer; a Sage sales order needs one. "
                + "Set the customer on the order in Heartland, then run `bridgectl dlq replay sage-loader`")
        }
        let customerNumber = try await sageCustomerNumber(for: customer)
        let order = SageOrder(OrderNumber: number, CustomerNumber: customerNumber, OrderReference: SyncKey.heartlandOrder(record.heartlandId),
                              OrderDescription: "Heartland order \(record.publicId)",
                              OrderDetails: record.lines.map { SageOrderLine(item: $0.itemNumber, location: record.sageLocation, quantity: $0.quantity,
                                                                             unitPriceCents: $0.unitPriceCents) })
        let result: Result<SageOrder, SageError>
        do { result = .success(try await client.createOrder(order)) } catch { result = .failure(error) }
        switch result {
        case .success(let created):
            return SyncApplied(wrote: true, detail: "Sage order \(created.OrderNumber) for customer \(customerNumber) from Heartland order \(record.publicId)")
        case .failure(.duplicateReference):
            return SyncApplied(wrote: false, detail: "Sage refused a second order \(number): already created")
        case .failure(let error):
            throw try await missingItems(of: order, refused: error) ?? error
        }
    }

    /// Sage refused an order: when items it names are not in Sage yet, the order waits for them (transient), since their
    /// sync may still be on its way (held back by Sage's rate limit, in a delay tier) and overtaken by the order; an
    /// order refused for another reason, or whose items all exist, keeps Sage's refusal. Read only after a refusal.
    func missingItems(of order: SageOrder, refused: SageError) async throws -> StageError? {
        guard case .validation = refused else { return nil }
        var missing: [String] = []
        for item in Set((order.OrderDetails ?? []).map(\.Item)).sorted() where try await client.item(number: item) == nil {
            missing.append(item)
        }
        guard !missing.isEmpty else { return nil }
        return .transient("Sage order \(order.OrderNumber) waits for item(s) \(missing.joined(separator: ", ")), not in Sage yet (their sync "
            + "may be on its way); Sage said: \(refused)")
    }

    /// A cancelled Heartland order: its Sage order is deleted while nothing of it has shipped or been invoiced; after
    /// that Sage cannot take it back, and a person decides.
    func cancel(_ existing: SageOrder, uniquifier: Int64, _ record: OrderRecord) async throws -> SyncApplied {
        let shipped = (existing.OrderDetails ?? []).filter { ($0.QuantityShippedToDate ?? 0) > 0 }
        guard existing.fulfilment == "open" else {
            throw StageError.permanent("Heartland order \(record.publicId) was cancelled, but Sage order \(existing.OrderNumber) is \(existing.fulfilment)"
                + (shipped.isEmpty ? "" : " (\(shipped.map { "\($0.Item): \($0.QuantityShippedToDate ?? 0) of \($0.QuantityOrdered)" }.joined(separator: ", ")))")
                + ": Sage cannot delete an order once it has shipped or been invoiced. Settle it with the customer (a return, a credit note) in Sage, "
                + "then discard this dead letter with `bridgectl dlq`")
        }
        try await client.deleteOrder(uniquifier: uniquifier)
        return SyncApplied(wrote: true, detail: "Sage order \(existing.OrderNumber) (uniquifier \(uniquifier)) deleted: Heartland order "
            + "\(record.publicId) was cancelled" + (record.version.map { " (version \($0))" } ?? ""))
    }

    /// The Sage customer of an order: its twin, or a new one (an uncertain match holds the order for review).
    func sageCustomerNumber(for customer: SyncCustomer) async throws -> String {
        try await twins.serially {
            let resolution = try await resolve(customer)
            if case .existing(let existing, _) = resolution { return existing.CustomerNumber }
            let created = try await create(customer)
            return created.CustomerNumber
        }
    }
}
