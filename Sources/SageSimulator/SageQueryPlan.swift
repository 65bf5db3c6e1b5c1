import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// Which stored records can answer an OData query without reading the whole collection, the way
/// Sage's SQL Server answers it from an index: a lookup by the entity's key (`CustomerNumber eq '1100'`),
/// the records changed since a stamp (`DateLastMaintained ge '…'`), or one page of the collection in
/// key order (no filter). The full `$filter` is still applied to what is read, so the answer is the
/// same as reading everything; only the cost differs (a collection is kept as JSON documents here, and
/// parsing 100,000 of them per request is the simulator's cost, not Sage's).
struct SageQueryPlan {
    let resource: String
    let keyFields: [String]
    let query: ODataQuery

    /// Fields every record of a collection stamps with the same instant as its `date_last_edited` column.
    static let lastEditedFields: Set<String> = ["DateLastMaintained", "DateLastEdited"]

    /// The records to filter, or nil when the query needs the whole collection.
    func rows(_ db: Database) throws -> [JSONValue]? {
        guard !keyFields.isEmpty else { return nil }
        let terms = query.requiredComparisons
        if keyFields.count == 1, let key = terms.first(where: { $0.field == keyFields[0] && $0.op == "eq" })?.literal.stringValue {
            return try SageRecords.fetch(db, resource: resource, key: key).map { [$0] } ?? []
        }
        if let since = terms.first(where: { Self.lastEditedFields.contains($0.field) && ($0.op == "ge" || $0.op == "gt") }),
           let text = since.literal.stringValue, let date = Timestamps.parse(text) {
            // A millisecond early: the stamp read back from text may round either way; the filter drops the extra rows.
            return try SageRecords.edited(db, resource: resource, since: Timestamps.iso8601Millis(date.addingTimeInterval(-0.001)))
        }
        if query.isPlainPage {
            return try SageRecords.page(db, resource: resource, offset: query.skip, limit: query.top ?? Int.max)
        }
        return nil
    }
}
