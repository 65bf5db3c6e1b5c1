import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP exchange of a connector (Heartland, Sage) over AsyncHTTPClient, on the process's shared connection pool
/// (`HTTPPools`): connections are kept alive and reused, at most `HTTPPoolSettings.connectionsPerHost` to one server.
/// The only errors it throws are `ConnectorTransport.Failure` (no answer: timed out, refused, dropped, TLS, …) and
/// `CancellationError` (the calling task was cancelled); an answer of any status is returned, and each connector
/// classifies it (HeartlandError, SageError). docs/HTTP.md.
public struct ConnectorTransport: Sendable {
    public struct Answer: Sendable {
        public let status: Int
        public let body: Data
        public let headers: HTTPHeaders

        public init(status: Int, body: Data, headers: HTTPHeaders) {
            self.status = status
            self.body = body
            self.headers = headers
        }

        /// The first value of a header (names are case-insensitive).
        public func header(_ name: String) -> String? { headers.first(name: name) }
    }

    /// Why no answer came.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case timedOut = "timed out"
            case connectionRefused = "connection refused"
            case connectionLost = "connection lost"
            case hostNotFound = "host not found"
            case tls = "TLS failure"
            /// The request was cancelled without its task being cancelled (the pool was shut down).
            case cancelled = "request cancelled"
            case other = "network error"
        }

        public let kind: Kind
        /// `host:port` of the server.
        public let endpoint: String
        /// The underlying error, for logs.
        public let detail: String

        public init(kind: Kind, endpoint: String, detail: String) {
            self.kind = kind
            self.endpoint = endpoint
            self.detail = detail
        }

        public var description: String {
            kind == .other || kind == .tls ? "\(kind.rawValue) (\(endpoint)): \(detail)" : "\(kind.rawValue) (\(endpoint))"
        }
    }

    /// The largest body read (a larger one is a `.other` failure, not an unbounded allocation).
    public static let maxBodyBytes = 256 * 1024 * 1024

    public let client: HTTPClient
    /// The answer's head must arrive within it (waiting for a free connection included); then no more than this
    /// may pass between two reads of the body (the pool's read timeout).
    public let timeout: Duration

    /// On the process's pool for these settings.
    public init(settings: HTTPPoolSettings) {
        self.init(client: HTTPPools.client(for: settings), timeout: settings.timeout)
    }

    /// On a client of the caller's (who shuts it down).
    public init(client: HTTPClient, timeout: Duration) {
        self.client = client
        self.timeout = timeout
    }

    public func send(_ method: String, _ url: URL, headers: [(String, String)] = [], body: Data? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let endpoint = "\(url.host ?? "?"):\(url.port.map(String.init) ?? (url.scheme == "https" ? "443" : "80"))"
        do {
            let response = try await client.execute(request, timeout: TimeAmount(timeout))
            let buffer = try await response.body.collect(upTo: Self.maxBodyBytes)
            return Answer(status: Int(response.status.code), body: Data(buffer.readableBytesView), headers: response.headers)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Self.classify(error, endpoint: endpoint)
        }
    }

    /// What a transport error means for a caller deciding whether to retry.
    public static func classify(_ error: any Error, endpoint: String) -> Failure {
        func failure(_ kind: Failure.Kind) -> Failure { Failure(kind: kind, endpoint: endpoint, detail: "\(error)") }
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return failure(.timedOut)
            case .remoteConnectionClosed, .uncleanShutdown:
                return failure(.connectionLost)
            case .cancelled, .alreadyShutdown:
                return failure(.cancelled)
            default:
                return failure(.other)
            }
        case let error as NIOConnectionError:
            if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil { return failure(.hostNotFound) }
            let causes = error.connectionErrors.map(\.error)
            if causes.contains(where: { ($0 as? IOError)?.errnoCode == ECONNREFUSED }) { return failure(.connectionRefused) }
            if causes.contains(where: { if case .connectTimeout? = $0 as? ChannelError { true } else { false } }) { return failure(.timedOut) }
            return failure(.other)
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return failure(.connectionRefused)
            case ECONNRESET, EPIPE: return failure(.connectionLost)
            case ETIMEDOUT: return failure(.timedOut)
            default: return failure(.other)
            }
        case let error as ChannelError:
            if case .connectTimeout = error { return failure(.timedOut) }
            if error == .ioOnClosedChannel || error == .eof || error == .outputClosed { return failure(.connectionLost) }
            return failure(.other)
        case is NIOSSLError, is BoringSSLError:
            return failure(.tls)
        case is CancellationError:
            return failure(.cancelled)
        default:
            return failure(.other)
        }
    }
}
