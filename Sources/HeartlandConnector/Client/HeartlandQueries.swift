import BridgeClock
import Foundation

/// Filters for `GET /ucp/transactions` (all optional; dates are UTC `YYYY-MM-DD`, inclusive).
public struct TransactionQuery: Sendable, Hashable {
    public var batchId: String?
    public var locationId: Int64?
    public var type: TransactionType?
    public var status: TransactionStatus?
    public var brand: CardBrand?
    public var reference: String?
    public var fromDay: String?
    public var toDay: String?
    /// Only `BATCHED` transactions, from `/ucp/settlement/transactions`.
    public var settledOnly = false
    /// `order=DESC` by `TIME_CREATED` (the gateway feed reads the newest first and stops at its cursor); else oldest first.
    public var newestFirst = false
    /// `page_size` for this query; nil: the configuration's.
    public var pageSize: Int?

    public init(batchId: String? = nil, locationId: Int64? = nil, type: TransactionType? = nil,
                status: TransactionStatus? = nil, brand: CardBrand? = nil, reference: String? = nil,
                fromDay: String? = nil, toDay: String? = nil, settledOnly: Bool = false, newestFirst: Bool = false, pageSize: Int? = nil)
    {
        self.newestFirst = newestFirst
        self.pageSize = pageSize
        self.batchId = batchId
        self.locationId = locationId
        self.type = type
        self.status = status
        self.brand = brand
        self.reference = reference
        self.fromDay = fromDay
        self.toDay = toDay
        self.settledOnly = settledOnly
    }

    var parameters: [(String, String)] {
        var out: [(String, String)] = []
        if let batchId { out.append(("batch_id", batchId)) }
        if let locationId { out.append(("location_id", String(locationId))) }
        if let type { out.append(("type", type.rawValue)) }
        if let status { out.append(("status", status.rawValue)) }
        if let brand { out.append(("brand", brand.rawValue)) }
        if let reference { out.append(("reference", reference)) }
        if let fromDay { out.append(("from_time_created", fromDay)) }
        if let toDay { out.append(("to_time_created", toDay)) }
        return out
    }
}

/// Filters for the batch list (`GET /ucp/batches`).
public struct BatchQuery: Sendable, Hashable {
    public var locationId: Int64?
    public var status: BatchStatus?
    public var businessDay: String?

    public init(locationId: Int64? = nil, status: BatchStatus? = nil, businessDay: String? = nil) {
        self.locationId = locationId
        self.status = status
        self.businessDay = businessDay
    }

    var parameters: [(String, String)] {
        var out: [(String, String)] = []
        if let locationId { out.append(("location_id", String(locationId))) }
        if let status { out.append(("status", status.rawValue)) }
        if let businessDay { out.append(("business_day", businessDay)) }
        return out
    }
}

/// Filters for `GET /api/sales/tickets`, sent as one `_filter` JSON object.
public struct TicketQuery: Sendable, Hashable {
    public var locationId: Int64?
    /// Inclusive range of local business days, `YYYY-MM-DD`.
    public var fromBusinessDay: String?
    public var throughBusinessDay: String?
    /// Tickets changed at or after this instant (the poller's catch-up watermark).
    public var updatedSince: Date?
    public var status: String?
    /// The receipt number (`public_id`).
    public var publicId: String?
    /// The returns of one sale (`return_of_ticket_id`).
    public var returnOfTicketId: Int64?

    public init(locationId: Int64? = nil, fromBusinessDay: String? = nil, throughBusinessDay: String? = nil,
                updatedSince: Date? = nil, status: String? = nil, publicId: String? = nil, returnOfTicketId: Int64? = nil)
    {
        self.locationId = locationId
        self.fromBusinessDay = fromBusinessDay
        self.throughBusinessDay = throughBusinessDay
        self.updatedSince = updatedSince
        self.status = status
        self.publicId = publicId
        self.returnOfTicketId = returnOfTicketId
    }

    /// A location's tickets for a range of business days.
    public static func location(_ id: Int64, businessDays from: String, through: String) -> TicketQuery {
        TicketQuery(locationId: id, fromBusinessDay: from, throughBusinessDay: through)
    }

    var filterJSON: String? {
        var fields: [String] = []
        if let locationId { fields.append("\"location_id\":\(locationId)") }
        var day: [String] = []
        if let fromBusinessDay { day.append("\"$gte\":\(Self.quoted(fromBusinessDay))") }
        if let throughBusinessDay { day.append("\"$lte\":\(Self.quoted(throughBusinessDay))") }
        if !day.isEmpty { fields.append("\"business_day\":{\(day.joined(separator: ","))}") }
        if let updatedSince {
            let stamp = Timestamps.iso8601Millis(updatedSince)
            fields.append("\"updated_at\":{\"$gte\":\(Self.quoted(stamp))}")
        }
        if let status { fields.append("\"status\":\(Self.quoted(status))") }
        if let publicId { fields.append("\"public_id\":\(Self.quoted(publicId))") }
        if let returnOfTicketId { fields.append("\"return_of_ticket_id\":\(returnOfTicketId)") }
        return fields.isEmpty ? nil : "{" + fields.joined(separator: ",") + "}"
    }

    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
