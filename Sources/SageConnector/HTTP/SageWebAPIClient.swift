import Foundation
import Logging

/// `SageClient` over the Sage 300 Web API: `GL/GLJournalBatches` to post and read back,
/// `GL/GLJournalHeaders` to find an entry by its external reference, `GL/GLAccounts` for the chart.
public struct SageWebAPIClient: SageClient {
    let transport: SageHTTPTransport

    public init(connection: SageConnection, logger: Logger) {
        transport = SageHTTPTransport(connection: connection, logger: logger)
    }

    public var connection: SageConnection { transport.connection }

    public func post(_ batch: SageJournalBatch) async throws -> SagePostingReceipt {
        let body: Data
        do {
            body = try JSONEncoder().encode(GLJournalBatchWire(batch))
        } catch {
            throw SageError.validation(message: "the batch could not be encoded: \(error)", account: nil)
        }
        let answer = try await transport.send("POST", "GL/GLJournalBatches", body: body)
        let journal = try transport.decode(GLJournalBatchWire.self, from: answer, what: "created batch").posted()
        transport.logger.info("posted journal batch", metadata: [
            "batch": "\(journal.batchNumber)", "reference": "\(batch.reference ?? "")", "entries": "\(journal.entries.count)",
        ])
        return SagePostingReceipt(batchNumber: journal.batchNumber, journal: journal)
    }

    public func findJournal(reference: String) async throws -> SagePostedJournal? {
        let filter = "DocumentNumber eq \(ODataQuery.literal(reference))"
        let headers: [GLJournalHeaderRef] = try await list("GL/GLJournalHeaders", filter: filter, select: "BatchNumber,EntryNumber,DocumentNumber")
        guard let header = headers.first else { return nil }
        return try await readJournal(batchNumber: SageBatchNumber(header.BatchNumber))
    }

    public func findJournals(references: [String]) async throws -> [String: SagePostedJournal] {
        let wanted = Set(references)
        var found: [String: SagePostedJournal] = [:]
        for (prefix, members) in Dictionary(grouping: wanted, by: Self.sharedPrefix).sorted(by: { $0.key < $1.key }) {
            let filter = members.count == 1 ? "DocumentNumber eq \(ODataQuery.literal(members[0]))"
                : "startswith(DocumentNumber,\(ODataQuery.literal(prefix)))"
            let headers: [GLJournalHeaderWire] = try await list("GL/GLJournalHeaders", filter: filter, expand: "JournalDetails")
            let batches = Dictionary(grouping: headers) { $0.BatchNumber ?? "" }
            for number in batches.keys.sorted(by: { (Int($0) ?? .max, $0) < (Int($1) ?? .max, $1) }) {
                let journal = try GLJournalBatchWire(BatchNumber: number, JournalHeaders: batches[number] ?? []).posted()
                for entry in journal.entries where wanted.contains(entry.reference) && found[entry.reference] == nil {
                    found[entry.reference] = journal
                }
            }
        }
        return found
    }

    /// What references of one family share: the reference without its trailing number (`HL-S01-20261201-R` of
    /// `HL-S01-20261201-R1042`); a reference that does not end in one is its own family.
    static func sharedPrefix(_ reference: String) -> String {
        let stem = String(reference.reversed().drop { $0.isASCII && $0.isNumber }.reversed())
        return stem.count >= 8 && stem.count < reference.count ? stem : reference
    }

    /// Every journal batch holding an entry whose external reference starts with `referencePrefix`
    /// (e.g. `HL-` for the bridge's settlement journals), in batch order, as Sage holds them.
    public func journals(referencePrefix: String) async throws -> [SagePostedJournal] {
        let filter = "startswith(DocumentNumber,\(ODataQuery.literal(referencePrefix)))"
        let headers: [GLJournalHeaderRef] = try await list("GL/GLJournalHeaders", filter: filter, select: "BatchNumber,EntryNumber,DocumentNumber")
        var journals: [SagePostedJournal] = []
        for batch in Set(headers.map(\.BatchNumber)).sorted() {
            journals.append(try await readJournal(batchNumber: SageBatchNumber(batch)))
        }
        return journals
    }

