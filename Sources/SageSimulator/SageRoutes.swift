import Foundation
import GRDB
import SimulatorKit

/// The Sage 300 Web API surface under `/Sage300WebApi/v1.0/-/{COMPANY}/`, behind HTTP Basic auth.
struct SageRoutes {
    static let prefix = "/Sage300WebApi/v1.0/-/{company}"

    let database: DatabasePool
    let ledger: GLJournalLedger
    let credentials: SageCredentials
    let clock: SimClock

    var table: RouteTable {
        var table = RouteTable()
        let p = Self.prefix
        table.add("GET", "\(p)/GL/GLJournalBatches") { try await list($0, GLJournalLedger.resource) }
        table.add("GET", "\(p)/GL/GLJournalBatches({key})") { request in
            try await guarded(request) { _ in
                let key = DocumentResource.unquote(request.parameter("key"))
                guard let batch = try await database.read({ try SageRecords.fetch($0, resource: GLJournalLedger.resource, key: key) })
                else { throw SageError.notFound("Batch \(key) does not exist.") }
                return .json(batch)
            }
        }
        // An entered batch (every batch here: none is posted to the ledger) can be deleted, as in Sage 300.
        table.add("DELETE", "\(p)/GL/GLJournalBatches({key})") { request in
            try await guarded(request) { _ in
                let key = DocumentResource.unquote(request.parameter("key"))
                guard try await ledger.deleteBatch(key) else { throw SageError.notFound("Batch \(key) does not exist.") }
                return .empty()
            }
        }
        table.add("POST", "\(p)/GL/GLJournalBatches") { request in
            try await guarded(request) { user in
                let batch = try await ledger.createBatch(try request.json(), enteredBy: user)
                return created(batch, request, key: "'\(batch["BatchNumber"]?.stringValue ?? "")'")
            }
        }
        table.add("GET", "\(p)/GL/GLJournalHeaders") { try await list($0, GLJournalLedger.resource, flatten: GLJournalLedger.headers) }
        table.add("GET", "\(p)/GL/GLJournalDetails") { try await list($0, GLJournalLedger.resource, flatten: GLJournalLedger.details) }
        // Posting an entered AR batch: its documents become readable at AR/ARPostedDocuments.
        for (action, post) in [("ARPostInvoices", ARPosting.postInvoices), ("ARPostReceiptsAndAdjustments", ARPosting.postReceipts)] {
            table.add("POST", "\(p)/AR/\(action)") { request in
                try await guarded(request) { _ in
                    let body = try request.json()
                    let now = clock.now()
                    return .json(try await database.write { try post($0, body, now) })
                }
            }
        }
        for resource in [
            GLAccounts.accounts, ARResources.customers, ARResources.receiptBatches, ARResources.invoiceBatches, ARPosting.postedDocuments, ICResources.items,
            ICResources.locations, ICResources.locationDetails, ICPricingResources.itemPricing, OEResources.orders, OEResources.shipments,
        ] {
            add(resource, to: &table)
        }
        return table
    }

    private func add(_ resource: DocumentResource, to table: inout RouteTable) {
        let path = "\(Self.prefix)/\(resource.resource)"
        let name = resource.resource.split(separator: "/").last.map(String.init) ?? resource.resource
        let keyed = "\(Self.prefix)/\(resource.resource.split(separator: "/").first!)/\(name)({key})"
        table.add("GET", path) { try await list($0, resource.resource, keyFields: resource.keyFields) }
        table.add("POST", path) { request in
            try await guarded(request) { _ in
                let body = try request.json()
                let now = clock.now()
                let entity = try await database.write { try resource.insert($0, body: body, now: now) }
                return created(entity, request, key: odataKey(resource, entity))
            }
        }
        table.add("GET", keyed) { request in
            try await guarded(request) { _ in
                let key = try resource.storageKey(fromODataKey: request.parameter("key"))
                guard let entity = try await database.read({ try SageRecords.fetch($0, resource: resource.resource, key: key) })
                else { throw SageError.notFound("\(resource.resource) record '\(key)' does not exist.") }
                return .json(entity)
            }
        }
        if resource.update != nil {
            table.add("PATCH", keyed) { request in
                try await guarded(request) { _ in
                    let key = try resource.storageKey(fromODataKey: request.parameter("key"))
                    let body = try request.json()
                    let now = clock.now()
                    return .json(try await database.write { try resource.patch($0, key: key, body: body, now: now) })
                }
            }
        }
        if resource.delete != nil {
            table.add("DELETE", keyed) { request in
                try await guarded(request) { _ in
                    let key = try resource.storageKey(fromODataKey: request.parameter("key"))
                    try await database.write { try resource.remove($0, key: key) }
                    return .empty()
                }
            }
        }
    }

