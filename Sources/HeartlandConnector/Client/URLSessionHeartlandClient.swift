import BridgeClock
import Foundation
import Logging

/// `HeartlandClient` over HTTP. GP-API calls carry the cached access token and are retried once
/// with a fresh token after a 401; Retail and payroll calls carry the static API token. Bodies
/// pass `CardMask.scrub` before they are decoded.
public struct URLSessionHeartlandClient: HeartlandClient {
    public let configuration: HeartlandConfiguration
    public let authenticator: GPAPIAuthenticator
    let transport: HTTPTransport
    let logger: Logger

    public init(configuration: HeartlandConfiguration, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        let transport = HTTPTransport(timeout: configuration.requestTimeout, connectionsPerHost: configuration.connectionsPerHost,
                                      readRetries: configuration.readRetries, logger: logger)
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        authenticator = GPAPIAuthenticator(
            tokenURL: configuration.gpAPIBaseURL.appendingPathComponent("accesstoken"), credentials: configuration.credentials,
            transport: transport, refreshMargin: .seconds(60), now: now, logger: logger)
    }

    // MARK: GP-API

    public func transactions(_ query: TransactionQuery) -> HeartlandPages<CardTransaction> {
        transactionPages(query)
    }

    public func listedTransactions(_ query: TransactionQuery) -> HeartlandPages<ListedTransaction> {
        transactionPages(query)
    }

    private func transactionPages<Record: Decodable & Sendable>(_ query: TransactionQuery) -> HeartlandPages<Record> {
        let path = query.settledOnly ? "settlement/transactions" : "transactions"
        let size = query.pageSize ?? configuration.gpPageSize
        return HeartlandPages { page in
            let parameters = query.parameters + [
                ("page", String(page)), ("page_size", String(size)), ("order_by", "TIME_CREATED"), ("order", query.newestFirst ? "DESC" : "ASC"),
            ]
            let result: GPPage<Record> = try await gp(path, parameters, what: "GP-API \(path) page \(page)")
            return (result.records, Self.hasMore(page: page, size: size, received: result.records.count, total: result.totalRecordCount))
        }
    }

    public func transactionIDs(_ query: TransactionQuery) async throws -> [String] {
        struct Identity: Decodable, Sendable { var id: String }
        let size = configuration.gpPageSize
        return try await HeartlandPages<String> { page in
            let parameters = query.parameters + [("page", String(page)), ("page_size", String(size))]
            let result: GPPage<Identity> = try await gp("transactions", parameters, what: "GP-API transaction ids page \(page)")
            return (result.records.map(\.id), Self.hasMore(page: page, size: size, received: result.records.count, total: result.totalRecordCount))
        }.collect()
    }

    public func transaction(id: String) async throws -> CardTransaction {
        try await gp("transactions/\(id)", [], what: "GP-API transaction \(id)")
    }

    public func batches(_ query: BatchQuery) -> HeartlandPages<SettlementBatch> {
        let size = configuration.gpPageSize
        return HeartlandPages { page in
            let parameters = query.parameters + [("page", String(page)), ("page_size", String(size))]
            let result: GPPage<SettlementBatch> = try await gp("batches", parameters, what: "GP-API batches page \(page)")
            return (result.records, Self.hasMore(page: page, size: size, received: result.records.count, total: result.totalRecordCount))
        }
    }

    public func batch(id: String) async throws -> SettlementBatch {
        try await gp("batches/\(id)", [], what: "GP-API batch \(id)")
    }

    public func batchJSON(id: String) async throws -> (batch: SettlementBatch, json: Data) {
        let what = "GP-API batch \(id)"
        let body = try await gpBody("batches/\(id)", [], what: what)
        return (try decode(body, what: what), body)
    }

    public func batchDetail(id: String) async throws -> SettlementBatchDetail {
        let batch = try await batch(id: id)
        let transactions = try await transactions(TransactionQuery(batchId: id)).collect()
        return SettlementBatchDetail(batch: batch, transactions: transactions)
    }

    static func hasMore(page: Int, size: Int, received: Int, total: Int?) -> Bool {
        if let total { return page * size < total && received > 0 }
        return received == size
    }

    // MARK: Heartland Retail

