import Foundation
import Logging
import SimulatorKit
import Synchronization

/// An HTTP endpoint that records the raw webhook deliveries it receives.
final class WebhookCatcher: Sendable {
    struct Delivery: Sendable {
        let headers: [String: String]
        let body: Data
    }

    private let received: Mutex<[Delivery]>
    private let running: RunningSimulator

    var url: String { running.baseURL.absoluteString + "/hook" }
    var deliveries: [Delivery] { received.withLock { $0 } }

    private init(running: RunningSimulator) {
        self.received = Mutex([])
        self.running = running
    }

    static func start() async throws -> WebhookCatcher {
        let box = DeliveryBox()
        var routes = RouteTable()
        routes.add("POST", "/hook") { request in
            box.append(Delivery(headers: request.headers, body: request.body))
            return .json(["ok": true])
        }
        let clock = SimClock()
        let pipeline = SimulatorPipeline(
            routes: routes, adminRoutes: RouteTable(), faults: FaultInjector(clock: clock),
            rateLimiter: RateLimiter(limit: .init(enabled: false)), clock: clock, errors: PlainErrors(), logger: quietLogger)
        let running = try await RunningSimulator.start(
            server: SimulatorServer(host: "127.0.0.1", port: 0, pipeline: pipeline), logger: quietLogger)
        let receiver = WebhookCatcher(running: running)
        box.target.withLock { $0 = receiver }
        return receiver
    }

    fileprivate func append(_ delivery: Delivery) { received.withLock { $0.append(delivery) } }

    func stop() async { await running.stop() }
}

private final class DeliveryBox: Sendable {
    let target = Mutex<WebhookCatcher?>(nil)
    func append(_ delivery: WebhookCatcher.Delivery) { target.withLock { $0?.append(delivery) } }
}

private struct PlainErrors: ErrorRenderer {
    func render(status: Int, code: String, message: String, request: SimRequest) -> SimResponse {
        .plain(status: status, "\(code): \(message)")
    }
}
