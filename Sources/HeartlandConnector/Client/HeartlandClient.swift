import Foundation

/// The bridge's view of Heartland: GP-API card transactions and settlement batches, Heartland
/// Retail tickets and catalog, payroll runs. Every error thrown is a `HeartlandError`
/// (or `CancellationError`). One implementation: `URLSessionHeartlandClient`.
public protocol HeartlandClient: Sendable {
    /// Card transactions, oldest first (newest first with `newestFirst`), every page.
    func transactions(_ query: TransactionQuery) -> HeartlandPages<CardTransaction>
    /// The same list with each transaction decoded on its own: one malformed transaction does not hide the others.
    func listedTransactions(_ query: TransactionQuery) -> HeartlandPages<ListedTransaction>
    /// The ids of the transactions a query finds, read leniently: one malformed transaction does not hide the others.
    func transactionIDs(_ query: TransactionQuery) async throws -> [String]
    func transaction(id: String) async throws -> CardTransaction
    /// Settlement batches, every page.
    func batches(_ query: BatchQuery) -> HeartlandPages<SettlementBatch>
    func batch(id: String) async throws -> SettlementBatch
    /// A batch with every transaction in it (reversed ones included, as Heartland lists them).
    func batchDetail(id: String) async throws -> SettlementBatchDetail
    /// Retail tickets with lines and tenders, every page.
    func tickets(_ query: TicketQuery) -> HeartlandPages<Ticket>
    func ticket(id: Int64) async throws -> Ticket
    func customers(updatedSince: Date?) -> HeartlandPages<Customer>
    func items(updatedSince: Date?) -> HeartlandPages<Item>
    func inventory(locationId: Int64?) -> HeartlandPages<InventoryValue>
    /// Payroll runs, optionally of one status.
    func payRuns(status: PayRunStatus?) async throws -> [PayRun]
    func payRun(id: String) async throws -> PayRun
    /// Retail locations (stores) with their time zones.
    func locations() async throws -> [Location]

    // Heartland's own bytes (card numbers masked), for events that carry the source data unchanged
    // so that validation and repair happen in one place downstream.
    /// `GET /ucp/batches/{id}` as served, with its decoding.
    func batchJSON(id: String) async throws -> (batch: SettlementBatch, json: Data)
    /// The Retail ticket pages of a query, each page's body as served (`{total, pages, …, results}`).
    func ticketPagesJSON(_ query: TicketQuery) -> HeartlandPages<Data>
    /// The same pages, each read by `reading` from its body as served as it arrives, and only what it reads kept (a
    /// 100,000-ticket day's pages are 88 MB). `reading` says how many records the page has and, when the page says, how
    /// many pages the list has; it throws only when the body is not such a page, which is then Heartland's failure: a
    /// body that is not JSON (cut short, say) is `unavailable` and retried, any other `invalidResponse`.
    func ticketPages<Page: Sendable>(_ query: TicketQuery, reading: @escaping @Sendable (Data) throws -> RetailPageReading<Page>)
        -> HeartlandPages<Page>
    /// `GET /payroll/pay_runs/{id}` as served (the payroll envelope with the run in `Results`), with its decoding.
    func payRunJSON(id: String) async throws -> (run: PayRun, json: Data)
    /// `GET /ucp/transactions/{id}` as served (card-scrubbed), with its decoding.
    func transactionJSON(id: String) async throws -> (transaction: CardTransaction, json: Data)
    /// `GET /api/sales/tickets/{id}` as served (card-scrubbed), with its decoding.
    func ticketJSON(id: Int64) async throws -> (ticket: Ticket, json: Data)
    /// `GET /api/customers/{id}` as served: the customer a ticket charged to a house account names.
    func customerJSON(id: String) async throws -> Data
}

extension HeartlandClient {
    /// A location's tickets for a range of local business days (inclusive).
    public func tickets(locationId: Int64, fromBusinessDay: String, throughBusinessDay: String) async throws -> [Ticket] {
        try await tickets(.location(locationId, businessDays: fromBusinessDay, through: throughBusinessDay)).collect()
    }
}

/// Where and as whom the client talks to Heartland.
public struct HeartlandConfiguration: Sendable {
    /// GP-API base including `/ucp`.
    public var gpAPIBaseURL: URL
    /// Heartland Retail base including `/api`.
    public var retailBaseURL: URL
    /// Payroll base including `/payroll`.
    public var payrollBaseURL: URL
    public var credentials: GPAPIAuthenticator.Credentials
    /// Heartland Retail API token (also used for payroll).
    public var retailToken: String
    /// GP-API `page_size` (max 1000).
    public var gpPageSize = 1000
    /// Retail `per_page` (max 5000).
    public var retailPageSize = 500
    /// Retail pages read side by side once the first page says how many there are (`HeartlandPages.collect()`); a 429 ends
    /// the read and the stage retries it after `Retry-After`.
    public var retailPageConcurrency = 4
    public var requestTimeout: Duration = .seconds(30)
    /// Connections kept open to one Heartland host at most (the process's pool, docs/HTTP.md): set it to the number of
    /// requests the caller makes at once (e.g. pages fetched concurrently).
    public var connectionsPerHost = 8
    /// Times a read (GET) answered 500, 502, 503 or 504, or cut off, is asked again at once, after about 0.2 s and then
    /// 0.8 s, before its failure goes to the caller (`ReadRetry`, docs/HTTP.md); 0 asks once.
    public var readRetries = Self.defaultReadRetries
    /// `HEARTLAND_READ_RETRIES` when not set, for heartland-ingest and heartland-loader alike.
    public static let defaultReadRetries = 2

    public init(gpAPIBaseURL: URL, retailBaseURL: URL, payrollBaseURL: URL, credentials: GPAPIAuthenticator.Credentials, retailToken: String) {
        self.gpAPIBaseURL = gpAPIBaseURL
        self.retailBaseURL = retailBaseURL
        self.payrollBaseURL = payrollBaseURL
        self.credentials = credentials
        self.retailToken = retailToken
    }

    /// Everything on one host (the simulator): `<base>/ucp`, `<base>/api`, `<base>/payroll`.
    public init(baseURL: URL, credentials: GPAPIAuthenticator.Credentials, retailToken: String) {
        self.init(
            gpAPIBaseURL: baseURL.appendingPathComponent("ucp"), retailBaseURL: baseURL.appendingPathComponent("api"),
            payrollBaseURL: baseURL.appendingPathComponent("payroll"), credentials: credentials, retailToken: retailToken)
    }
}
