import Foundation
import GRDB
import SimulatorKit

/// One listed record: a normal one, rendered by its route, or a raw one, served as its bytes.
enum Served<Record> {
    case record(Record)
    case raw(Data)
}

extension Served: Sendable where Record: Sendable {}

extension RawRecordStore {
    /// A page of normal and raw records of one kind under the same filter and order: normal records
    /// shadowed by a raw one are left out, raw ones are listed after normal ones that sort equal.
    /// `whereClause` ("WHERE ..." or empty) and `order` (terms, no `ORDER BY`) name the kind's columns.
    static func page<Record: FetchableRecord>(
        _ db: Database, _ kind: RawRecord.Kind, whereClause: String, arguments: StatementArguments, order: String,
        limit: Int, offset: Int
    ) throws -> (total: Int, rows: [Served<Record>]) {
        let shadow = "id NOT IN (SELECT id FROM \(kind.table) WHERE id IS NOT NULL)"
        let normalWhere = whereClause.isEmpty ? "WHERE \(shadow)" : "\(whereClause) AND \(shadow)"
        let columns = kind.columns.joined(separator: ", ")
        let union = """
            SELECT 0 AS raw, rowid AS rowKey, \(columns) FROM \(kind.normalTable) \(normalWhere)
            UNION ALL SELECT 1 AS raw, seq AS rowKey, \(columns) FROM \(kind.table) \(whereClause)
            """
        let both = arguments + arguments
        let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (\(union))", arguments: both) ?? 0
        let keys = try Row.fetchAll(db, sql: "\(union) ORDER BY \(order), raw, rowKey LIMIT ? OFFSET ?", arguments: both + [limit, offset])
            .map { (raw: ($0["raw"] as Int64) == 1, key: $0["rowKey"] as Int64) }
        let normalKeys = keys.filter { !$0.raw }.map(\.key)
        let rawKeys = keys.filter(\.raw).map(\.key)
        var records: [Int64: Record] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT rowid AS rowKey, * FROM \(kind.normalTable) WHERE rowid IN (\(marks(normalKeys.count)))",
            arguments: StatementArguments(normalKeys)) {
            records[row["rowKey"]] = try Record(row: row)
        }
        var bodies: [Int64: Data] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT seq, body FROM \(kind.table) WHERE seq IN (\(marks(rawKeys.count)))",
            arguments: StatementArguments(rawKeys)) {
            bodies[row["seq"]] = row["body"]
        }
        return (total, keys.compactMap { $0.raw ? bodies[$0.key].map(Served.raw) : records[$0.key].map(Served.record) })
    }

    private static func marks(_ count: Int) -> String { count == 0 ? "NULL" : Array(repeating: "?", count: count).joined(separator: ",") }
}

extension Served {
    /// The rendered record, or a placeholder that `splice` turns back into the raw bytes.
    func json(_ splice: inout RawJSONSplice, render: (Record) -> JSONValue) -> JSONValue {
        switch self {
        case .record(let record): render(record)
        case .raw(let bytes): splice.placeholder(for: bytes)
        }
    }
}

extension SimResponse {
    /// One raw record as the whole body.
    static func raw(_ bytes: Data) -> SimResponse {
        SimResponse(status: 200, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// A JSON response holding raw records at their placeholders.
    static func json(_ value: JSONValue, splicing splice: RawJSONSplice, status: Int = 200) -> SimResponse {
        SimResponse(status: status, headers: ["Content-Type": "application/json"], body: splice.serialize(value))
    }
}
