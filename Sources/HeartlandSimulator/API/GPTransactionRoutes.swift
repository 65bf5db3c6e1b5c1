import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// GP-API card transactions: list with the documented filters and paging, read, refund, reversal.
struct GPTransactionRoutes {
    let context: HeartlandContext

    func add(to table: inout RouteTable) {
        table.add("GET", "/ucp/transactions") { request in try await answering { try await list(request, settledOnly: false) } }
        table.add("GET", "/ucp/settlement/transactions") { request in try await answering { try await list(request, settledOnly: true) } }
        table.add("GET", "/ucp/transactions/{id}") { request in
            try await answering {
                _ = try await context.requireAccessToken(request)
                return try await context.database.read { db in
                    if let raw = try RawRecordStore.bodies(db, .transaction, id: request.parameter("id")).first {
                        return .raw(raw)
                    }
                    guard let t = try CardTransaction.fetchOne(db, key: request.parameter("id")) else {
                        throw GPError.notFound("Transaction \(request.parameter("id"))")
                    }
                    return .json(GPRendering.transaction(t, location: try Location.fetchOne(db, key: t.locationId)))
                }
            }
        }
        table.add("POST", "/ucp/transactions/{id}/refund") { request in try await answering { try await refund(request) } }
        table.add("POST", "/ucp/transactions/{id}/reversal") { request in try await answering { try await reverse(request) } }
    }

    static let filterColumns: [String: String] = [
        "id": "id", "type": "type", "status": "status", "brand": "brand", "batch_id": "batchId",
        "entry_mode": "entryMode", "currency": "currency", "number_first6": "first6", "number_last4": "last4",
        "authcode": "authCode", "reference": "reference", "location_id": "locationId",
    ]
    static let orderColumns = ["TIME_CREATED": "timeCreated", "STATUS": "status", "TYPE": "type", "ID": "id"]

    private func list(_ request: SimRequest, settledOnly: Bool) async throws -> SimResponse {
        _ = try await context.requireAccessToken(request)
        let paging = try Paging(request, sizeParameter: "page_size", defaultSize: 5, maxSize: 1000) { GPError.invalid($0, code: "40092") }
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        for (parameter, column) in Self.filterColumns.sorted(by: { $0.key < $1.key }) {
            guard let value = request.queryValue(parameter) else { continue }
            conditions.append("\(column) = ?")
            arguments.append(parameter == "location_id" ? (Int64(value) ?? -1) as any DatabaseValueConvertible : value)
        }
        if let amount = request.queryValue("amount") {
            guard let cents = Int64(amount) else { throw GPError.invalid("amount must be in minor units", code: "40093") }
            conditions.append("amountCents = ?")
            arguments.append(cents)
        }
        for (parameter, op, dayOffset) in [("from_time_created", ">=", 0), ("to_time_created", "<", 1)] {
            guard let text = request.queryValue(parameter) else { continue }
            guard text.count == 10, let day = Timestamps.parse(text) else {
                throw GPError.invalid("\(parameter) must be YYYY-MM-DD", code: "40094")
            }
            conditions.append("timeCreated \(op) ?")
            arguments.append(day.addingTimeInterval(TimeInterval(dayOffset * 86_400)))
        }
        if settledOnly { conditions.append("status = 'BATCHED'") }
        let orderBy = request.queryValue("order_by") ?? "TIME_CREATED"
        guard let orderColumn = Self.orderColumns[orderBy] else { throw GPError.invalid("Invalid order_by", code: "40095") }
        let order = (request.queryValue("order") ?? "DESC").uppercased() == "ASC" ? "ASC" : "DESC"
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let filter: StatementArguments = StatementArguments(arguments)
        let (total, rows, locations) = try await context.database.read { db in
            let (total, rows): (Int, [Served<CardTransaction>])
            if try RawRecordStore.isEmpty(db, .transaction) {
                total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM card_transaction \(whereClause)", arguments: filter) ?? 0
                rows = try CardTransaction.fetchAll(
                    db, sql: "SELECT * FROM card_transaction \(whereClause) ORDER BY \(orderColumn) \(order), id LIMIT ? OFFSET ?",
                    arguments: filter + [paging.size, paging.offset]).map(Served.record)
            } else {
                (total, rows) = try RawRecordStore.page(
                    db, .transaction, whereClause: whereClause, arguments: filter, order: "\(orderColumn) \(order), id",
                    limit: paging.size, offset: paging.offset)
            }
            return (total, rows, Dictionary(uniqueKeysWithValues: try Location.fetchAll(db).map { ($0.id, $0) }))
        }
        var splice = RawJSONSplice()
        return .json([
            "transactions": .array(rows.map { $0.json(&splice) { GPRendering.transaction($0, location: locations[$0.locationId]) } }),
            "total_record_count": .int(total), "current_page_size": .int(rows.count),
            "paging": [
                "page": .int(paging.page), "page_size": .int(paging.size), "order": .string(order),
                "order_by": .string(orderBy), "total_record_count": .int(total),
            ],
        ], splicing: splice)
    }

