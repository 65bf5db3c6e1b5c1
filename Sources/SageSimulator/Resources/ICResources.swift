import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// IC items, locations and quantities per item and location.
public enum ICResources {
    public static let items = DocumentResource(
        resource: "IC/ICItems", keyFields: ["ItemNumber"],
        create: { _, body, now in
            let number = try body.required("ItemNumber", in: "an item")
            _ = try body.required("Description", in: "item \(number)")
            return .object(DocumentResource.overlay([
                "UnformattedItemNumber": .string(number.replacingOccurrences(of: "-", with: "")), "Status": "Active",
                "StockingUnitOfMeasure": "EA", "Category": "GEN", "CostingMethod": "MovingAverage", "StockItem": true,
                "DateLastMaintained": .string(Timestamps.iso8601Millis(now)),
            ], with: body))
        },
        update: { _, existing, patch, now in
            DocumentResource.merge(existing, patch, keeping: ["ItemNumber"])
                .setting("DateLastMaintained", .string(Timestamps.iso8601Millis(now)))
        })

    public static let locations = DocumentResource(
        resource: "IC/ICLocations", keyFields: ["Location"],
        create: { _, body, _ in
            let location = try body.required("Location", in: "a location")
            return .object(DocumentResource.overlay(["Name": .string(location), "Status": "Active"], with: body))
        })

    public static let locationDetails = DocumentResource(
        resource: "IC/ICLocationDetails", keyFields: ["ItemNumber", "Location"],
        create: { db, body, now in
            let item = try body.required("ItemNumber", in: "a location detail")
            let location = try body.required("Location", in: "a location detail")
            try requireItem(db, item)
            guard try SageRecords.exists(db, resource: locations.resource, key: location) else {
                throw SageError.fieldInvalid("Location \(location) does not exist.")
            }
            return try quantities(.object(DocumentResource.overlay([
                "QuantityOnHand": 0, "QuantityCommitted": 0, "UnitCost": 0,
            ], with: body)), now: now)
        },
        update: { _, existing, patch, now in
            var merged = DocumentResource.merge(existing, patch, keeping: ["ItemNumber", "Location"])
            if let delta = patch["QuantityAdjustment"]?.decimalValue {
                merged = merged.setting("QuantityOnHand", .number((existing["QuantityOnHand"]?.decimalValue ?? 0) + delta))
            }
            if case .object(var fields) = merged { fields["QuantityAdjustment"] = nil; merged = .object(fields) }
            return try quantities(merged, now: now)
        })

    static func requireItem(_ db: Database, _ item: String) throws {
        guard try SageRecords.exists(db, resource: items.resource, key: item) else {
            throw SageError.fieldInvalid("Item number \(item) does not exist.")
        }
    }

    /// Derives `QuantityAvailable` and stamps the record.
    static func quantities(_ entity: JSONValue, now: Date) throws -> JSONValue {
        guard let onHand = entity["QuantityOnHand"]?.decimalValue, let committed = entity["QuantityCommitted"]?.decimalValue
        else { throw SageError.fieldInvalid("QuantityOnHand and QuantityCommitted must be numbers.") }
        return entity.setting("QuantityAvailable", .number(onHand - committed))
            .setting("DateLastMaintained", .string(Timestamps.iso8601Millis(now)))
    }

    /// The warehouse every fresh company has.
    static func seedLocations(_ db: Database) throws {
        guard try !SageRecords.exists(db, resource: locations.resource, key: "1") else { return }
        _ = try locations.insert(db, body: ["Location": "1", "Name": "Main warehouse"], now: Date())
    }
}
