import Foundation
import Logging
import SimulatorKit
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A response as tests see it.
struct HTTPResult: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data

    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
    func header(_ name: String) -> String? {
        headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

enum TestHTTP {
    static let session = URLSession(configuration: .ephemeral)

    static func send(
        _ method: String, _ url: URL, headers: [String: String] = [:], json: JSONValue? = nil, body: Data? = nil,
        timeout: TimeInterval = 10
    ) async throws -> HTTPResult {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.httpBody = json.serialized()
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields["\(key)"] = "\(value)" }
        return HTTPResult(status: http.statusCode, headers: fields, body: data)
    }

    /// `base` + a path that may carry a query string (kept verbatim, so `$filter` etc. survive).
    static func url(_ base: URL, _ pathAndQuery: String) -> URL {
        URL(string: base.absoluteString + pathAndQuery)!
    }
}


var quietLogger: Logger {
    var logger = Logger(label: "simulator-tests")
    logger.logLevel = .critical
    return logger
}

/// An HTTP endpoint that records what it receives and answers with a scripted status.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        let headers: [String: String]
        let body: Data
    }

    let state: ReceiverState
    let running: RunningSimulator

    var url: String { running.baseURL.absoluteString + "/hook" }
    var deliveries: [Received] { state.received.withLock { $0 } }

    private init(state: ReceiverState, running: RunningSimulator) {
        self.state = state
        self.running = running
    }

    /// Starts a receiver that answers 500 to its first `failFirst` requests.
    static func start(failFirst: Int = 0) async throws -> WebhookReceiver {
        let state = ReceiverState(failFirst: failFirst)
        var routes = RouteTable()
        routes.add("POST", "/hook") { request in state.record(request) }
        let clock = SimClock()
        let pipeline = SimulatorPipeline(
            routes: routes, adminRoutes: RouteTable(), faults: FaultInjector(clock: clock),
            rateLimiter: RateLimiter(limit: .init(enabled: false)), clock: clock, errors: PlainErrors(),
            logger: quietLogger)
        let running = try await RunningSimulator.start(
            server: SimulatorServer(host: "127.0.0.1", port: 0, pipeline: pipeline), logger: quietLogger)
        return WebhookReceiver(state: state, running: running)
    }

    func stop() async { await running.stop() }
}

final class ReceiverState: Sendable {
    let received = Mutex<[WebhookReceiver.Received]>([])
    let failuresLeft: Mutex<Int>

    init(failFirst: Int) { failuresLeft = Mutex(failFirst) }

    func record(_ request: SimRequest) -> SimResponse {
        received.withLock { $0.append(.init(headers: request.headers, body: request.body)) }
        let fail = failuresLeft.withLock { left -> Bool in
            if left > 0 { left -= 1; return true }
            return false
        }
        return fail ? .plain(status: 500, "scripted failure") : .json(["ok": true])
    }
}

struct PlainErrors: ErrorRenderer {
    func render(status: Int, code: String, message: String, request: SimRequest) -> SimResponse {
        .plain(status: status, "\(code): \(message)")
    }
}

/// An exact decimal JSON number from text, for money in request bodies.
func money(_ text: String) -> JSONValue { .number(Decimal(string: text)!) }
