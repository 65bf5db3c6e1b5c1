import Foundation

// The master-data messages of the two-way sync. Events (`bridge.events`) say what changed on one
// side; the transformer validates them and turns each into a command (`bridge.commands`) for the
// other side's loader. The idempotency key travels unchanged from the source to the loader: one key
// per record version (`sage:item:<ItemNumber>:<DateLastMaintained>` and the like).

/// An item as one side holds it: Sage's IC item + its price in the configured price list, or
/// Heartland's item (`public_id` = Sage's `ItemNumber`).
public struct ItemRecord: Sendable, Codable, Equatable {
    public var itemNumber: String
    public var description: String
    /// Nil when the item has no price in the price list.
    public var priceCents: Int64?
    public var active: Bool
    /// Sage: `max(DateLastMaintained)` of the item and its price; Heartland: the item's `updated_at`.
    public var version: String

    public init(itemNumber: String, description: String, priceCents: Int64?, active: Bool, version: String) {
        self.itemNumber = itemNumber
        self.description = description
        self.priceCents = priceCents
        self.active = active
        self.version = version
    }

    /// The value of a synced field, as text (for fingerprints and comparisons).
    public func value(_ field: String) -> String? {
        switch field {
        case "description": return description
        case "price": return priceCents.map(String.init)
        case "active": return String(active)
        default: return nil
        }
    }
}

/// Stock on hand of one item at one Sage location (whole units; Sage sends a decimal).
public struct StockRecord: Sendable, Codable, Equatable {
    public var itemNumber: String
    public var location: String
    /// Sage's `QuantityOnHand` as decimal text; the transformer checks that it is whole.
    public var quantityOnHand: String
    public var version: String

    public init(itemNumber: String, location: String, quantityOnHand: String, version: String) {
        self.itemNumber = itemNumber
        self.location = location
        self.quantityOnHand = quantityOnHand
        self.version = version
    }
}

/// A customer as one side holds it, in the bridge's terms.
public struct SyncCustomer: Sendable, Codable, Equatable {
    public var side: SyncSide
    /// Heartland's internal id, or Sage's customer number.
    public var id: String
    /// Heartland's `public_id` (Customer #) or Sage's `CustomerNumber`: the number the other side is given on creation.
    public var number: String
    public var firstName: String
    public var lastName: String
    public var email: String?
    public var phone: String?
    public var active: Bool
    public var version: String

    public init(side: SyncSide, id: String, number: String, firstName: String, lastName: String, email: String?, phone: String?,
                active: Bool, version: String) {
        self.side = side
        self.id = id
        self.number = number
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phone = phone
        self.active = active
        self.version = version
    }

    /// The value of a synced field, as text (for fingerprints and comparisons).
    public func value(_ field: String) -> String? {
        switch field {
        case "first_name": return firstName
        case "last_name": return lastName
        case "email": return email
        case "phone": return phone
        case "active": return active ? "true" : "false"
        default: return nil
        }
    }

    public var matchable: CustomerRecord {
        CustomerRecord(id: id, firstName: firstName, lastName: lastName, email: email, phone: phone)
    }

    /// True when this record already holds `other`'s value of a field: the same text, or for the
    /// names the same name however it is written (`Brown, Michael` holds `Michael` `Brown`).
    public func holds(_ field: String, of other: SyncCustomer) -> Bool {
        if value(field) == other.value(field) { return true }
        guard field == "first_name" || field == "last_name" else { return false }
        return PersonName.from(first: firstName, last: lastName).key == PersonName.from(first: other.firstName, last: other.lastName).key
    }
}

/// A Heartland sales order (customer / special order) for Sage OE: the whole order as Heartland holds it now, so
/// that any one version can create, change or cancel the Sage order on its own.
public struct OrderRecord: Sendable, Codable, Equatable {
    public struct Line: Sendable, Codable, Equatable {
        /// Heartland item `public_id`, which is Sage's `ItemNumber` for synced items.
        public var itemNumber: String
        public var quantity: Int64
        public var unitPriceCents: Int64
        public var description: String?

        public init(itemNumber: String, quantity: Int64, unitPriceCents: Int64, description: String? = nil) {
            self.itemNumber = itemNumber
            self.quantity = quantity
            self.unitPriceCents = unitPriceCents
            self.description = description
        }
    }
    public var heartlandId: Int64
    public var publicId: String
    /// The Sage location of the Heartland store (nil: unmapped; Sage's default).
    public var sageLocation: String?
    public var customer: SyncCustomer?
    public var lines: [Line]
    public var createdAt: String?
    /// `open` or `cancelled` (nil in messages from before order changes were synced: open).
    public var status: String?
    /// Heartland's `updated_at`: an older version never overwrites a newer one (nil: not compared).
    public var version: String?

    public init(heartlandId: Int64, publicId: String, sageLocation: String?, customer: SyncCustomer?, lines: [Line], createdAt: String?,
                status: String? = nil, version: String? = nil) {
        self.heartlandId = heartlandId
        self.publicId = publicId
        self.sageLocation = sageLocation
        self.customer = customer
        self.lines = lines
        self.createdAt = createdAt
        self.status = status
        self.version = version
    }

