import Foundation
import GRDB
import SimulatorKit

/// Heartland Retail sales: `sales/tickets` with lines and payments, locations and gift cards.
struct RetailSalesRoutes {
    let context: HeartlandContext

    static let ticketFields: [String: (column: String, kind: RetailQuery.Kind)] = [
        "id": ("id", .int), "public_id": ("publicId", .text), "location_id": ("locationId", .int),
        "customer_id": ("customerId", .int), "status": ("status", .text), "completed_at": ("completedAt", .date),
        "created_at": ("createdAt", .date), "updated_at": ("updatedAt", .date), "business_day": ("businessDay", .text),
        "return_of_ticket_id": ("returnOfTicketId", .int),
    ]

    func add(to table: inout RouteTable) {
        table.add("GET", "/api/sales/tickets") { request in
            try await context.retail(request) { try await list(request) }
        }
        table.add("GET", "/api/sales/tickets/{id}") { request in
            try await context.retail(request) {
                switch try await loadTicket(request) {
                case .raw(let bytes): return .raw(bytes)
                case .record(let (ticket, zones, cards)):
                    return .json(RetailRendering.ticket(ticket, zone: zones[ticket.locationId] ?? .gmt, cards: cards))
                }
            }
        }
        for part in ["lines", "payments"] {
            table.add("GET", "/api/sales/tickets/{id}/\(part)") { request in
                try await context.retail(request) {
                    var splice = RawJSONSplice()
                    let results: [JSONValue]
                    switch try await loadTicket(request) {
                    case .raw(let bytes): results = (RawJSON.arrayElements(forKey: part, in: bytes) ?? []).map { splice.placeholder(for: $0) }
                    case .record(let (ticket, _, cards)):
                        results = part == "lines" ? ticket.lines.map(RetailRendering.line)
                            : ticket.payments.map { RetailRendering.payment($0, cards: cards) }
                    }
                    return .json(RetailRendering.wholePage(results), splicing: splice)
                }
            }
        }
        table.add("GET", "/api/locations") { request in
            try await context.retail(request) {
                let locations = try await context.database.read { try Location.order(Column("id")).fetchAll($0) }
                let paging = try Paging(request, sizeParameter: "per_page", defaultSize: 20, maxSize: 5000) { RetailError.invalid("paging", $0) }
                let page = Array(locations.dropFirst(paging.offset).prefix(paging.size))
                return .json(RetailRendering.page(page.map(RetailRendering.location), total: locations.count, paging: paging))
            }
        }
        table.add("GET", "/api/gift_cards/{number}") { request in
            try await context.retail(request) {
                guard let card = try await context.database.read({ try GiftCard.fetchOne($0, key: request.parameter("number")) }) else {
                    throw RetailError.notFound("Gift card")
                }
                return .json(["number": .string(card.number), "balance": Money.dollars(card.balanceCents)])
            }
        }
    }

    private func list(_ request: SimRequest) async throws -> SimResponse {
        let query = try RetailQuery(request, fields: Self.ticketFields)
        let (total, rows, zones, cards) = try await context.database.read { db in
            let (total, rows): (Int, [Served<Ticket>])
            if try RawRecordStore.isEmpty(db, .ticket) {
                let (count, tickets) = try query.fetch(Ticket.self, db)
                (total, rows) = (count, tickets.map(Served.record))
            } else {
                (total, rows) = try RawRecordStore.page(
                    db, .ticket, whereClause: query.whereClause, arguments: query.arguments,
                    order: String(query.orderClause.dropFirst("ORDER BY ".count)), limit: query.paging.size, offset: query.paging.offset)
            }
            let tickets = rows.compactMap { if case .record(let ticket) = $0 { ticket } else { nil } }
            return (total, rows, try Self.zones(db), try Self.cards(db, of: tickets))
        }
        var splice = RawJSONSplice()
        let results = rows.map { $0.json(&splice) { RetailRendering.ticket($0, zone: zones[$0.locationId] ?? .gmt, cards: cards) } }
        return .json(RetailRendering.page(results, total: total, paging: query.paging), splicing: splice)
    }

    /// The ticket `{id}`: its first raw record if it has one, else the normal ticket with what renders it.
    private func loadTicket(_ request: SimRequest) async throws -> Served<(Ticket, [Int64: TimeZone], [String: CardTransaction])> {
        let id = request.parameter("id")
        return try await context.database.read { db in
            if let raw = try RawRecordStore.bodies(db, .ticket, id: id).first { return .raw(raw) }
            guard let key = Int64(id), let ticket = try Ticket.fetchOne(db, key: key) else { throw RetailError.notFound("Ticket") }
            return .record((ticket, try Self.zones(db), try Self.cards(db, of: [ticket])))
        }
    }

    /// The gateway transactions behind the tickets' card tenders, by id.
    static func cards(_ db: Database, of tickets: [Ticket]) throws -> [String: CardTransaction] {
        let ids = tickets.flatMap(\.payments).compactMap(\.gatewayTransactionId)
        guard !ids.isEmpty else { return [:] }
        return Dictionary(try CardTransaction.fetchAll(db, keys: ids).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func zones(_ db: Database) throws -> [Int64: TimeZone] {
        Dictionary(uniqueKeysWithValues: try Location.fetchAll(db).map { ($0.id, $0.zone) })
    }
}
