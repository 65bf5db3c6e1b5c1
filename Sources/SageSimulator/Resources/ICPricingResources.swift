import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// `IC/ICItemPricing`: an item's base price per price list and currency (Sage 300 keeps prices here,
/// not on the item). `DateLastMaintained` changes on every write, so a poller can ask for what changed.
public enum ICPricingResources {
    public static let itemPricing = DocumentResource(
        resource: "IC/ICItemPricing", keyFields: ["CurrencyCode", "ItemNumber", "PriceListCode"],
        create: { db, body, now in
            let item = try body.required("ItemNumber", in: "an item price")
            _ = try body.required("PriceListCode", in: "item price of \(item)")
            try ICResources.requireItem(db, item)
            return try priced(.object(DocumentResource.overlay([
                "CurrencyCode": "USD", "PriceBy": "Item", "Description": "",
            ], with: body)), now: now)
        },
        update: { _, existing, patch, now in
            try priced(DocumentResource.merge(existing, patch, keeping: ["CurrencyCode", "ItemNumber", "PriceListCode"]), now: now)
        })

    static func priced(_ entity: JSONValue, now: Date) throws -> JSONValue {
        guard let cents = Money.cents(fromDollars: entity["BasePrice"]), cents >= 0 else {
            throw SageError.fieldInvalid("BasePrice must be a non-negative amount with at most two decimals.")
        }
        return entity.setting("BasePrice", Money.dollars(cents)).setting("DateLastMaintained", .string(Timestamps.iso8601Millis(now)))
    }
}
