import Foundation
import Logging
import Messaging
import SageConnector

/// sage-loader's master-data half: applies Heartland's customers and sales orders to Sage 300,
/// exactly once per record version (the ledger; for orders Sage itself, which refuses a second
/// `OrderNumber`):
///
/// - `sage.customer.upsert`: the Heartland-owned fields of the twin AR customer (same number, a link,
///   or a confident match), a new customer numbered like Heartland's when there is none, a review hold
///   when the match is uncertain;
/// - `sage.order.create`: an OE order `HL-<Heartland order #>` for the customer (resolved the same way).
public struct SageMasterDataHandler: StageHandler {
    public static let stage = "sage-loader"
    let client: SageMasterDataClient
    let links: CustomerLinks
    let policy: SyncPolicy
    let support: SyncLoaderSupport

    public init(client: SageMasterDataClient, ledger: IdempotencyStore, links: CustomerLinks, policy: SyncPolicy,
                auditExchange: String = "bridge.audit") {
        self.client = client
        self.links = links
        self.policy = policy
        support = SyncLoaderSupport(stage: Self.stage, ledger: ledger, auditExchange: auditExchange)
    }

    public func handle(_ message: InboundMessage, logger: Logger) async throws -> StageOutcome {
        try await support.apply(message, logger: logger) { _ in
            switch message.routingKey {
            case SyncRoute.sageCustomerUpsert: return try await customer(message.decode(SyncMessage<SyncCustomer>.self))
            case SyncRoute.sageOrderCreate: return try await order(message.decode(SyncMessage<OrderRecord>.self))
            default: throw StageError.permanent("sage-loader has no master-data rule for commands of type '\(message.routingKey)'")
            }
        }
    }

    func customer(_ command: SyncMessage<SyncCustomer>) async throws -> SyncApplied {
        let record = command.record
        switch try await resolve(record) {
        case .existing(let existing, let how):
            let current = SageSweeper.record(existing)
            var changes: [String: String] = [:]
            for field in command.fields where current.value(field) != record.value(field) {
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
            guard !changes.isEmpty else {
                return SyncApplied(wrote: false, detail: "Sage customer \(existing.CustomerNumber) (\(how)) already holds Heartland customer "
                    + "\(record.number) version \(record.version): nothing written")
            }
            _ = try await client.updateCustomer(number: existing.CustomerNumber, changes)
            return SyncApplied(wrote: true, detail: "Sage customer \(existing.CustomerNumber) (\(how)): \(changes.keys.sorted().joined(separator: ", ")) "
                + "from Heartland customer \(record.number)")
        case .create:
            let created = try await create(record)
            return SyncApplied(wrote: true, detail: "created Sage customer \(created.CustomerNumber) from Heartland customer \(record.number)")
        }
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

    /// The same number, a remembered link, or a confident match among Sage's customers.
    func resolve(_ record: SyncCustomer) async throws -> CustomerResolution<SageCustomer> {
        let number = record.number.uppercased()
        if number.count <= 12, let same = try await client.customer(number: number) { return .existing(same, how: "same number") }
        if let linked = try await links.sage(forHeartland: record.number), let found = try await client.customer(number: linked) {
            return .existing(found, how: "linked to Heartland \(record.number)")
        }
        let candidates = try await client.customers(changedSince: nil)
        let matcher = CustomerMatcher(nameThreshold: policy.nameThreshold)
        guard let match = try matcher.decide(record, among: candidates.map { SageSweeper.record($0).matchable }, target: "Sage",
                                             stage: Self.stage),
              let found = candidates.first(where: { $0.CustomerNumber == match.id })
        else { return .create }
        try await links.link(heartland: record.number, sage: found.CustomerNumber, because: match.because)
        return .existing(found, how: "matched: \(match.because)")
    }

    func order(_ command: SyncMessage<OrderRecord>) async throws -> SyncApplied {
        let record = command.record
        let number = policy.orderPrefix + record.publicId
        if let existing = try await client.order(number: number) {
            return SyncApplied(wrote: false, detail: "Sage already holds order \(number) (uniquifier \(existing.OrderUniquifier.map(String.init) ?? "?")): nothing written")
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
            throw error
        }
    }

    /// The Sage customer of an order: its twin, or a new one (an uncertain match holds the order for review).
    func sageCustomerNumber(for customer: SyncCustomer) async throws -> String {
        let resolution = try await resolve(customer)
        if case .existing(let existing, _) = resolution { return existing.CustomerNumber }
        let created = try await create(customer)
        return created.CustomerNumber
    }
}
