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
            try await context.retail(request) {
                let query = try RetailQuery(request, fields: Self.ticketFields)
                let (total, tickets, zones) = try await context.database.read { db in
                    let (total, tickets) = try query.fetch(Ticket.self, db)
                    return (total, tickets, try Self.zones(db))
                }
                return .json(RetailRendering.page(tickets.map { RetailRendering.ticket($0, zone: zones[$0.locationId] ?? .gmt) },
                    total: total, paging: query.paging))
            }
        }
        table.add("GET", "/api/sales/tickets/{id}") { request in
            try await context.retail(request) {
                let (ticket, zones) = try await loadTicket(request)
                return .json(RetailRendering.ticket(ticket, zone: zones[ticket.locationId] ?? .gmt))
            }
        }
        table.add("GET", "/api/sales/tickets/{id}/lines") { request in
            try await context.retail(request) {
                await .json(RetailRendering.wholePage(try loadTicket(request).0.lines.map(RetailRendering.line)))
            }
        }
        table.add("GET", "/api/sales/tickets/{id}/payments") { request in
            try await context.retail(request) {
                await .json(RetailRendering.wholePage(try loadTicket(request).0.payments.map(RetailRendering.payment)))
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

    private func loadTicket(_ request: SimRequest) async throws -> (Ticket, [Int64: TimeZone]) {
        guard let id = Int64(request.parameter("id")) else { throw RetailError.notFound("Ticket") }
        return try await context.database.read { db in
            guard let ticket = try Ticket.fetchOne(db, key: id) else { throw RetailError.notFound("Ticket") }
            return (ticket, try Self.zones(db))
        }
    }

    static func zones(_ db: Database) throws -> [Int64: TimeZone] {
        Dictionary(uniqueKeysWithValues: try Location.fetchAll(db).map { ($0.id, $0.zone) })
    }
}