    private func odataKey(_ resource: DocumentResource, _ entity: JSONValue) -> String {
        func literal(_ value: JSONValue?) -> String {
            if case .number(let n) = value ?? .null { return "\(n)" }
            return "'\(value?.stringValue ?? "")'"
        }
        if resource.keyFields.count == 1 { return literal(entity[resource.keyFields[0]]) }
        return resource.keyFields.map { "\($0)=\(literal(entity[$0]))" }.joined(separator: ",")
    }

    private func created(_ entity: JSONValue, _ request: SimRequest, key: String) -> SimResponse {
        .json(entity, status: 201, headers: ["Location": "\(request.path)(\(key))"])
    }

    private func list(
        _ request: SimRequest, _ resource: String, keyFields: [String] = [], flatten: (@Sendable ([JSONValue]) -> [JSONValue])? = nil
    ) async throws -> SimResponse {
        try await guarded(request) { _ in
            let query: ODataQuery
            do { query = try ODataQuery(request: request) } catch let error as ODataFilter.ParseError {
                throw SageError.fieldInvalid("Invalid query: \(error.description)")
            }
            let rows = try await database.read { db in
                // The loaders' lookups by external reference (one, or a family by its prefix: a day's refunds) read
                // only the batches holding it (the reference index), not every batch: the answer is the same, since
                // the filter still applies below. A Sage holding a year of batches answers them from an index too.
                if resource == GLJournalLedger.resource, let lookup = Self.referenceLookup(request.queryValue("$filter")) {
                    let numbers: [String]
                    switch lookup {
                    case .equal(let reference):
                        numbers = try String.fetchAll(db, sql: "SELECT DISTINCT batch_number FROM gl_entry_reference WHERE reference = ?",
                                                      arguments: [reference])
                    case .prefix(let prefix):
                        numbers = try String.fetchAll(
                            db, sql: "SELECT DISTINCT batch_number FROM gl_entry_reference WHERE substr(reference, 1, ?) = ? ORDER BY batch_number",
                            arguments: [prefix.unicodeScalars.count, prefix])
                    }
                    return try numbers.compactMap { try SageRecords.fetch(db, resource: resource, key: $0) }
                }
                if flatten == nil, let narrowed = try SageQueryPlan(resource: resource, keyFields: keyFields, query: query).rows(db) {
                    return narrowed
                }
                return try SageRecords.all(db, resource: resource)
            }
            if flatten == nil, query.isPlainPage, !keyFields.isEmpty {
                let total = try await database.read { try SageRecords.count($0, resource: resource) }
                return .json(query.apply(page: rows, total: total, path: request.path))
            }
            return .json(query.apply(to: flatten.map { $0(rows) } ?? rows, path: request.path))
        }
    }

    /// A lookup by external reference: a filter that is exactly `DocumentNumber eq 'X'` or `startswith(DocumentNumber,'X')`
    /// (quotes doubled inside, X not empty), else nil.
    enum ReferenceLookup: Equatable {
        case equal(String)
        case prefix(String)
    }

    static func referenceLookup(_ filter: String?) -> ReferenceLookup? {
        guard let filter = filter?.trimmingCharacters(in: .whitespaces) else { return nil }
        func literal(after head: String, before tail: String) -> String? {
            guard filter.hasPrefix(head), filter.hasSuffix(tail), filter.count > head.count + tail.count else { return nil }
            let quoted = filter.dropFirst(head.count).dropLast(tail.count)
            guard !quoted.replacingOccurrences(of: "''", with: "").contains("'") else { return nil }
            return quoted.replacingOccurrences(of: "''", with: "'")
        }
        if let reference = literal(after: "DocumentNumber eq '", before: "'") { return .equal(reference) }
        if let prefix = literal(after: "startswith(DocumentNumber,'", before: "')") { return .prefix(prefix) }
        return nil
    }

    /// Basic auth and company check, then Sage-shaped errors for anything the handler throws.
    private func guarded(_ request: SimRequest, _ body: (String) async throws -> SimResponse) async throws -> SimResponse {
        guard let user = credentials.authenticate(request.header("authorization")) else {
            // No WWW-Authenticate header: FoundationNetworking's URLSession stalls on the challenge.
            return SageError(status: 401, code: "Unauthorized", message: "Authentication failed. Check the user ID and password.").response
        }
        guard request.parameter("company").caseInsensitiveCompare(ledger.company) == .orderedSame else {
            return SageError.notFound("Company \(request.parameter("company")) does not exist (this simulator serves \(ledger.company)).").response
        }
        do {
            return try await body(user)
        } catch let error as SageError {
            return error.response
        }
    }
}

/// The one Sage user the simulator accepts.
public struct SageCredentials: Sendable {
    public let user: String
    public let password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The user name when `Authorization: Basic ...` matches (user names are case-insensitive in Sage).
    func authenticate(_ header: String?) -> String? {
        guard let header, header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        let name = String(text[..<colon])
        let secret = String(text[text.index(after: colon)...])
        guard name.caseInsensitiveCompare(user) == .orderedSame, secret == password else { return nil }
        return user.uppercased()
    }
}
