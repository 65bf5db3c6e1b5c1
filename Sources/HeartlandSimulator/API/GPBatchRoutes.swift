import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// GP-API batches: read with totals and per-brand breakdown, close (fires `batch.closed`), and a
/// list by location (a simulator convenience; the real API reaches batches through transactions).
struct GPBatchRoutes {
    let context: HeartlandContext

    func add(to table: inout RouteTable) {
        table.add("GET", "/ucp/batches") { request in try await answering { try await list(request) } }
        table.add("GET", "/ucp/batches/{id}") { request in
            try await answering {
                _ = try await context.requireAccessToken(request)
                return try await context.database.read { db in
                    if let raw = try RawRecordStore.bodies(db, .batch, id: request.parameter("id")).first {
                        return .raw(raw)
                    }
                    return .json(try Self.render(db, id: request.parameter("id")))
                }
            }
        }
        table.add("POST", "/ucp/batches/{id}") { request in
            try await answering {
                _ = try await context.requireAccessToken(request)
                let now = context.clock.now()
                return .json(try await context.database.write { db in
                    try GPTransactionRoutes.claimIdempotencyKey(db, request, now: now)
                    return try close(db, id: request.parameter("id"), now: now)
                })
            }
        }
    }

    static func render(_ db: Database, id: String) throws -> JSONValue {
        guard let batch = try SettlementBatch.fetchOne(db, key: id) else { throw GPError.notFound("Batch \(id)") }
        let transactions = try CardTransaction.filter(Column("batchId") == id).fetchAll(db)
        return GPRendering.batch(batch, transactions: transactions, location: try Location.fetchOne(db, key: batch.locationId))
    }

    /// Closes a batch, marks its transactions `BATCHED` and queues the webhook.
    func close(_ db: Database, id: String, now: Date) throws -> JSONValue {
        guard var batch = try SettlementBatch.fetchOne(db, key: id) else { throw GPError.notFound("Batch \(id)") }
        guard batch.status == "OPEN" else { throw GPError.invalid("Batch \(id) is already closed", code: "40224") }
        // Counted by SQLite, not read: a day's batch holds tens of thousands of transactions (issue 21).
        let live = try CardTransaction.filter(Column("batchId") == id && !CardTransaction.unsettledStatuses.contains(Column("status"))).fetchCount(db)
        guard live > 0 else { throw GPError.missing("Request expects the batch_id", code: "40223") }
        batch.status = "CLOSED"
        batch.timeClosed = now
        try batch.update(db)
        try db.execute(sql: "UPDATE card_transaction SET status = 'BATCHED' WHERE batchId = ? AND status = 'CAPTURED'", arguments: [id])
        let json = try Self.render(db, id: id)
            .setting("action", ["type": "BATCH_CLOSE", "result_code": "SUCCESS", "time_created": .string(Timestamps.iso8601(now))])
        try context.enqueueEvent(db, event: "batch.closed", data: json)
        return json
    }

    /// The location's open batch, created for the current local business day when there is none.
    static func openBatch(_ db: Database, location: Location, now: Date) throws -> SettlementBatch {
        if let open = try SettlementBatch.filter(Column("locationId") == location.id && Column("status") == "OPEN")
            .order(Column("timeCreated").desc).fetchOne(db)
        {
            return open
        }
        let day = Timestamps.day(now, in: location.zone)
        var id = String(format: "BAT_%@_%02lld", day.replacingOccurrences(of: "-", with: ""), location.id)
        if try SettlementBatch.exists(db, key: id) { id += "_\(Int(now.timeIntervalSince1970))" }
        let batch = SettlementBatch(id: id, locationId: location.id, businessDay: day, status: "OPEN", timeCreated: now, timeClosed: nil)
        try batch.insert(db)
        return batch
    }

    private func list(_ request: SimRequest) async throws -> SimResponse {
        _ = try await context.requireAccessToken(request)
        let paging = try Paging(request, sizeParameter: "page_size", defaultSize: 20, maxSize: 1000) { GPError.invalid($0, code: "40092") }
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let location = request.queryValue("location_id") {
            conditions.append("locationId = ?")
            arguments.append(Int64(location) ?? -1)
        }
        for (parameter, column) in [("status", "status"), ("business_day", "businessDay")] {
            guard let value = request.queryValue(parameter) else { continue }
            conditions.append("\(column) = ?")
            arguments.append(value)
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let filter: StatementArguments = StatementArguments(arguments)
        let (total, batches) = try await context.database.read { db in
            let (total, rows): (Int, [Served<SettlementBatch>]) = try RawRecordStore.page(
                db, .batch, whereClause: whereClause, arguments: filter, order: "businessDay DESC, id",
                limit: paging.size, offset: paging.offset)
            return (total, try rows.map { row -> Served<JSONValue> in
                switch row {
                case .record(let batch): .record(try Self.render(db, id: batch.id))
                case .raw(let bytes): .raw(bytes)
                }
            })
        }
        var splice = RawJSONSplice()
        return .json([
            "batches": .array(batches.map { $0.json(&splice) { $0 } }), "total_record_count": .int(total),
            "current_page_size": .int(batches.count),
            "paging": ["page": .int(paging.page), "page_size": .int(paging.size), "total_record_count": .int(total)],
        ], splicing: splice)
    }
}