    /// Rejects a replayed `x-gp-idempotency` key with `DUPLICATE_ACTION` / 40039.
    static func claimIdempotencyKey(_ db: Database, _ request: SimRequest, now: Date) throws {
        guard let key = request.header("x-gp-idempotency"), !key.isEmpty else { return }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM idempotency_key WHERE key = ?", arguments: [key]) == true {
            throw GPError(status: 409, code: "DUPLICATE_ACTION", detailedCode: "40039",
                description: "Idempotency Key seen before: \(key)")
        }
        try db.execute(sql: "INSERT INTO idempotency_key (key, createdAt) VALUES (?, ?)", arguments: [key, now])
    }

    private func refund(_ request: SimRequest) async throws -> SimResponse {
        _ = try await context.requireAccessToken(request)
        let body = try request.json()
        let now = context.clock.now()
        let json: JSONValue = try await context.database.write { db in
            try Self.claimIdempotencyKey(db, request, now: now)
            guard let sale = try CardTransaction.fetchOne(db, key: request.parameter("id")), sale.type == "SALE" else {
                throw GPError.notFound("Transaction \(request.parameter("id"))")
            }
            guard sale.settles else { throw GPError.invalid("Transaction is \(sale.status), nothing to refund", code: "40008") }
            let refunded = try CardTransaction.filter(Column("parentResourceId") == sale.id && Column("type") == "REFUND")
                .fetchAll(db).filter(\.settles).reduce(Int64(0)) { $0 + $1.amountCents }
            let amount = body["amount"] == nil ? sale.amountCents - refunded : (Money.cents(fromMinorUnits: body["amount"]) ?? -1)
            guard amount > 0, amount <= sale.amountCents - refunded else {
                throw GPError.invalid("amount must be between 1 and the unrefunded \(sale.amountCents - refunded)", code: "40009")
            }
            guard let location = try Location.fetchOne(db, key: sale.locationId) else { throw GPError.notFound("Location") }
            let batch = try GPBatchRoutes.openBatch(db, location: location, now: now)
            let refund = CardTransaction(
                id: "TRN_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24), locationId: sale.locationId,
                batchId: batch.id, type: "REFUND", status: "CAPTURED", amountCents: amount, gratuityCents: 0,
                currency: sale.currency, brand: sale.brand, first6: sale.first6, last4: sale.last4, entryMode: sale.entryMode,
                authCode: String(UUID().uuidString.prefix(6)), reference: body["reference"]?.stringValue ?? sale.reference,
                parentResourceId: sale.id, ticketId: nil, timeCreated: now)
            try refund.insert(db)
            let rendered = GPRendering.transaction(refund, location: location)
            try context.enqueueEvent(db, event: "transaction.refunded", data: rendered)
            return rendered
        }
        return .json(json)
    }

    private func reverse(_ request: SimRequest) async throws -> SimResponse {
        _ = try await context.requireAccessToken(request)
        let now = context.clock.now()
        let json: JSONValue = try await context.database.write { db in
            try Self.claimIdempotencyKey(db, request, now: now)
            guard var t = try CardTransaction.fetchOne(db, key: request.parameter("id")) else {
                throw GPError.notFound("Transaction \(request.parameter("id"))")
            }
            guard t.status == "CAPTURED" else {
                throw GPError.invalid("Only a CAPTURED transaction in an open batch can be reversed (status \(t.status))", code: "40010")
            }
            t.status = "REVERSED"
            try t.update(db)
            return GPRendering.transaction(t, location: try Location.fetchOne(db, key: t.locationId))
        }
        return .json(json)
    }
}
