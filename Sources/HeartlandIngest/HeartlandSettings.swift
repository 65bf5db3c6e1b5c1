import Foundation
import TransportSecurity
import HeartlandConnector

/// Where heartland-ingest finds Heartland and with which secrets, read once in `main` from the
/// environment (secrets from the variable or from the file named by `<NAME>_FILE`, never flags).
///
/// | Variable | Default | |
/// |---|---|---|
/// | `HEARTLAND_URL` | | one root for `/ucp`, `/api`, `/payroll` (heartland-sim); or the three below |
/// | `HEARTLAND_GP_API_URL`, `HEARTLAND_RETAIL_URL`, `HEARTLAND_PAYROLL_URL` | from `HEARTLAND_URL` | e.g. `https://apis.globalpay.com/ucp` |
/// | `HEARTLAND_APP_ID`, `HEARTLAND_APP_KEY` / `_FILE` | | GP-API credentials |
/// | `HEARTLAND_RETAIL_TOKEN` / `_FILE` | | Heartland Retail API token |
/// | `HEARTLAND_WEBHOOK_SECRET` / `_FILE` | none: heartland-ingest refuses to start | HMAC key of `X-Heartland-Signature`; never the app key |
/// | `HEARTLAND_RETAIL_PAGE_SIZE` | `2000` | tickets per Retail page (1…5000) |
public struct HeartlandSettings: Sendable {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public var configuration: HeartlandConfiguration
    /// Nil when not set: only the webhook receiver needs it (`requireWebhookSecret`).
    public var webhookSecret: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func secret(_ name: String) throws(Invalid) -> String? {
            if let file = value("\(name)_FILE") {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw Invalid(description: "\(name)_FILE \(file) cannot be read")
                }
                return text.trimmingCharacters(in: .newlines)
            }
            return value(name)
        }
        func required(_ name: String, _ found: String?) throws(Invalid) -> String {
            guard let found else { throw Invalid(description: "\(name) (or \(name)_FILE) is required") }
            return found
        }
        func url(_ name: String, _ fallback: URL?) throws(Invalid) -> URL {
            guard let text = value(name) else {
                guard let fallback else { throw Invalid(description: "HEARTLAND_URL or \(name) is required") }
                return fallback
            }
            guard let parsed = URL(string: text), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
                throw Invalid(description: "\(name) '\(text)' is not an http(s) URL")
            }
            do { try TransportPolicy.fromEnvironment(environment).check(http: parsed, name: name) } catch {
                throw Invalid(description: error.description)
            }
            return parsed
        }
        let root = try value("HEARTLAND_URL").map { text throws(Invalid) in try url("HEARTLAND_URL", nil) }
        let appKey = try required("HEARTLAND_APP_KEY", try secret("HEARTLAND_APP_KEY"))
        configuration = HeartlandConfiguration(
            gpAPIBaseURL: try url("HEARTLAND_GP_API_URL", root?.appendingPathComponent("ucp")),
            retailBaseURL: try url("HEARTLAND_RETAIL_URL", root?.appendingPathComponent("api")),
            payrollBaseURL: try url("HEARTLAND_PAYROLL_URL", root?.appendingPathComponent("payroll")),
            credentials: .init(appId: try required("HEARTLAND_APP_ID", value("HEARTLAND_APP_ID")), appKey: appKey),
            retailToken: try required("HEARTLAND_RETAIL_TOKEN", try secret("HEARTLAND_RETAIL_TOKEN")))
        webhookSecret = try secret("HEARTLAND_WEBHOOK_SECRET")
        if let webhookSecret, webhookSecret == appKey {
            throw Invalid(description: "HEARTLAND_WEBHOOK_SECRET is the app key: give webhooks their own secret (the one set for this endpoint "
                          + "in Heartland's webhook settings), so that a leaked webhook secret cannot call the API")
        }
        // A store day is thousands of tickets: fewer, larger pages (Heartland's own importer uses up to 5000).
        configuration.retailPageSize = 2000
        if let text = value("HEARTLAND_RETAIL_PAGE_SIZE") {
            guard let size = Int(text), (1...5000).contains(size) else {
                throw Invalid(description: "HEARTLAND_RETAIL_PAGE_SIZE must be 1…5000, not '\(text)'")
            }
            configuration.retailPageSize = size
        }
        if let text = value("HEARTLAND_RETAIL_PAGE_CONCURRENCY") {
            guard let pages = Int(text), (1...16).contains(pages) else {
                throw Invalid(description: "HEARTLAND_RETAIL_PAGE_CONCURRENCY must be 1…16, not '\(text)'")
            }
            configuration.retailPageConcurrency = pages
        }
    }

    /// The webhook secret, or an error that says where to set it.
    public func requireWebhookSecret() throws(Invalid) -> String {
        guard let webhookSecret else {
            throw Invalid(description: "HEARTLAND_WEBHOOK_SECRET (or HEARTLAND_WEBHOOK_SECRET_FILE) is required: the secret Heartland signs "
                          + "webhooks with (X-Heartland-Signature). It is its own secret and never defaults to the app key; see docs/SECURITY.md")
        }
        return webhookSecret
    }
}
