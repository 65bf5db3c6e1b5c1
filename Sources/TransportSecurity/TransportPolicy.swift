import Foundation

/// Whether a process may talk to Sage, Heartland and the broker in the clear. With `BRIDGE_REQUIRE_TLS` on (the
/// Compose default), a plain `http://` Sage or Heartland URL and a plain `amqp://` broker URL are refused at start-up,
/// unless the host is loopback (a local TLS-terminating proxy) or listed in `BRIDGE_PLAINTEXT_HOSTS` (a comma-separated
/// allow-list for hosts on a private network, such as the simulators in Compose); and certificate checks cannot be
/// turned off (`amqps://…?verify=false` is refused). HTTPS certificates are always verified (the connectors' one HTTP
/// client, `ConnectorHTTP.HTTPPools`, sets full verification against the system's trust roots; nothing turns it off).
public struct TransportPolicy: Sendable, Equatable {
    public var requireTLS: Bool
    public var plaintextHosts: Set<String>

    public init(requireTLS: Bool, plaintextHosts: Set<String> = []) {
        self.requireTLS = requireTLS
        self.plaintextHosts = plaintextHosts
    }

    public struct Refused: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// `BRIDGE_REQUIRE_TLS` (`1`/`true`/`yes` or `0`/`false`/`no`; off when unset) and `BRIDGE_PLAINTEXT_HOSTS`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(Refused) -> TransportPolicy {
        let flag = environment["BRIDGE_REQUIRE_TLS"]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let require: Bool
        switch flag {
        case "", "0", "false", "no", "off": require = false
        case "1", "true", "yes", "on": require = true
        default: throw Refused(description: "BRIDGE_REQUIRE_TLS must be 1 or 0 (true/false, yes/no), not '\(flag)'")
        }
        let hosts = (environment["BRIDGE_PLAINTEXT_HOSTS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        return TransportPolicy(requireTLS: require, plaintextHosts: Set(hosts))
    }

    /// Checks a Sage or Heartland URL (`name` is the setting it came from, for the message).
    public func check(http url: URL, name: String) throws(Refused) {
        guard requireTLS, url.scheme?.lowercased() == "http", let host = url.host?.lowercased(), !allowsPlaintext(host) else { return }
        throw Refused(description: "\(name) \(url.absoluteString) is plain HTTP and BRIDGE_REQUIRE_TLS is on: use https://, or list \(host) "
            + "in BRIDGE_PLAINTEXT_HOSTS if it is reached over a private network only (docs/SECURITY.md)")
    }

    /// Checks a broker URL's scheme, host and certificate checking.
    public func check(amqpScheme scheme: String, host: String, verifyPeer: Bool, name: String) throws(Refused) {
        guard requireTLS else { return }
        if scheme.lowercased() == "amqps" {
            guard verifyPeer else {
                throw Refused(description: "\(name) turns certificate checks off (verify=false) and BRIDGE_REQUIRE_TLS is on: give the broker's CA "
                    + "(cacertfile=…) instead")
            }
            return
        }
        guard !allowsPlaintext(host.lowercased()) else { return }
        throw Refused(description: "\(name) is plain AMQP to \(host) and BRIDGE_REQUIRE_TLS is on: use amqps:// (docs/SECURITY.md), "
            + "or list \(host) in BRIDGE_PLAINTEXT_HOSTS if it is reached over a private network only")
    }

    func allowsPlaintext(_ host: String) -> Bool {
        plaintextHosts.contains(host) || Self.isLoopback(host)
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