    public func tickets(_ query: TicketQuery) -> HeartlandPages<Ticket> {
        var parameters: [(String, String)] = []
        if let filter = query.filterJSON { parameters.append(("_filter", filter)) }
        return retailPages("sales/tickets", parameters, what: "Retail tickets")
    }

    public func ticket(id: Int64) async throws -> Ticket {
        try await retail(configuration.retailBaseURL, "sales/tickets/\(id)", [], what: "Retail ticket \(id)")
    }

    public func transactionJSON(id: String) async throws -> (transaction: CardTransaction, json: Data) {
        let what = "GP-API transaction \(id)"
        let body = try await gpBody("transactions/\(id)", [], what: what)
        return (try decode(body, what: what), body)
    }

    public func ticketJSON(id: Int64) async throws -> (ticket: Ticket, json: Data) {
        let what = "Retail ticket \(id)"
        let body = try await retailBody(configuration.retailBaseURL, "sales/tickets/\(id)", [], what: what)
        return (try decode(body, what: what), body)
    }

    public func customerJSON(id: String) async throws -> Data {
        try await retailBody(configuration.retailBaseURL, "customers/\(id)", [], what: "Retail customer \(id)")
    }

    /// `GET /api/sales/tickets/{id}` as served, not decoded: a record that is still malformed is the transformer's to judge.
    public func rawTicketJSON(id: String) async throws -> Data {
        try await retailBody(configuration.retailBaseURL, "sales/tickets/\(id)", [], what: "Retail ticket \(id)")
    }

    public func ticketPagesJSON(_ query: TicketQuery) -> HeartlandPages<Data> {
        ticketPages(query) { body in
            let shape = try JSONDecoder().decode(RetailPage<AnyRecord>.self, from: body)
            return RetailPageReading(page: body, recordCount: shape.results.count, pageCount: shape.pages)
        }
    }

    public func ticketPages<Page: Sendable>(_ query: TicketQuery, reading: @escaping @Sendable (Data) throws -> RetailPageReading<Page>)
        -> HeartlandPages<Page>
    {
        let parameters = query.filterJSON.map { [("_filter", $0)] } ?? []
        let size = configuration.retailPageSize
        return HeartlandPages(concurrency: configuration.retailPageConcurrency) { page in
            let what = "Retail tickets page \(page)"
            let all = parameters + [("page", String(page)), ("per_page", String(size))]
            let body = try await retailBody(configuration.retailBaseURL, "sales/tickets", all, what: what)
            let read = try judged(body, what: what) { try reading(body) }
            return ([read.page], read.pageCount.map { page < $0 } ?? (read.recordCount == size), read.pageCount)
        }
    }

    public func locations() async throws -> [Location] {
        try await retailPages("locations", [], what: "Retail locations").collect()
    }

    public func customers(updatedSince: Date?) -> HeartlandPages<Customer> {
        retailPages("customers", Self.updatedFilter(updatedSince), what: "Retail customers")
    }

    public func items(updatedSince: Date?) -> HeartlandPages<Item> {
        retailPages("items", Self.updatedFilter(updatedSince), what: "Retail items")
    }

    public func inventory(locationId: Int64?) -> HeartlandPages<InventoryValue> {
        retailPages("inventory/values", locationId.map { [("location_id", String($0))] } ?? [], what: "Retail inventory")
    }

    static func updatedFilter(_ since: Date?) -> [(String, String)] {
        guard let since else { return [] }
        let stamp = Timestamps.iso8601Millis(since)
        return [("_filter", "{\"updated_at\":{\"$gte\":\(TicketQuery.quoted(stamp))}}")]
    }

    private func retailPages<Element: Decodable & Sendable>(_ path: String, _ parameters: [(String, String)], what: String)
        -> HeartlandPages<Element>
    {
        let size = configuration.retailPageSize
        return HeartlandPages(concurrency: configuration.retailPageConcurrency) { page in
            let all = parameters + [("page", String(page)), ("per_page", String(size))]
            let result: RetailPage<Element> = try await retail(configuration.retailBaseURL, path, all, what: "\(what) page \(page)")
            let more = result.pages.map { page < $0 } ?? (result.results.count == size)
            return (result.results, more, result.pages)
        }
    }

    // MARK: Payroll

