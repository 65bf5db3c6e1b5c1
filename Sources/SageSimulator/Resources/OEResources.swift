import Foundation
import GRDB
import SimulatorKit

/// OE sales orders. `DateLastEdited` changes on every write so a poller can ask
/// `$filter=DateLastEdited gt '...'` for what changed since its last pass.
public enum OEResources {
    public static let orders = DocumentResource(
        resource: "OE/OEOrders", keyFields: ["OrderUniquifier"],
        create: { db, body, now in
            let customer = try body.required("CustomerNumber", in: "an order")
            try ARResources.requireCustomer(db, customer, context: "order")
            let uniquifier = try SageRecords.nextNumber(db, "oe-order")
            let orderNumber = body["OrderNumber"]?.stringValue ?? String(format: "ORD%06d", uniquifier)
            if try SageRecords.exists(db, resource: "OE/order-number", key: orderNumber) {
                throw SageError.duplicate("Order number \(orderNumber) already exists.")
            }
            try SageRecords.insert(db, resource: "OE/order-number", key: orderNumber, json: .null, now: "")
            let stamp = JSONValue.string(Timestamps.iso8601Millis(now))
            let fields = DocumentResource.overlay([
                "OrderDate": .string(Timestamps.iso8601(now)), "PONumber": "", "OrderReference": "", "OrderDescription": "",
                "OrderCompleted": "NotCompleted", "OnHold": false,
            ], with: body).merging([
                "OrderUniquifier": .int(uniquifier), "OrderNumber": .string(orderNumber), "DateCreated": stamp,
                "DateLastEdited": stamp,
            ]) { _, new in new }
            return try priced(db, .object(fields))
        },
        update: { db, existing, patch, now in
            let merged = DocumentResource.merge(existing, patch, keeping: ["OrderUniquifier", "OrderNumber", "DateCreated"])
            return try priced(db, merged).setting("DateLastEdited", .string(Timestamps.iso8601Millis(now)))
        })

    /// Numbers the lines, checks items, and totals `QuantityOrdered x PricingUnitPrice` in cents.
    static func priced(_ db: Database, _ order: JSONValue) throws -> JSONValue {
        var lines: [JSONValue] = []
        var total: Int64 = 0
        for (index, line) in (order["OrderDetails"]?.arrayValue ?? []).enumerated() {
            let item = try line.required("Item", in: "order line \(index + 1)")
            try ICResources.requireItem(db, item)
            guard let quantity = line["QuantityOrdered"]?.int64Value, let price = Money.cents(fromDollars: line["PricingUnitPrice"])
            else { throw SageError.fieldInvalid("Order line \(index + 1): QuantityOrdered (whole) and PricingUnitPrice are required.") }
            let extended = quantity * price
            total += extended
            lines.append(line.setting("LineNumber", .int(index + 1)).setting("Location", line["Location"] ?? "1")
                .setting("PricingUnitPrice", Money.dollars(price)).setting("ExtendedAmount", Money.dollars(extended)))
        }
        return order.setting("OrderDetails", .array(lines)).setting("OrderTotal", Money.dollars(total))
    }
}