    public var isCancelled: Bool { status == "cancelled" }
}

/// Where a Sage order stands, for the Heartland order it came from.
public struct OrderStatusRecord: Sendable, Codable, Equatable {
    public var orderNumber: String
    /// The Heartland order's `public_id` (from the Sage order number `HL-<public_id>`).
    public var heartlandPublicId: String
    /// `partially_shipped`, `shipped` or `invoiced`.
    public var status: String
    public var version: String
    /// What each line has shipped (nil in messages from before partial shipments were synced).
    public var lines: [ShippedLine]?

    public struct ShippedLine: Sendable, Codable, Equatable {
        public var itemNumber: String
        public var ordered: Int64
        public var shipped: Int64

        public init(itemNumber: String, ordered: Int64, shipped: Int64) {
            self.itemNumber = itemNumber
            self.ordered = ordered
            self.shipped = shipped
        }
    }

    public init(orderNumber: String, heartlandPublicId: String, status: String, version: String, lines: [ShippedLine]? = nil) {
        self.orderNumber = orderNumber
        self.heartlandPublicId = heartlandPublicId
        self.status = status
        self.version = version
        self.lines = lines
    }

    /// What Sage has shipped, as a person reads it: `10001 2 of 3, 10002 0 of 1`.
    public var shippedText: String {
        (lines ?? []).map { "\($0.itemNumber) \($0.shipped) of \($0.ordered)" }.joined(separator: ", ")
    }
}

/// The envelope of every sync message: the record, the fields the receiving loader may write on an
/// existing record (those the source side owns), and the record's idempotency key.
public struct SyncMessage<Record: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    public var schema: String
    public var record: Record
    public var fields: [String]
    public var idempotencyKey: String
    /// Fields the source side does not own whose value changed there since its last sweep: the
    /// receiving loader reports a `sync_conflict` for each one that now differs from its owner's value.
    public var changedElsewhere: [String]?

    public init(schema: String, record: Record, fields: [String] = [], idempotencyKey: String, changedElsewhere: [String]? = nil) {
        self.schema = schema
        self.record = record
        self.fields = fields
        self.idempotencyKey = idempotencyKey
        self.changedElsewhere = changedElsewhere
    }
}

/// Routing keys and schemas.
public enum SyncRoute {
    // events on bridge.events
    public static let sageItemChanged = "sage.item.changed"
    public static let sageStockChanged = "sage.stock.changed"
    public static let sageCustomerChanged = "sage.customer.changed"
    public static let sageOrderStatusChanged = "sage.order.status_changed"
    public static let heartlandCustomerChanged = "heartland.customer.changed"
    public static let heartlandOrderCreated = "heartland.order.created"
    /// A later version of an order already published: lines edited, or cancelled.
    public static let heartlandOrderChanged = "heartland.order.changed"
    public static let heartlandItemChanged = "heartland.item.changed"
    // commands on bridge.commands
    public static let heartlandItemUpdate = "heartland.item.update"
    public static let heartlandStockSet = "heartland.stock.set"
    public static let heartlandCustomerUpsert = "heartland.customer.upsert"
    public static let heartlandOrderStatus = "heartland.order.status"
    public static let sageCustomerUpsert = "sage.customer.upsert"
    public static let sageOrderCreate = "sage.order.create"
    public static let sageOrderUpdate = "sage.order.update"
    public static let sageItemUpsert = "sage.item.upsert"
    /// A person's decision about an uncertain customer match (`CustomerMatchDecision`), from the console to each loader.
    public static let heartlandCustomerDecision = "heartland.customer.decision"
    public static let sageCustomerDecision = "sage.customer.decision"

    /// `bridge.sync.<routing key with _>.v1`.
    public static func schema(_ routingKey: String) -> String {
        "bridge.sync." + routingKey.replacingOccurrences(of: ".", with: "_") + ".v1"
    }
}

/// Idempotency keys: one per record version.
public enum SyncKey {
    public static func sageItem(_ number: String, _ version: String) -> String { "sage:item:\(number):\(version)" }
    public static func sageStock(_ item: String, _ location: String, _ version: String) -> String { "sage:stock:\(item):\(location):\(version)" }
    public static func sageCustomer(_ number: String, _ version: String) -> String { "sage:customer:\(number):\(version)" }
    /// A fulfilment of a Sage order: its status and what each line has shipped.
    public static func sageOrder(_ number: String, _ status: String, shipped fingerprint: String) -> String {
        "sage:order:\(number):\(status):\(fingerprint.prefix(8))"
    }
    public static func heartlandCustomer(_ id: String, _ version: String) -> String { "heartland:customer:\(id):\(version)" }
    public static func heartlandOrder(_ id: Int64) -> String { "heartland:order:\(id)" }
    /// A later version of a Heartland order (`updated_at` and a fingerprint of what changed).
    public static func heartlandOrder(_ id: Int64, version: String) -> String { "heartland:order:\(id):\(version)" }
    public static func heartlandItem(_ number: String, _ version: String) -> String { "heartland:item:\(number):\(version)" }
}