    public func postedJournals(reference: String) async throws -> [SagePostedJournal] {
        let filter = "DocumentNumber eq \(ODataQuery.literal(reference))"
        let headers: [GLJournalHeaderWire] = try await list("GL/GLJournalHeaders", filter: filter, expand: "JournalDetails")
        let batches = Dictionary(grouping: headers) { $0.BatchNumber ?? "" }
        return try batches.keys.sorted().map { number throws(SageError) in
            try GLJournalBatchWire(BatchNumber: number, JournalHeaders: batches[number] ?? []).posted()
        }
    }

    public func deleteBatch(_ batchNumber: SageBatchNumber) async throws {
        _ = try await transport.send("DELETE", "GL/GLJournalBatches(\(ODataQuery.keyLiteral(batchNumber.rawValue)))")
    }

    public func readJournal(batchNumber: SageBatchNumber) async throws -> SagePostedJournal {
        let answer = try await transport.send("GET", "GL/GLJournalBatches(\(ODataQuery.keyLiteral(batchNumber.rawValue)))")
        return try transport.decode(GLJournalBatchWire.self, from: answer, what: "batch \(batchNumber)").posted()
    }

    public func accountExists(_ account: String) async throws -> Bool {
        try await self.account(account) != nil
    }

    /// The account, or nil when the chart does not have it.
    public func account(_ number: String) async throws -> SageGLAccount? {
        // A filtered list, not a keyed read: a keyed 404 could also mean a wrong company.
        let rows: [SageGLAccount] = try await list("GL/GLAccounts", filter: "AccountNumber eq \(ODataQuery.literal(number))")
        return rows.first
    }

    /// The whole chart, page by page.
    public func accounts() async throws -> [SageGLAccount] {
        try await list("GL/GLAccounts", filter: nil)
    }

    /// Every row of a collection matching `filter`, following `@odata.nextLink` (or `$skip` when
    /// the server sends no link but fills the page).
    func list<Row: Decodable & Sendable>(_ resource: String, filter: String?, select: String? = nil, expand: String? = nil) async throws(SageError)
        -> [Row]
    {
        let pageSize = max(1, transport.connection.pageSize)
        var rows: [Row] = []
        var options: [(String, String)] = []
        if let filter { options.append(("$filter", filter)) }
        if let select { options.append(("$select", select)) }
        if let expand { options.append(("$expand", expand)) }
        var next: URL? = URL(string: resource + "?" + ODataQuery.encode(options + [("$top", "\(pageSize)")]), relativeTo: transport.connection.companyURL)?.absoluteURL
        var pages = 0
        while let url = next {
            pages += 1
            guard pages <= 100_000 else { throw .unavailable(.malformedResponse("\(resource): paging does not end")) }
            let page = try transport.decode(
                ODataCollection<Row>.self, from: try await transport.send("GET", url: url), what: resource)
            rows += page.value
            if let link = page.nextLink {
                next = URL(string: link, relativeTo: transport.connection.companyURL)?.absoluteURL
            } else if page.value.count == pageSize {
                next = URL(string: resource + "?" + ODataQuery.encode(options + [("$top", "\(pageSize)"), ("$skip", "\(rows.count)")]),
                           relativeTo: transport.connection.companyURL)?.absoluteURL
            } else {
                next = nil
            }
        }
        return rows
    }
}

/// OData query text.
enum ODataQuery {
    /// `'O''Brien'`: a string literal with quotes doubled.
    static func literal(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }

    /// A key in parentheses: `'000001'`.
    static func keyLiteral(_ value: String) -> String {
        literal(value).addingPercentEncoding(withAllowedCharacters: unreserved) ?? literal(value)
    }

    /// `$filter=...&$top=...` with values percent-encoded (option names keep their `$`).
    static func encode(_ options: [(String, String)]) -> String {
        options.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: unreserved) ?? $0.1)" }
            .joined(separator: "&")
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