    public func payRuns(status: PayRunStatus?) async throws -> [PayRun] {
        let envelope: PayrollEnvelope<PayRun> = try await retail(
            configuration.payrollBaseURL, "pay_runs", status.map { [("status", $0.rawValue)] } ?? [], what: "payroll runs")
        return try Self.checked(envelope, what: "payroll runs")
    }

    public func payRun(id: String) async throws -> PayRun {
        try await payRunJSON(id: id).run
    }

    public func payRunJSON(id: String) async throws -> (run: PayRun, json: Data) {
        let what = "pay run \(id)"
        let body = try await retailBody(configuration.payrollBaseURL, "pay_runs/\(id)", [], what: what)
        let envelope: PayrollEnvelope<PayRun> = try decode(body, what: what)
        guard let run = try Self.checked(envelope, what: what).first else {
            throw HeartlandError.notFound("\(what): empty Results")
        }
        return (run, body)
    }

    static func checked<T>(_ envelope: PayrollEnvelope<T>, what: String) throws -> [T] {
        if let code = envelope.statusCode, code != 200 {
            throw HeartlandError.invalidResponse("\(what): StatusCode \(code) \(envelope.message ?? "")")
        }
        return envelope.results
    }

    // MARK: Requests

    /// A GP-API GET with the access token; one refresh and retry after a 401.
    private func gp<T: Decodable>(_ path: String, _ parameters: [(String, String)], what: String) async throws -> T {
        try decode(try await gpBody(path, parameters, what: what), what: what)
    }

    /// The checked, card-scrubbed body of a GP-API GET.
    private func gpBody(_ path: String, _ parameters: [(String, String)], what: String) async throws -> Data {
        let url = Self.url(configuration.gpAPIBaseURL, path, parameters)
        var token = try await authenticator.token()
        var answer = try await transport.send("GET", url, headers: gpHeaders(token), what: what)
        if answer.status == 401 {
            logger.info("gp-api token refused, refreshing once", metadata: ["request": "\(what)"])
            await authenticator.invalidate(token)
            token = try await authenticator.token()
            answer = try await transport.send("GET", url, headers: gpHeaders(token), what: what)
        }
        return try answer.checkedBody(what: what, logger: logger)
    }

    private func gpHeaders(_ token: String) -> [String: String] {
        ["Authorization": "Bearer \(token)", "X-GP-Version": "2021-03-22"]
    }

    private func retail<T: Decodable>(_ base: URL, _ path: String, _ parameters: [(String, String)], what: String) async throws -> T {
        try decode(try await retailBody(base, path, parameters, what: what), what: what)
    }

    private func retailBody(_ base: URL, _ path: String, _ parameters: [(String, String)], what: String) async throws -> Data {
        let answer = try await transport.send(
            "GET", Self.url(base, path, parameters), headers: ["Authorization": "Bearer \(configuration.retailToken)"], what: what)
        return try answer.checkedBody(what: what, logger: logger)
    }

    private func decode<T: Decodable>(_ body: Data, what: String) throws -> T {
        try judged(body, what: what) { try JSONDecoder().decode(T.self, from: body) }
    }

    /// `reading` of a body, its failure told as Heartland's: a body that is not JSON (cut short, say) as Heartland being
    /// unavailable (retried), one that is JSON but not what was asked for as an invalid answer.
    private func judged<T>(_ body: Data, what: String, _ reading: () throws -> T) throws -> T {
        do {
            return try reading()
        } catch {
            if (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) == nil {
                throw HeartlandError.unavailable("\(what): malformed JSON body (\(body.count) bytes)")
            }
            throw HeartlandError.invalidResponse("\(what): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return "at \(path.isEmpty ? "top level" : path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// `base/path?query`, every value percent-encoded strictly (JSON filters included).
    static func url(_ base: URL, _ path: String, _ parameters: [(String, String)]) -> URL {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let encodedPath = path.split(separator: "/").map {
            String($0).addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0)
        }.joined(separator: "/")
        var text = base.absoluteString + (base.absoluteString.hasSuffix("/") ? "" : "/") + encodedPath
        if !parameters.isEmpty {
            text += "?" + parameters.map { name, value in
                (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name) + "="
                    + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
            }.joined(separator: "&")
        }
        return URL(string: text)!
    }
}
