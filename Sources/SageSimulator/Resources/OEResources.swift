import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// OE sales orders and their shipments. `DateLastEdited` changes on every write so a poller can ask
/// `$filter=DateLastEdited gt '...'` for what changed since its last pass.
///
/// As in Sage 300, an order's lines keep their `LineNumber` across edits and carry what has been shipped
/// (`QuantityShippedToDate`): a PATCH of `OrderDetails` that names a line by its number changes that line, lines
/// without a number are added, and lines left out are removed; a line cannot drop below what was shipped, and a
/// shipped line cannot be removed. An order with nothing shipped or invoiced can be deleted.
public enum OEResources {
    public static let orders = DocumentResource(
        resource: "OE/OEOrders", keyFields: ["OrderUniquifier"],
        create: { db, body, now in
            let customer = try body.required("CustomerNumber", in: "an order")
            try ARResources.requireCustomer(db, customer, context: "order")
            let uniquifier = try SageRecords.nextNumber(db, "oe-order")
            let orderNumber = body["OrderNumber"]?.stringValue ?? String(format: "ORD%06d", uniquifier)
            if try SageRecords.exists(db, resource: numbers, key: orderNumber) {
                throw SageError.duplicate("Order number \(orderNumber) already exists.")
            }
            try SageRecords.insert(db, resource: numbers, key: orderNumber, json: .int(Int64(uniquifier)), now: "")
            let stamp = JSONValue.string(Timestamps.iso8601Millis(now))
            let fields = DocumentResource.overlay([
                "OrderDate": .string(Timestamps.iso8601(now)), "PONumber": "", "OrderReference": "", "OrderDescription": "",
                "OrderCompleted": "NotCompleted", "OnHold": false,
            ], with: body).merging([
                "OrderUniquifier": .int(uniquifier), "OrderNumber": .string(orderNumber), "DateCreated": stamp,
                "DateLastEdited": stamp,
            ]) { _, new in new }
            return try priced(db, .object(fields), previous: [])
        },
        update: { db, existing, patch, now in
            let merged = DocumentResource.merge(existing, patch, keeping: ["OrderUniquifier", "OrderNumber", "DateCreated"])
            return try priced(db, merged, previous: existing["OrderDetails"]?.arrayValue ?? [])
                .setting("DateLastEdited", .string(Timestamps.iso8601Millis(now)))
        },
        delete: { _, existing in
            let number = existing["OrderNumber"]?.stringValue ?? "?"
            let shipped = (existing["OrderDetails"]?.arrayValue ?? []).contains { ($0["QuantityShippedToDate"]?.int64Value ?? 0) > 0 }
            if shipped || !(existing["LastShipmentNumber"]?.stringValue ?? "").isEmpty || !(existing["LastInvoiceNumber"]?.stringValue ?? "").isEmpty {
                throw SageError.general("Order \(number) has shipments or invoices and cannot be deleted.")
            }
        })

    /// `OE/OEShipments`: a shipment of some quantities of an order's lines (`OrderNumber`, `ShipmentDetails` with
    /// `LineNumber` and `QuantityShipped`). It adds to each line's `QuantityShippedToDate`, sets the order's
    /// `LastShipmentNumber`, and completes the order when every line is shipped in full.
    public static let shipments = DocumentResource(
        resource: "OE/OEShipments", keyFields: ["ShipmentUniquifier"],
        create: { db, body, now in
            let orderNumber = try body.required("OrderNumber", in: "a shipment")
            guard let key = try orderKey(db, number: orderNumber), var record = try SageRecords.fetch(db, resource: orders.resource, key: key) else {
                throw SageError.fieldInvalid("Order number \(orderNumber) does not exist.")
            }
            guard (record["LastInvoiceNumber"]?.stringValue ?? "").isEmpty else {
                throw SageError.general("Order \(orderNumber) is invoiced; it cannot be shipped.")
            }
            var lines = record["OrderDetails"]?.arrayValue ?? []
            let details = body["ShipmentDetails"]?.arrayValue ?? []
            guard !details.isEmpty else { throw SageError.fieldInvalid("ShipmentDetails is required: a shipment ships at least one line.") }
            for (index, detail) in details.enumerated() {
                guard let lineNumber = detail["LineNumber"]?.int64Value, let quantity = detail["QuantityShipped"]?.int64Value, quantity > 0,
                      let position = lines.firstIndex(where: { $0["LineNumber"]?.int64Value == lineNumber })
                else { throw SageError.fieldInvalid("Shipment line \(index + 1): LineNumber of the order and a positive QuantityShipped are required.") }
                let ordered = lines[position]["QuantityOrdered"]?.int64Value ?? 0
                let shipped = lines[position]["QuantityShippedToDate"]?.int64Value ?? 0
                guard shipped + quantity <= ordered else {
                    throw SageError.fieldInvalid("Order \(orderNumber) line \(lineNumber): \(quantity) more would ship \(shipped + quantity) of \(ordered) ordered.")
                }
                lines[position] = lines[position].setting("QuantityShippedToDate", .int(shipped + quantity))
            }
            let uniquifier = try SageRecords.nextNumber(db, "oe-shipment")
            let shipmentNumber = body["ShipmentNumber"]?.stringValue ?? String(format: "SH%06d", uniquifier)
            let complete = lines.allSatisfy { ($0["QuantityShippedToDate"]?.int64Value ?? 0) >= ($0["QuantityOrdered"]?.int64Value ?? 0) }
            let stamp = Timestamps.iso8601Millis(now)
            record = record.setting("OrderDetails", .array(lines)).setting("LastShipmentNumber", .string(shipmentNumber))
                .setting("OrderCompleted", .string(complete ? "Completed" : "NotCompleted")).setting("DateLastEdited", .string(stamp))
            try SageRecords.update(db, resource: orders.resource, key: key, json: record, now: stamp)
            return .object([
                "ShipmentUniquifier": .int(uniquifier), "ShipmentNumber": .string(shipmentNumber), "OrderNumber": .string(orderNumber),
                "ShipmentDate": .string(Timestamps.iso8601(now)), "ShipmentDetails": .array(details), "DateLastEdited": .string(stamp),
            ])
        })

