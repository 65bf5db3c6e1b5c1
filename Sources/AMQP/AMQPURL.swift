import Foundation

/// Where and how to reach a broker: `amqp://user:pass@host:5672/vhost` or `amqps://…` (TLS).
///
/// Query options: `heartbeat` (seconds, default 30), `connection_timeout` (seconds, default 10),
/// `cacertfile` (PEM file to verify the broker with), `verify` (`false` to skip peer verification).
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var useTLS: Bool
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    public var heartbeatSeconds: Int
    public var connectTimeoutSeconds: Int
    public var caCertificateFile: String?
    public var verifyPeer: Bool

    public init(_ string: String) throws {
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased() else {
            throw AMQPError.invalidURL(string, reason: "not a URL")
        }
        switch scheme {
        case "amqp": useTLS = false
        case "amqps": useTLS = true
        default: throw AMQPError.invalidURL(Self.redacted(string), reason: "scheme must be amqp or amqps, not \(scheme)")
        }
        // The host as DNS takes it (a Unicode name in its IDNA form, as `encodedHost` gives it), percent-decoded, an IPv6
        // address without its brackets. Not `host`: it runs every name through ICU's IDNA tables, which took 2 MB of a
        // worker's idle memory to read one ASCII name.
        let encodedHost = components.encodedHost.map { $0.removingPercentEncoding ?? $0 }
            .map { $0.hasPrefix("[") && $0.hasSuffix("]") ? String($0.dropFirst().dropLast()) : $0 }
        host = encodedHost.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? (useTLS ? 5671 : 5672)
        user = components.user.map { $0.removingPercentEncoding ?? $0 } ?? "guest"
        password = components.password.map { $0.removingPercentEncoding ?? $0 } ?? "guest"
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            vhost = "/"
        } else {
            vhost = String(path.dropFirst()).removingPercentEncoding ?? String(path.dropFirst())
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        heartbeatSeconds = try Self.intOption(query, "heartbeat", default: 30, url: string)
        connectTimeoutSeconds = try Self.intOption(query, "connection_timeout", default: 10, url: string)
        caCertificateFile = query["cacertfile"]
        verifyPeer = query["verify"].map { $0.lowercased() != "false" && $0 != "0" } ?? true
    }

    private static func intOption(_ query: [String: String], _ name: String, default value: Int, url: String) throws -> Int {
        guard let raw = query[name] else { return value }
        guard let parsed = Int(raw), parsed >= 0 else {
            throw AMQPError.invalidURL(redacted(url), reason: "\(name) must be a non-negative integer, not \(raw)")
        }
        return parsed
    }

    /// The URL with its password replaced, for logs and error messages.
    public var description: String {
        "\(useTLS ? "amqps" : "amqp")://\(user):***@\(host):\(port)/\(vhost == "/" ? "" : vhost)"
    }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
