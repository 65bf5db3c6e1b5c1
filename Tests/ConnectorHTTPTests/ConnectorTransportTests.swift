import AsyncHTTPClient
import ConnectorHTTP
import Foundation
import HeartlandConnector
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SageConnector
import Synchronization
import TestPrograms
import Testing

/// The connectors' one HTTP transport (AsyncHTTPClient) against a real HTTP server on loopback (Hummingbird on port 0)
/// that counts the TCP connections it accepted (by the client's port) and the requests it holds at once: keep-alive,
/// the per-host connection limit (and no cap of 6), and how each connector classifies timeouts, refused connections,
/// 429 with Retry-After, 5xx and cancellation.
@Suite(.serialized) struct ConnectorTransportTests {
    static let quiet: Logger = { var logger = Logger(label: "test"); logger.logLevel = .critical; return logger }()

    // MARK: the server

    enum Mode: Sendable {
        case ok
        /// Holds the request until the test ends (or 60 s).
        case hang
        case status(Int, retryAfter: String?)
        /// Holds every request until `n` are held at once (200), or answers 500 after 30 s.
        case gate(Int)
        /// An empty OData page whose next page is at `link`.
        case page(nextLink: String)
    }

    final class Server: Sendable {
        struct State {
            var mode = Mode.ok
            var clientPorts: [Int] = []
            var requests = 0
            var inFlight = 0
            var peakInFlight = 0
            var released = false
        }

        let state = Mutex(State())
        let url: URL

        init(url: URL) { self.url = url }

        var connections: Int { state.withLock { Set($0.clientPorts).count } }
        var requests: Int { state.withLock { $0.requests } }
        var peakInFlight: Int { state.withLock { $0.peakInFlight } }
        func set(_ mode: Mode) { state.withLock { $0.mode = mode } }

        func answer(clientPort: Int?) async throws -> Response {
            let mode = state.withLock { state in
                state.requests += 1
                if let clientPort { state.clientPorts.append(clientPort) }
                state.inFlight += 1
                state.peakInFlight = max(state.peakInFlight, state.inFlight)
                return state.mode
            }
            defer { state.withLock { $0.inFlight -= 1 } }
            switch mode {
            case .ok:
                return Self.json(.ok, #"{"value":[]}"#)
            case .hang:
                let until = ContinuousClock.now + .seconds(60)
                while !state.withLock({ $0.released }), ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(20)) }
                return Self.json(.ok, #"{"value":[]}"#)
            case .status(let code, let retryAfter):
                var response = Self.json(.init(code: code), #"{"error":{"code":"Busy","message":{"lang":"en-US","value":"busy"}}}"#)
                if let retryAfter { response.headers[.retryAfter] = retryAfter }
                return response
            case .gate(let n):
                let until = ContinuousClock.now + .seconds(30)
                while state.withLock({ $0.peakInFlight }) < n, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(5)) }
                return state.withLock { $0.peakInFlight } >= n ? Self.json(.ok, #"{"value":[]}"#) : Self.json(.internalServerError, "{}")
            case .page(let link):
                return Self.json(.ok, #"{"value":[],"@odata.nextLink":"\#(link)"}"#)
            }
        }

        static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// The request context that knows the client's port: one port, one TCP connection.
    struct ConnectionContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let clientPort: Int?

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            clientPort = source.channel.remoteAddress?.port
        }
    }

