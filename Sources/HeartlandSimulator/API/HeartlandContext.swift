import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// What every Heartland route needs: storage, the clock, credentials, and webhook queuing.
struct HeartlandContext: Sendable {
    let database: DatabasePool
    let clock: SimClock
    let credentials: HeartlandCredentials

    /// GP-API: a live access token from `POST /ucp/accesstoken`.
    func requireAccessToken(_ request: SimRequest) async throws -> AccessToken {
        guard let token = bearer(request) else { throw GPError.invalidToken }
        let now = clock.now()
        guard let record = try await database.read({ try AccessToken.fetchOne($0, key: token) }), record.expiresAt > now else {
            throw GPError.invalidToken
        }
        return record
    }

    /// Retail and payroll: one of the configured static API tokens.
    func requireRetailToken(_ request: SimRequest) throws {
        guard let token = bearer(request), credentials.retailTokens.contains(token) else { throw RetailError.unauthorized }
    }

    /// Runs a Retail or payroll handler behind the static-token check.
    func retail(_ request: SimRequest, _ body: () async throws -> SimResponse) async throws -> SimResponse {
        try await answering {
            try requireRetailToken(request)
            return try await body()
        }
    }

    private func bearer(_ request: SimRequest) -> String? {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    /// Queues a webhook event in the caller's transaction.
    func enqueueEvent(_ db: Database, event: String, data: JSONValue) throws {
        let now = clock.now()
        let id = "EVT_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let body: JSONValue = [
            "id": .string(id), "event": .string(event), "created_at": .string(Timestamps.iso8601(now)),
            "account": .string(credentials.merchantId), "data": data,
        ]
        try WebhookOutbox.enqueue(db, eventId: id, event: event, body: body, now: now)
    }
}

/// Credentials the simulator accepts, from flags or the environment.
public struct HeartlandCredentials: Sendable {
    public var appId: String
    public var appKey: String
    public var appName = "heartland-sim"
    public var merchantId = "MER_880000"
    public var merchantName = "Simulated Merchant"
    /// Static Heartland Retail API tokens (non-expiring, as merchants create them in the back office).
    public var retailTokens: Set<String>
    /// Secret for `X-Heartland-Signature`: its own, never the app key (a receiver holding the
    /// webhook secret cannot call the API, and the other way round).
    public var webhookSecret: String
    public static let defaultWebhookSecret = "sim-webhook-secret"

    public init(appId: String, appKey: String, retailTokens: Set<String>, webhookSecret: String = defaultWebhookSecret) {
        self.appId = appId
        self.appKey = appKey
        self.retailTokens = retailTokens
        self.webhookSecret = webhookSecret
    }
}

/// Paging arguments: `page` (1-based) and a page size parameter with a default and a maximum.
struct Paging {
    let page: Int
    let size: Int
    var offset: Int { (page - 1) * size }

    init(_ request: SimRequest, sizeParameter: String, defaultSize: Int, maxSize: Int, invalid: (String) -> any Error) throws {
        page = request.queryInt("page") ?? 1
        size = request.queryInt(sizeParameter) ?? defaultSize
        guard page >= 1 else { throw invalid("page must be >= 1") }
        guard (1...maxSize).contains(size) else { throw invalid("\(sizeParameter) must be 1...\(maxSize)") }
    }

    func pages(total: Int) -> Int { (total + size - 1) / size }
}
