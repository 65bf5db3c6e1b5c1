import Foundation
import GRDB
import SimulatorKit

/// `/admin/raw/...` and `/admin/records/...`: correct a document "at the source" as a test would ask
/// Heartland to, whether it is served raw or as a normal record.
///
/// - `PUT /admin/raw/{tickets|transactions|batches}/{id}`: the body (any JSON object) becomes the only
///   raw record under `id`, served byte for byte; it hides the normal record of that id, if any.
/// - `DELETE /admin/raw/{kind}/{id}`: removes the raw records under `id` (a normal one shows again).
/// - `PUT /admin/records/{kind}/{id}`: the body is one record in fixture form (as in a fixture's
///   `tickets`, `transactions` or `batches`); it is saved as a normal record and the raw ones under
///   `id` are removed: a raw record turned back into a normal one.
struct HeartlandRawAdminRoutes {
    let context: HeartlandContext

    func add(to table: inout RouteTable) {
        table.add("PUT", "/admin/raw/{kind}/{id}") { request in
            try await answering {
                let kind = try Self.kind(request)
                guard RawJSON.isObject(request.body) else { throw RetailError.invalid("body", "must be one JSON object") }
                let id = request.parameter("id")
                let replaced = try await context.database.write { db in
                    let replaced = try RawRecordStore.delete(db, kind, id: id)
                    try RawRecordStore.insert(db, kind, RawRecord(request.body))
                    return replaced
                }
                return .json(["kind": .string(kind.rawValue), "id": .string(id), "replaced": .int(replaced)])
            }
        }
        table.add("DELETE", "/admin/raw/{kind}/{id}") { request in
            try await answering {
                let kind = try Self.kind(request)
                let id = request.parameter("id")
                let deleted = try await context.database.write { db in try RawRecordStore.delete(db, kind, id: id) }
                return .json(["kind": .string(kind.rawValue), "id": .string(id), "deleted": .int(deleted)])
            }
        }
        table.add("PUT", "/admin/records/{kind}/{id}") { request in
            try await answering {
                let kind = try Self.kind(request)
                let id = request.parameter("id")
                try await context.database.write { db in
                    let saved: String
                    do {
                        switch kind {
                        case .ticket: saved = try Self.save(Ticket.self, request.body, db) { String($0.id) }
                        case .transaction: saved = try Self.save(CardTransaction.self, request.body, db) { $0.id }
                        case .batch: saved = try Self.save(SettlementBatch.self, request.body, db) { $0.id }
                        }
                    } catch let error as DecodingError {
                        throw RetailError.invalid("body", "is not a \(kind.rawValue) in fixture form: \(error)")
                    }
                    guard saved == id else { throw RetailError.invalid("id", "the record's id \(saved) is not \(id)") }
                    try RawRecordStore.delete(db, kind, id: id)
                }
                return .json(["kind": .string(kind.rawValue), "id": .string(id), "normal": true])
            }
        }
    }

    private static func save<Record: Decodable & PersistableRecord>(
        _ type: Record.Type, _ body: Data, _ db: Database, id: (Record) -> String
    ) throws -> String {
        let record = try StoreDayFixture.decoder.decode(Record.self, from: body)
        try record.save(db)
        return id(record)
    }

    private static func kind(_ request: SimRequest) throws -> RawRecord.Kind {
        guard let kind = RawRecord.Kind.allCases.first(where: { $0.plural == request.parameter("kind") }) else {
            throw RetailError.notFound("Record kind \(request.parameter("kind")) (tickets, transactions or batches)")
        }
        return kind
    }
}