    static func withServer(_ body: (Server) async throws -> Void) async throws {
        let port = Mutex<Int?>(nil)
        let router = Router(context: ConnectionContext.self)
        let server = Mutex<Server?>(nil)
        @Sendable func handle(_ request: Request, _ context: ConnectionContext) async throws -> Response {
            _ = try await request.body.collect(upTo: 1 << 20)
            return try await server.withLock { $0! }.answer(clientPort: context.clientPort)
        }
        for method in [HTTPRequest.Method.get, .post, .patch, .delete] { router.on("**", method: method, use: handle) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } }, logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            try await eventually(every: .milliseconds(10), "the server listening") { port.withLock { $0 } != nil }
            let running = Server(url: URL(string: "http://127.0.0.1:\(try #require(port.withLock { $0 }))")!)
            server.withLock { $0 = running }
            defer {
                running.state.withLock { $0.released = true }
                group.cancelAll()
            }
            try await body(running)
        }
    }

    /// A port nobody listens on: bound, then closed.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close().get()
        return port
    }

    /// A client of the test's own (shut down at the end), so the process's shared pools stay as they are.
    static func withClient(connectionsPerHost: Int = 8, timeout: Duration = .seconds(10),
                           _ body: (ConnectorTransport) async throws -> Void) async throws {
        let settings = HTTPPoolSettings(connectionsPerHost: connectionsPerHost, timeout: timeout)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPPools.configuration(for: settings))
        do {
            try await body(ConnectorTransport(client: client, timeout: timeout))
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    static func sage(_ server: Server, timeout: Duration = .seconds(10)) -> SageWebAPIClient {
        SageWebAPIClient(connection: SageConnection(server: server.url, company: "SAMINC", credentials: SageCredentials(user: "ADMIN", password: "ADMIN"),
                                                    timeout: timeout), logger: quiet)
    }

    static func retail(_ url: URL, timeout: Duration = .seconds(10)) -> RetailMasterDataClient {
        RetailMasterDataClient(retailBaseURL: url.appendingPathComponent("api"), token: "token", timeout: timeout, logger: quiet)
    }

    static func sageError(_ body: () async throws -> Void) async -> SageError? {
        do { try await body(); return nil } catch { return error as? SageError }
    }

    static func heartlandError(_ body: () async throws -> Void) async -> HeartlandError? {
        do { try await body(); return nil } catch { return error as? HeartlandError }
    }

    // MARK: keep-alive and connection limits

    @Test func manyRequestsOneAfterAnotherReuseOneConnection() async throws {
        try await Self.withServer { server in
            try await Self.withClient { transport in
                for _ in 0..<200 {
                    let answer = try await transport.send("GET", server.url.appendingPathComponent("ok"))
                    #expect(answer.status == 200)
                }
            }
            #expect(server.requests == 200)
            #expect(server.connections == 1, "200 requests in a row over \(server.connections) connections")
        }
    }

    @Test func concurrentRequestsUseAtMostTheConnectionLimit() async throws {
        try await Self.withServer { server in
            try await Self.withClient(connectionsPerHost: 4) { transport in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<100 { group.addTask { try await transport.send("GET", server.url.appendingPathComponent("ok")).status } }
                    for try await status in group { #expect(status == 200) }
                }
            }
            #expect(server.requests == 100)
            #expect(server.connections <= 4, "100 concurrent requests over \(server.connections) connections with a limit of 4")
            #expect(server.peakInFlight <= 4)
        }
    }

    /// 16 requests held by the server at once: with URLSession's cap of 6 connections per host they never would be
    /// (the server would answer 500 after 30 s).
    @Test func sixteenConnectionsToOneHostAreOpenAtOnce() async throws {
        try await Self.withServer { server in
            server.set(.gate(16))
            try await Self.withClient(connectionsPerHost: 16, timeout: .seconds(60)) { transport in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<16 { group.addTask { try await transport.send("GET", server.url.appendingPathComponent("gate")).status } }
                    for try await status in group { #expect(status == 200) }
                }
            }
            #expect(server.peakInFlight == 16)
            #expect(server.connections == 16)
        }
    }

    /// The process's pools: one client for equal settings, shared by every connector client built with them.
    @Test func connectorClientsWithTheSameSettingsShareOnePool() async throws {
        let settings = HTTPPoolSettings(connectionsPerHost: 3, timeout: .seconds(7))
        let first = HTTPPools.client(for: settings)
        let second = ConnectorTransport(settings: settings).client
        #expect(first === second)
        #expect(HTTPPools.client(for: HTTPPoolSettings(connectionsPerHost: 4, timeout: .seconds(7))) !== first)
        let configuration = HTTPPools.configuration(for: settings)
        #expect(configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit == 3)
        #expect(configuration.tlsConfiguration?.certificateVerification == .fullVerification)
    }

    // MARK: classification, shared and per connector

    @Test func aServerThatDoesNotAnswerTimesOut() async throws {
        try await Self.withServer { server in
            server.set(.hang)
            try await Self.withClient(timeout: .milliseconds(300)) { transport in
                let started = ContinuousClock.now
                do {
                    _ = try await transport.send("GET", server.url.appendingPathComponent("hang"))
                    Issue.record("expected a timeout")
                } catch let failure as ConnectorTransport.Failure {
                    #expect(failure.kind == .timedOut)
                }
                // The server holds it for 60 s; a wide margin for a busy machine.
                #expect(ContinuousClock.now - started < .seconds(30))
            }
            #expect(await Self.sageError { _ = try await Self.sage(server, timeout: .milliseconds(300)).accounts() } == .unavailable(.timeout))
            let heartland = await Self.heartlandError { _ = try await Self.retail(server.url, timeout: .milliseconds(300)).item(id: 1) }
            guard case .unavailable(let detail) = heartland else { Issue.record("expected .unavailable, got \(String(describing: heartland))"); return }
            #expect(detail.contains("timed out"))
        }
    }

    @Test func nobodyListeningIsConnectionRefusedAtOnce() async throws {
        let port = try await Self.closedPort()
        let url = URL(string: "http://127.0.0.1:\(port)")!
        try await Self.withClient(timeout: .seconds(60)) { transport in
            let started = ContinuousClock.now
            do {
                _ = try await transport.send("GET", url.appendingPathComponent("ok"))
                Issue.record("expected a refused connection")
            } catch let failure as ConnectorTransport.Failure {
                #expect(failure.kind == .connectionRefused, "\(failure.detail)")
            }
            // Not after the 60 s timeout (nor the pool's 10 s connect timeout): refused is final at once.
            #expect(ContinuousClock.now - started < .seconds(9))
        }
        let sage = SageWebAPIClient(connection: SageConnection(server: url, company: "SAMINC", credentials: SageCredentials(user: "A", password: "B"),
                                                               timeout: .seconds(5)), logger: Self.quiet)
        let error = await Self.sageError { _ = try await sage.accounts() }
        guard case .unavailable(.connection(let why)) = error else { Issue.record("expected .connection, got \(String(describing: error))"); return }
        #expect(why.contains("connection refused"))
        let heartland = await Self.heartlandError { _ = try await Self.retail(url, timeout: .seconds(5)).item(id: 1) }
        guard case .unavailable(let detail) = heartland else { Issue.record("expected .unavailable, got \(String(describing: heartland))"); return }
        #expect(detail.contains("connection refused"))
    }

    @Test func tooManyRequestsCarriesRetryAfter() async throws {
        try await Self.withServer { server in
            server.set(.status(429, retryAfter: "7"))
            #expect(await Self.sageError { _ = try await Self.sage(server).accounts() } == .rateLimited(retryAfter: .seconds(7)))
            #expect(await Self.heartlandError { _ = try await Self.retail(server.url).item(id: 1) } == .rateLimited(retryAfter: .seconds(7)))
            server.set(.status(429, retryAfter: nil))
            #expect(await Self.sageError { _ = try await Self.sage(server).accounts() } == .rateLimited(retryAfter: nil))
        }
    }

    @Test func serverErrorsAreUnavailable() async throws {
        try await Self.withServer { server in
            for code in [500, 502, 503] {
                server.set(.status(code, retryAfter: nil))
                let sage = await Self.sageError { _ = try await Self.sage(server).accounts() }
                guard case .unavailable(.status(code, _)) = sage else { Issue.record("\(code): got \(String(describing: sage))"); continue }
                let heartland = await Self.heartlandError { _ = try await Self.retail(server.url).item(id: 1) }
                guard case .unavailable(let detail) = heartland else { Issue.record("\(code): got \(String(describing: heartland))"); continue }
                #expect(detail.contains("HTTP \(code)"))
                #expect(heartland?.isTransient == true && sage?.isTransient == true)
            }
        }
    }

    /// A cancelled task's request ends at once as a `CancellationError` (Heartland: not an `.unavailable`), not after
    /// the timeout; the pool is still usable afterwards.
    @Test func aCancelledRequestEndsAtOnce() async throws {
        try await Self.withServer { server in
            server.set(.hang)
            try await Self.withClient(timeout: .seconds(60)) { transport in
                let started = ContinuousClock.now
                let request = Task { try await transport.send("GET", server.url.appendingPathComponent("hang")) }
                try await eventually(every: .milliseconds(10), "the request at the server") { server.requests >= 1 }
                request.cancel()
                let result = await request.result
                guard case .failure(let error) = result else { Issue.record("expected a failure"); return }
                #expect(error is CancellationError, "\(error)")
                #expect(ContinuousClock.now - started < .seconds(30))
                server.set(.ok)
                #expect(try await transport.send("GET", server.url.appendingPathComponent("ok")).status == 200)
            }
            let retail = Self.retail(server.url, timeout: .seconds(60))
            server.set(.hang)
            let before = server.requests
            let heartland = Task { try await retail.item(id: 1) }
            try await eventually(every: .milliseconds(10), "Heartland's request at the server") { server.requests != before }
            heartland.cancel()
            guard case .failure(let error) = await heartland.result else { Issue.record("expected a failure"); return }
            #expect(error is CancellationError, "\(error)")
        }
    }

    /// Sage's credentials go to the configured server only: a next-page link to another host, port or scheme is refused
    /// and not requested (the server sees the first page's request only).
    @Test func sageNeverSendsCredentialsToAnotherServer() async throws {
        try await Self.withServer { server in
            let other = try await Self.closedPort()
            let base = server.url.absoluteString
            for link in ["http://127.0.0.2:\(server.url.port!)/x", "http://127.0.0.1:\(other)/x", base.replacingOccurrences(of: "http:", with: "https:") + "/x"] {
                server.set(.page(nextLink: link))
                let before = server.requests
                let error = await Self.sageError { _ = try await Self.sage(server).accounts() }
                guard case .unavailable(.malformedResponse(let why)) = error else { Issue.record("\(link): got \(String(describing: error))"); continue }
                #expect(why.contains("another server"))
                #expect(server.requests == before + 1)
            }
        }
    }
}
