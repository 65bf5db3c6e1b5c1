import Foundation
import HeartlandWire

/// One page of a GP-API list: `{transactions|batches: [...], total_record_count, paging{...}}`.
struct GPPage<Element: Decodable & Sendable>: Decodable, Sendable {
    var records: [Element]
    var totalRecordCount: Int?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        records = try c.decodeIfPresent([Element].self, forKey: c["transactions"])
            ?? c.decodeIfPresent([Element].self, forKey: c["batches"]) ?? []
        var total = try c.decodeLenientInt(c["total_record_count"]) ?? c.decodeLenientInt(c["total_count"])
        if total == nil, c.contains(c["paging"]) {
            let paging = try c.nestedContainer(keyedBy: AnyKey.self, forKey: c["paging"])
            total = try paging.decodeLenientInt(paging["total_record_count"])
        }
        totalRecordCount = total.map(Int.init)
    }
}

/// One page of a Heartland Retail collection: `{total, pages, per_page, page, results}`.
struct RetailPage<Element: Decodable & Sendable>: Decodable, Sendable {
    var results: [Element]
    var total: Int?
    var pages: Int?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        results = try c.decodeArray(Element.self, c["results"])
        total = try c.decodeLenientInt(c["total"]).map(Int.init)
        pages = try c.decodeLenientInt(c["pages"]).map(Int.init)
    }
}

/// The Heartland Payroll envelope: `{TotalRecords, Results, Timestamp, StatusCode, ResponseMessage}`.
struct PayrollEnvelope<Element: Decodable & Sendable>: Decodable, Sendable {
    var results: [Element]
    var statusCode: Int64?
    var message: String?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        results = try c.decodeArray(Element.self, c["Results"])
        statusCode = try c.decodeLenientInt(c["StatusCode"])
        message = try c.decodeLenientString(c["ResponseMessage"])
    }
}

/// What a caller reads of a Retail page as it arrives (`HeartlandClient.ticketPages(_:reading:)`).
public struct RetailPageReading<Page: Sendable>: Sendable {
    public var page: Page
    /// How many records it has: when the list does not say how many pages it has, a page with fewer than were asked for
    /// is the last.
    public var recordCount: Int
    /// How many pages the list has (`pages`), when the page says.
    public var pageCount: Int?

    public init(page: Page, recordCount: Int, pageCount: Int?) {
        self.page = page
        self.recordCount = recordCount
        self.pageCount = pageCount
    }
}

/// Any JSON record, decoded only to be counted (the shape of a page whose bytes are kept as served).
struct AnyRecord: Decodable, Sendable {
    init(from decoder: any Decoder) throws {}
}
