import BridgeClock
import Crypto
import Foundation
import Logging

/// GP-API access tokens (`POST /ucp/accesstoken`): app id, an RFC 3339 nonce and
/// secret = lowercase hex SHA-512(nonce + app key). The token is cached until shortly before
/// `seconds_to_expire`; concurrent callers share one fetch. A 401 on a request means the token died
/// early (revoked, server clock ahead): the caller `invalidate`s it and asks again, once.
public actor GPAPIAuthenticator {
    public struct Credentials: Sendable {
        public var appId: String
        public var appKey: String
        /// Requested lifetime (60…604800 s); nil lets the server choose.
        public var secondsToExpire: Int?

        public init(appId: String, appKey: String, secondsToExpire: Int? = nil) {
            self.appId = appId
            self.appKey = appKey
            self.secondsToExpire = secondsToExpire
        }
    }

    struct CachedToken: Sendable {
        let value: String
        let refreshAt: Date
    }

    private let tokenURL: URL
    private let credentials: Credentials
    private let transport: HTTPTransport
    private let refreshMargin: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var cached: CachedToken?
    private var inFlight: Task<CachedToken, any Error>?
    /// How many tokens were fetched (for tests and metrics).
    public private(set) var tokensFetched = 0

    /// - Parameters:
    ///   - gpAPIBaseURL: the `/ucp` base, e.g. `https://apis.globalpay.com/ucp`.
    ///   - refreshMargin: refresh this long before expiry (at most a tenth of the lifetime).
    ///   - now: the clock deciding expiry (tests move it).
    public init(
        gpAPIBaseURL: URL, credentials: Credentials, timeout: Duration = .seconds(30), refreshMargin: Duration = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.init(
            tokenURL: gpAPIBaseURL.appendingPathComponent("accesstoken"), credentials: credentials,
            // The token is asked for with a POST, never asked again.
            transport: HTTPTransport(timeout: timeout, readRetries: 0, logger: logger), refreshMargin: refreshMargin, now: now, logger: logger)
    }

    init(tokenURL: URL, credentials: Credentials, transport: HTTPTransport, refreshMargin: Duration,
         now: @escaping @Sendable () -> Date, logger: Logger)
    {
        self.tokenURL = tokenURL
        self.credentials = credentials
        self.transport = transport
        self.refreshMargin = refreshMargin
        self.now = now
        self.logger = logger
    }

    /// A live access token: the cached one, or a fresh one.
    public func token() async throws -> String {
        if let cached, now() < cached.refreshAt { return cached.value }
        if let inFlight { return try await inFlight.value.value }
        let task = Task { try await self.fetch() }
        inFlight = task
        defer { inFlight = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh.value
    }

    /// Forgets `token` after the server refused it, so the next `token()` fetches a new one.
    /// A token already replaced by another caller's refresh is left alone.
    public func invalidate(_ token: String) {
        if cached?.value == token { cached = nil }
    }

    /// The request body for a nonce (exposed for tests).
    public static func secret(nonce: String, appKey: String) -> String {
        SHA512.hash(data: Data((nonce + appKey).utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    static func nonce(_ date: Date) -> String {
        Timestamps.iso8601(date)
    }

    private func fetch() async throws -> CachedToken {
        let issuedAt = now()
        let nonce = Self.nonce(Date())
        var body: [String: GPTokenRequestValue] = [
            "app_id": .text(credentials.appId), "nonce": .text(nonce),
            "secret": .text(Self.secret(nonce: nonce, appKey: credentials.appKey)), "grant_type": .text("client_credentials"),
        ]
        if let seconds = credentials.secondsToExpire { body["seconds_to_expire"] = .number(seconds) }
        let answer = try await transport.send(
            "POST", tokenURL, headers: ["X-GP-Version": "2021-03-22"], body: try JSONEncoder().encode(body),
            what: "GP-API access token for app id \(credentials.appId)")
        switch answer.status {
        case 200...299: break
        case 401, 403:
            throw HeartlandError.unauthorized(
                "GP-API refused app id \(credentials.appId) (\(HeartlandError.errorSummary(answer.body))); "
                    + "check the Heartland app id and app key in the configuration")
        default:
            throw HeartlandError.from(
                status: answer.status, body: answer.body, retryAfterHeader: answer.header("Retry-After"),
                what: "GP-API access token for app id \(credentials.appId)")
        }
        struct TokenResponse: Decodable {
            var token: String
            var seconds_to_expire: Int?
        }
        guard let response = try? JSONDecoder().decode(TokenResponse.self, from: answer.body), !response.token.isEmpty else {
            throw HeartlandError.unavailable("GP-API access token for app id \(credentials.appId): malformed answer")
        }
        tokensFetched += 1
        let lifetime = TimeInterval(response.seconds_to_expire ?? credentials.secondsToExpire ?? 3600)
        let margin = min(refreshMargin.seconds, lifetime / 10)
        logger.debug("gp-api token fetched", metadata: ["app_id": "\(credentials.appId)", "seconds_to_expire": "\(Int(lifetime))"])
        return CachedToken(value: response.token, refreshAt: issuedAt.addingTimeInterval(lifetime - margin))
    }
}

enum GPTokenRequestValue: Encodable {
    case text(String)
    case number(Int)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        }
    }
}
