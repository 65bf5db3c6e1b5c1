import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// A record Heartland serves exactly as given: any JSON object, kept as its bytes, so a test can feed
/// what a real export holds and the model cannot (an amount `"12.3x"`, `12.5` where a string belongs,
/// a timestamp without an offset, `CAD`, a second record under an existing id).
///
/// Served by the same list and get endpoints as normal records, inside the normal page envelope. A raw
/// record hides the normal record of the same kind and id (which stays underneath: batch totals still
/// read a shadowed transaction, as Heartland's own state is right where its export is not); several raw
/// records may share an id and are all listed. The few fields the server filters and routes on are read
/// leniently from the JSON; a record missing one is still listed when that field is not filtered on.
public struct RawRecord: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case ticket, transaction, batch

        /// The admin path segment and the fixture key (`raw_tickets`, ...).
        public var plural: String { rawValue == "batch" ? "batches" : rawValue + "s" }
        var table: String { "raw_" + rawValue }
        /// The normal table a raw record of this kind shadows.
        var normalTable: String {
            switch self {
            case .ticket: Ticket.databaseTableName
            case .transaction: CardTransaction.databaseTableName
            case .batch: SettlementBatch.databaseTableName
            }
        }
        /// The columns filters and sort orders use, named as in the normal table.
        var columns: [String] {
            switch self {
            case .ticket:
                ["id", "publicId", "locationId", "customerId", "status", "completedAt", "createdAt", "updatedAt",
                 "businessDay", "returnOfTicketId"]
            case .transaction:
                ["id", "locationId", "batchId", "type", "status", "brand", "entryMode", "currency", "first6", "last4",
                 "authCode", "reference", "amountCents", "timeCreated"]
            case .batch: ["id", "locationId", "businessDay", "status", "timeCreated"]
            }
        }
    }

    public var bytes: Data

    public init(_ bytes: Data) { self.bytes = bytes }

    /// The record serialised with sorted keys (what the generator writes).
    public init(_ json: JSONValue) { bytes = json.serialized() }

    public var json: JSONValue? { try? JSONValue.parse(bytes) }

    /// The fields the server routes on, read leniently: numbers or numeric strings for ids, timestamps
    /// with or without an offset (without: local time at the location when it is known, else UTC).
    func index(_ kind: Kind, zones: [Int64: TimeZone]) -> [String: (any DatabaseValueConvertible)?] {
        guard let json else { return [:] }
        let location = Self.integer(json["location_id"])
        let zone = location.flatMap { zones[$0] } ?? TimeZone(identifier: "UTC")!
        func text(_ value: JSONValue?) -> String? { value?.stringValue }
        func time(_ key: String) -> Date? { Self.timestamp(json[key]?.stringValue, zone: zone) }
        switch kind {
        case .ticket:
            let completed = time("completed_at")
            return [
                "id": Self.integer(json["id"]), "publicId": text(json["public_id"]), "locationId": location,
                "customerId": Self.integer(json["customer_id"]), "status": text(json["status"]), "completedAt": completed,
                "createdAt": time("created_at"), "updatedAt": time("updated_at"),
                "businessDay": text(json["business_day"]) ?? completed.map { Timestamps.day($0, in: zone) },
                "returnOfTicketId": Self.integer(json["return_of_ticket_id"]),
            ]
        case .transaction:
            let card = json["payment_method"]?["card"]
            let masked = text(card?["masked_number_first6last4"])
            return [
                "id": text(json["id"]), "locationId": location, "batchId": text(json["batch_id"]), "type": text(json["type"]),
                "status": text(json["status"]), "brand": text(card?["brand"]),
                "entryMode": text(json["payment_method"]?["entry_mode"]), "currency": text(json["currency"]),
                "first6": masked.map { String($0.prefix(6)) }, "last4": masked.map { String($0.suffix(4)) },
                "authCode": text(card?["authcode"]), "reference": text(json["reference"]),
                "amountCents": Money.cents(fromMinorUnits: json["amount"]), "timeCreated": time("time_created"),
            ]
        case .batch:
            return [
                "id": text(json["id"]) ?? text(json["batch_id"]), "locationId": location,
                "businessDay": text(json["business_day"]), "status": text(json["status"]), "timeCreated": time("time_created"),
            ]
        }
    }

    static func integer(_ value: JSONValue?) -> Int64? { value?.int64Value }

    static func timestamp(_ text: String?, zone: TimeZone) -> Date? {
        guard let text else { return nil }
        if text.count == 19, text.dropFirst(10).first == "T", let asUTC = Timestamps.parse(text + "Z") {
            return asUTC.addingTimeInterval(-TimeInterval(zone.secondsFromGMT(for: asUTC)))
        }
        return Timestamps.parse(text)
    }
}

