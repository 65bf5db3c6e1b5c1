import Foundation

/// The Retail fields of a ticket the domain `Ticket` leaves out (posting does not need them) but the
/// fraud scorer wants: the station it was rung up on, the sales rep, and per payment the card's last
/// four digits and GP-API's entry mode when Heartland gives them. Parsed from the same JSON as
/// `HeartlandJSON.tickets`, leniently: a field that is missing or oddly typed is nil, never an error,
/// because none of it changes what is posted.
public struct TicketDetails: Hashable, Sendable {
    public struct Payment: Hashable, Sendable {
        /// Heartland's payment id (`payments[].id`).
        public var id: Int64?
        /// Exactly four digits, or nil: anything longer is dropped rather than carried (no card numbers).
        public var last4: String?
        /// `payments[].entry_mode` (`CHIP`, `MANUAL`, ...) when the ticket carries it.
        public var entryMode: String?
    }

    public var ticketID: TicketID
    public var stationId: Int64?
    public var salesRep: String?
    /// In the ticket's order, one per `payments[]` entry: the same order as `Ticket.tenders`.
    public var payments: [Payment]

    /// By ticket id, from the ticket JSON `HeartlandJSON.tickets` reads (an array, a Retail page, an array
    /// of pages, or one ticket).
    public static func parse(tickets data: Data) throws -> [TicketID: TicketDetails] {
        byID(try HeartlandJSON.retailRecords(Wire.self, from: data, decoder: HeartlandJSON.decoder))
    }

    /// By ticket id, from records already decoded.
    static func byID(_ wire: [Wire]) -> [TicketID: TicketDetails] {
        var details: [TicketID: TicketDetails] = [:]
        for ticket in wire {
            guard let id = ticket.id?.value else { continue }
            details[TicketID(String(id))] = TicketDetails(
                ticketID: TicketID(String(id)), stationId: ticket.stationId?.value, salesRep: ticket.salesRep?.value,
                payments: (ticket.payments ?? []).map { Payment(id: $0.id?.value, last4: $0.last4?.value, entryMode: $0.entryMode?.value) })
        }
        return details
    }

    /// The details as read, kept leniently: a sales rep or an entry mode that is empty is none, and a last four that is
    /// not exactly four digits is dropped (no card numbers).
    init(ticketID: TicketID, stationId: Int64?, salesRep: String?, payments: [Payment]) {
        self.ticketID = ticketID
        self.stationId = stationId
        self.salesRep = salesRep.flatMap { $0.isEmpty ? nil : $0 }
        self.payments = payments.map { payment in
            Payment(id: payment.id, last4: payment.last4.flatMap { $0.count == 4 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) ? $0 : nil },
                    entryMode: payment.entryMode.flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    struct Wire: Decodable {
        struct WirePayment: Decodable {
            var id: LenientInt?
            var last4: LenientString?
            var entryMode: LenientString?
        }
        var id: LenientInt?
        var stationId: LenientInt?
        var salesRep: LenientString?
        var payments: [WirePayment]?
    }

    /// A number or a string of digits; anything else is nil.
    struct LenientInt: Decodable {
        var value: Int64?
        init(value: Int64?) { self.value = value }
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            value = (try? container.decode(Int64.self)) ?? (try? container.decode(String.self)).flatMap { Int64($0) }
        }
    }

    /// A string or a number written as text; anything else is nil.
    struct LenientString: Decodable {
        var value: String?
        init(value: String?) { self.value = value }
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            value = (try? container.decode(String.self)) ?? (try? container.decode(Int64.self)).map(String.init)
        }
    }
}
