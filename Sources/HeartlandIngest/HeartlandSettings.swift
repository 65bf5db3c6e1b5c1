import BridgeSettings
import Foundation
import HeartlandConnector

/// Where heartland-ingest finds Heartland and with which secrets, read once in `main` from the
/// environment (`EnvironmentReader`: values trimmed, blank is unset; secrets from the variable or from the file named by
/// `<NAME>_FILE`, not both, never flags).
///
/// | Variable | Default | |
/// |---|---|---|
/// | `HEARTLAND_URL` | | one root for `/ucp`, `/api`, `/payroll` (heartland-sim); or the three below |
/// | `HEARTLAND_GP_API_URL`, `HEARTLAND_RETAIL_URL`, `HEARTLAND_PAYROLL_URL` | from `HEARTLAND_URL` | e.g. `https://apis.globalpay.com/ucp` |
/// | `HEARTLAND_APP_ID`, `HEARTLAND_APP_KEY` / `_FILE` | | GP-API credentials |
/// | `HEARTLAND_RETAIL_TOKEN` / `_FILE` | | Heartland Retail API token |
/// | `HEARTLAND_WEBHOOK_SECRET` / `_FILE` | none: heartland-ingest refuses to start | HMAC key of `X-Heartland-Signature`; never the app key |
/// | `HEARTLAND_RETAIL_PAGE_SIZE` | `2000` | tickets per Retail page (1…5000) |
/// | `HEARTLAND_RETAIL_PAGE_CONCURRENCY` | `4` | Retail pages read side by side (1…16) |
/// | `HEARTLAND_READ_RETRIES` | `2` | times a read answered 5xx or cut off is asked again at once (0…10; `HeartlandConfiguration.readRetries`) |
public struct HeartlandSettings: Sendable {
    /// A setting missing or wrong (`EnvironmentReader`'s error: the text names the variable).
    public typealias Invalid = SettingsError

    /// Tickets per Retail page when `HEARTLAND_RETAIL_PAGE_SIZE` is not set: a store day is thousands of tickets, so
    /// fewer, larger pages (Heartland's own importer uses up to 5000).
    public static let defaultRetailPageSize = 2000

    public var configuration: HeartlandConfiguration
    /// Nil when not set: only the webhook receiver needs it (`requireWebhookSecret`).
    public var webhookSecret: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        let reader = EnvironmentReader(environment)
        let root = try reader.httpURL("HEARTLAND_URL")
        func url(_ name: String, _ path: String) throws(Invalid) -> URL {
            if let url = try reader.httpURL(name) { return url }
            guard let root else { throw Invalid("HEARTLAND_URL or \(name) is required") }
            return root.appendingPathComponent(path)
        }
        let appKey = try reader.requiredSecret("HEARTLAND_APP_KEY")
        configuration = HeartlandConfiguration(
            gpAPIBaseURL: try url("HEARTLAND_GP_API_URL", "ucp"),
            retailBaseURL: try url("HEARTLAND_RETAIL_URL", "api"),
            payrollBaseURL: try url("HEARTLAND_PAYROLL_URL", "payroll"),
            credentials: .init(appId: try reader.required("HEARTLAND_APP_ID"), appKey: appKey),
            retailToken: try reader.requiredSecret("HEARTLAND_RETAIL_TOKEN"))
        webhookSecret = try reader.secret("HEARTLAND_WEBHOOK_SECRET")
        if let webhookSecret, webhookSecret == appKey {
            throw Invalid("HEARTLAND_WEBHOOK_SECRET is the app key: give webhooks their own secret (the one set for this endpoint "
                          + "in Heartland's webhook settings), so that a leaked webhook secret cannot call the API")
        }
        configuration.retailPageSize = try reader.integer("HEARTLAND_RETAIL_PAGE_SIZE", in: 1...5000, default: Self.defaultRetailPageSize)
        configuration.retailPageConcurrency = try reader.integer("HEARTLAND_RETAIL_PAGE_CONCURRENCY", in: 1...16,
                                                                 default: configuration.retailPageConcurrency)
        configuration.readRetries = try reader.integer("HEARTLAND_READ_RETRIES", in: 0...10, default: configuration.readRetries)
    }

    /// The webhook secret, or an error that says where to set it.
    public func requireWebhookSecret() throws(Invalid) -> String {
        guard let webhookSecret else {
            throw Invalid("HEARTLAND_WEBHOOK_SECRET (or HEARTLAND_WEBHOOK_SECRET_FILE) is required: the secret Heartland signs "
                          + "webhooks with (X-Heartland-Signature). It is its own secret and never defaults to the app key; see docs/SECURITY.md")
        }
        return webhookSecret
    }
}