    /// Order numbers taken, each with its order's uniquifier: Sage refuses a second order with a number.
    static let numbers = "OE/order-number"

    /// The storage key (uniquifier) of the order with a number.
    static func orderKey(_ db: Database, number: String) throws -> String? {
        guard let uniquifier = try SageRecords.fetch(db, resource: numbers, key: number)?.int64Value else { return nil }
        return String(uniquifier)
    }

    /// Numbers the lines (a line keeps the number it was given), checks items, keeps what each line has shipped,
    /// refuses to go below it, and totals `QuantityOrdered x PricingUnitPrice` in cents.
    static func priced(_ db: Database, _ order: JSONValue, previous: [JSONValue]) throws -> JSONValue {
        let shippedBefore = Dictionary(previous.compactMap { line -> (Int64, (item: String, shipped: Int64))? in
            guard let number = line["LineNumber"]?.int64Value else { return nil }
            return (number, (line["Item"]?.stringValue ?? "", line["QuantityShippedToDate"]?.int64Value ?? 0))
        }, uniquingKeysWith: { first, _ in first })
        let orderNumber = order["OrderNumber"]?.stringValue ?? "?"
        var nextNumber = max(shippedBefore.keys.max() ?? 0, 0)
        var lines: [JSONValue] = []
        var total: Int64 = 0
        for (index, line) in (order["OrderDetails"]?.arrayValue ?? []).enumerated() {
            let item = try line.required("Item", in: "order line \(index + 1)")
            try ICResources.requireItem(db, item)
            guard let quantity = line["QuantityOrdered"]?.int64Value, let price = Money.cents(fromDollars: line["PricingUnitPrice"])
            else { throw SageError.fieldInvalid("Order line \(index + 1): QuantityOrdered (whole) and PricingUnitPrice are required.") }
            var shipped: Int64 = 0
            let number: Int64
            if let kept = line["LineNumber"]?.int64Value, let before = shippedBefore[kept] {
                guard before.item == item || before.shipped == 0 else {
                    throw SageError.fieldInvalid("Order \(orderNumber) line \(kept) has shipped \(before.shipped) of item \(before.item); its item cannot change.")
                }
                guard quantity >= before.shipped else {
                    throw SageError.fieldInvalid("Order \(orderNumber) line \(kept): QuantityOrdered \(quantity) is less than the \(before.shipped) already shipped.")
                }
                number = kept
                shipped = before.shipped
            } else {
                nextNumber += 1
                number = nextNumber
            }
            let extended = quantity * price
            total += extended
            lines.append(line.setting("LineNumber", .int(Int(number))).setting("Location", line["Location"] ?? "1")
                .setting("PricingUnitPrice", Money.dollars(price)).setting("ExtendedAmount", Money.dollars(extended))
                .setting("QuantityShippedToDate", .int(Int(shipped))))
        }
        let kept = Set(lines.compactMap { $0["LineNumber"]?.int64Value })
        if let dropped = shippedBefore.first(where: { !kept.contains($0.key) && $0.value.shipped > 0 }) {
            throw SageError.fieldInvalid("Order \(orderNumber) line \(dropped.key) has shipped \(dropped.value.shipped); it cannot be removed.")
        }
        return order.setting("OrderDetails", .array(lines)).setting("OrderTotal", Money.dollars(total))
    }
}
