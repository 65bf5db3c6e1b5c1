import BridgeClock
import Crypto
import Foundation
import GRDB
import SimulatorKit

/// `POST /ucp/accesstoken`: app id, RFC 3339 nonce, secret = lowercase hex SHA-512(nonce + app key).
struct GPAccessTokenRoutes {
    let context: HeartlandContext

    static let intervals: [String: Int] = [
        "WEEK": 604_800, "DAY": 86_400, "12_HOURS": 43_200, "6_HOURS": 21_600, "3_HOURS": 10_800, "1_HOUR": 3_600,
        "30_MINUTES": 1_800, "10_MINUTES": 600, "5_MINUTES": 300,
    ]
    static let defaultLifetime = 86_400

    func add(to table: inout RouteTable) {
        table.add("POST", "/ucp/accesstoken") { request in try await answering { try await issue(request) } }
    }

    static func secret(nonce: String, appKey: String) -> String {
        WebhookSignature.hex(SHA512.hash(data: Data((nonce + appKey).utf8)))
    }

    private func issue(_ request: SimRequest) async throws -> SimResponse {
        let body = try request.json()
        guard let appId = body["app_id"]?.stringValue, let nonce = body["nonce"]?.stringValue,
            let secret = body["secret"]?.stringValue
        else { throw GPError.missing("Request expects app_id, nonce and secret") }
        guard body["grant_type"]?.stringValue == "client_credentials" else {
            throw GPError.invalid("grant_type must be client_credentials", code: "40006")
        }
        guard Timestamps.parse(nonce) != nil else { throw GPError.invalid("nonce must be an RFC 3339 timestamp", code: "40007") }
        let credentials = context.credentials
        guard appId == credentials.appId, secret == Self.secret(nonce: nonce, appKey: credentials.appKey) else {
            throw GPError.badCredentials
        }
        var lifetime = Self.defaultLifetime
        if let interval = body["interval_to_expire"]?.stringValue {
            guard let seconds = Self.intervals[interval] else { throw GPError.invalid("Invalid interval_to_expire") }
            lifetime = seconds
        }
        if let value = body["seconds_to_expire"] {
            guard let seconds = value.int64Value, (60...604_800).contains(seconds) else {
                throw GPError.invalid("seconds_to_expire must be between 60 and 604800")
            }
            lifetime = Int(seconds)
        }
        let now = context.clock.now()
        let token = AccessToken(
            token: UUID().uuidString.replacingOccurrences(of: "-", with: "") + UUID().uuidString.prefix(8),
            appId: appId, createdAt: now, expiresAt: now.addingTimeInterval(TimeInterval(lifetime)))
        try await context.database.write { try token.insert($0) }
        let suffix = credentials.merchantId.replacingOccurrences(of: "MER_", with: "")
        return .json([
            "token": .string(token.token), "type": "Bearer", "app_id": .string(appId),
            "app_name": .string(credentials.appName), "time_created": .string(Timestamps.iso8601(now)),
            "seconds_to_expire": .int(lifetime), "email": "merchant@example.com",
            "scope": [
                "merchant_id": .string(credentials.merchantId), "merchant_name": .string(credentials.merchantName),
                "accounts": [
                    ["id": .string("TRA_\(suffix)"), "name": "Transaction_Processing"],
                    ["id": .string("DAA_\(suffix)"), "name": "Data_Account"],
                ],
            ],
        ])
    }
}
