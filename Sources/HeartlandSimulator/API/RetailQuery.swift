import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// Heartland Retail `_filter` / `sort[]` / `page` / `per_page` turned into SQL over a whitelist of
/// fields. `_filter` is JSON: `{"field": value}` or `{"field": {"$gt": v, "$lte": v, "$ne": v, "$in": [...]}}`;
/// several `_filter[]` parameters are combined with AND.
struct RetailQuery: Sendable {
    enum Kind { case int, text, date, bool }

    let whereClause: String
    let arguments: StatementArguments
    let orderClause: String
    let paging: Paging

    init(_ request: SimRequest, fields: [String: (column: String, kind: Kind)], defaultSort: String = "id") throws {
        paging = try Paging(request, sizeParameter: "per_page", defaultSize: 20, maxSize: 5000) {
            RetailError.invalid("paging", $0)
        }
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        let filters = (request.query["_filter"] ?? []) + (request.query["_filter[]"] ?? [])
        for text in filters {
            guard let filter = try? JSONValue.parse(Data(text.utf8)), let fieldsOfFilter = filter.objectValue else {
                throw RetailError.invalid("_filter", "must be a JSON object")
            }
            for (name, condition) in fieldsOfFilter.sorted(by: { $0.key < $1.key }) {
                guard let field = fields[name] else { throw RetailError.invalid("_filter", "cannot filter on \(name)") }
                let operators = condition.objectValue ?? ["$eq": condition]
                for (op, value) in operators.sorted(by: { $0.key < $1.key }) {
                    let sqlOp: String
                    switch op {
                    case "$eq": sqlOp = "="
                    case "$ne": sqlOp = "!="
                    case "$gt": sqlOp = ">"
                    case "$gte": sqlOp = ">="
                    case "$lt": sqlOp = "<"
                    case "$lte": sqlOp = "<="
                    case "$in":
                        let values = try (value.arrayValue ?? []).map { try Self.convert($0, field.kind, name) }
                        conditions.append(values.isEmpty ? "0" : "\(field.column) IN (\(values.map { _ in "?" }.joined(separator: ",")))")
                        arguments += values
                        continue
                    default: throw RetailError.invalid("_filter", "unsupported operator \(op)")
                    }
                    if value.isNull {
                        conditions.append("\(field.column) IS \(sqlOp == "=" ? "" : "NOT ")NULL")
                    } else {
                        conditions.append("\(field.column) \(sqlOp) ?")
                        arguments.append(try Self.convert(value, field.kind, name))
                    }
                }
            }
        }
        for name in ["location_id", "item_id"] where fields[name] != nil {
            guard let value = request.queryValue(name) else { continue }
            conditions.append("\(fields[name]!.column) = ?")
            arguments.append(Int64(value) ?? -1)
        }
        whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        self.arguments = StatementArguments(arguments)
        var orders: [String] = []
        for sort in (request.query["sort[]"] ?? []) + (request.query["sort"] ?? []) {
            let parts = sort.split(separator: ",")
            guard let name = parts.first, let field = fields[String(name)] else { throw RetailError.invalid("sort", "unknown field \(sort)") }
            orders.append("\(field.column) \(parts.count > 1 && parts[1] == "desc" ? "DESC" : "ASC")")
        }
        orderClause = "ORDER BY " + (orders + [defaultSort]).joined(separator: ", ")
    }

    static func convert(_ value: JSONValue, _ kind: Kind, _ name: String) throws -> any DatabaseValueConvertible {
        switch kind {
        case .int:
            guard let n = value.int64Value else { throw RetailError.invalid(name, "must be an integer") }
            return n
        case .bool:
            guard let b = value.boolValue else { throw RetailError.invalid(name, "must be true or false") }
            return b
        case .date:
            guard let text = value.stringValue, let date = Timestamps.parse(text) else {
                throw RetailError.invalid(name, "must be an ISO 8601 timestamp")
            }
            return date
        case .text:
            guard let text = value.stringValue else { throw RetailError.invalid(name, "must be a string") }
            return text
        }
    }

    /// Counts and fetches one page of a record type.
    func fetch<Record: FetchableRecord & TableRecord>(_ type: Record.Type, _ db: Database) throws -> (Int, [Record]) {
        let table = Record.databaseTableName
        let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) \(whereClause)", arguments: arguments) ?? 0
        let rows = try Record.fetchAll(
            db, sql: "SELECT * FROM \(table) \(whereClause) \(orderClause) LIMIT ? OFFSET ?",
            arguments: arguments + [paging.size, paging.offset])
        return (total, rows)
    }
}
