import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// How a process's connectors reach their servers: one `HTTPClient` (one connection pool per server) for each
/// distinct setting, shared by every connector client built with it.
public struct HTTPPoolSettings: Hashable, Sendable {
    /// Connections kept open to one server (scheme, host, port) at most; more requests at once wait for a free one
    /// (within their timeout). A worker sets it to the number of handlers it runs at once (docs/HTTP.md).
    public var connectionsPerHost: Int
    /// Per request: see `ConnectorTransport.timeout`.
    public var timeout: Duration
    /// An idle kept-alive connection is closed after this.
    public var idleTimeout: Duration

    public static let defaultConnectionsPerHost = 8

    public init(connectionsPerHost: Int = Self.defaultConnectionsPerHost, timeout: Duration, idleTimeout: Duration = .seconds(60)) {
        self.connectionsPerHost = max(1, connectionsPerHost)
        self.timeout = timeout
        self.idleTimeout = idleTimeout
    }
}

/// The process's HTTP clients, one per `HTTPPoolSettings`, on NIO's process-wide event loop group
/// (`HTTPClient.defaultEventLoopGroup`, which is never shut down, so there is no group to leak). A client lives until
/// `shutdown()`, which a worker calls when its service group has finished (`Worker.run`), after the last handler
/// returned; a command-line tool may leave it to the process's exit.
public enum HTTPPools {
    private static let clients = Mutex<[HTTPPoolSettings: HTTPClient]>([:])

    /// The client for these settings, created on first use.
    public static func client(for settings: HTTPPoolSettings) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[settings] { return client }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration(for: settings))
            clients[settings] = client
            return client
        }
    }

    /// How many clients exist now (tests).
    public static var count: Int { clients.withLock { $0.count } }

    /// Closes every pool's connections; requests still running fail (`Failure.Kind.cancelled`). A later
    /// `client(for:)` creates a new client.
    public static func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }

    /// The configuration every connector's client has; only the settings vary.
    public static func configuration(for settings: HTTPPoolSettings) -> HTTPClient.Configuration {
        // Certificates and host names always verified against the system's trust roots (TransportSecurity's
        // guarantee; nothing turns it off), TLS 1.2 at least.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            // A 3xx is an answer to classify, not a place to carry the credentials to.
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(min(settings.timeout, .seconds(10))), read: TimeAmount(settings.timeout)),
            connectionPool: .init(idleTimeout: TimeAmount(settings.idleTimeout),
                                  concurrentHTTP1ConnectionsPerHostSoftLimit: settings.connectionsPerHost),
            decompression: .disabled)
        // A refused connection fails the request at once (as URLSession did): the stage runner's retries and
        // circuit breaker decide what comes next, not a backoff hidden in the pool until the request times out.
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }
}

extension HTTPPools {
    /// Runs a process's services, then shuts the pools down, whether they returned or threw: a worker's
    /// `group.run()` returns once every in-flight handler has finished (graceful shutdown), so no request is cut.
    public static func closing<T>(_ body: () async throws -> T) async throws -> T {
        let result: T
        do {
            result = try await body()
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
        return result
    }
}