/// Raw records in the simulator's database: one table per kind, the body as given plus the columns
/// of `Kind.columns` read from it.
enum RawRecordStore {
    static func registerMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("heartland-v4-export-shapes") { db in
            try db.alter(table: "ticket") { t in t.add(column: "notes", .text) }
            try db.alter(table: "settlement_batch") { t in t.add(column: "fees", .text) }
            for kind in RawRecord.Kind.allCases {
                try db.create(table: kind.table) { t in
                    t.autoIncrementedPrimaryKey("seq")
                    t.column("body", .blob).notNull()
                    for column in kind.columns {
                        let type: Database.ColumnType =
                            ["completedAt", "createdAt", "updatedAt", "timeCreated"].contains(column) ? .datetime
                            : (["locationId", "customerId", "returnOfTicketId", "amountCents"].contains(column)
                                || (kind == .ticket && column == "id") ? .integer : .text)
                        t.column(column, type)
                    }
                }
                try db.create(index: "\(kind.table)_by_id", on: kind.table, columns: ["id"])
            }
        }
    }

    /// Adds one record under whatever id it carries.
    static func insert(_ db: Database, _ kind: RawRecord.Kind, _ record: RawRecord) throws {
        let index = record.index(kind, zones: try RetailSalesRoutes.zones(db))
        let columns = ["body"] + kind.columns
        let values: [(any DatabaseValueConvertible)?] = [record.bytes] + kind.columns.map { index[$0] ?? nil }
        try db.execute(
            sql: "INSERT INTO \(kind.table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
            arguments: StatementArguments(values))
    }

    /// Removes the raw records under `id`; returns how many there were.
    @discardableResult
    static func delete(_ db: Database, _ kind: RawRecord.Kind, id: String) throws -> Int {
        try db.execute(sql: "DELETE FROM \(kind.table) WHERE id = ?", arguments: [key(kind, id)])
        return db.changesCount
    }

    /// Saves a fixture's raw records; those with an id replace the raw records already under it, those
    /// without replace an identical one, so a fixture loads twice to the same state (records sharing an id
    /// within the fixture all stay).
    static func save(_ db: Database, _ kind: RawRecord.Kind, _ records: [RawRecord]) throws {
        let zones = try RetailSalesRoutes.zones(db)
        let ids = Set(records.compactMap { $0.index(kind, zones: zones)["id"] ?? nil }.map { "\($0)" })
        for id in ids.sorted() { try delete(db, kind, id: id) }
        for record in records {
            try db.execute(sql: "DELETE FROM \(kind.table) WHERE id IS NULL AND body = ?", arguments: [record.bytes])
        }
        for record in records { try insert(db, kind, record) }
    }

    /// The bodies under `id`, in the order they were written.
    static func bodies(_ db: Database, _ kind: RawRecord.Kind, id: String) throws -> [Data] {
        try Data.fetchAll(db, sql: "SELECT body FROM \(kind.table) WHERE id = ? ORDER BY seq", arguments: [key(kind, id)])
    }

    static func isEmpty(_ db: Database, _ kind: RawRecord.Kind) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM \(kind.table) LIMIT 1") != true
    }

    /// Ticket ids are integers, the others text.
    static func key(_ kind: RawRecord.Kind, _ id: String) -> any DatabaseValueConvertible {
        kind == .ticket ? (Int64(id) ?? Int64.min) as any DatabaseValueConvertible : id
    }
}
