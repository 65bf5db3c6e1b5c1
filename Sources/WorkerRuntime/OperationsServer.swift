import Foundation
import Hummingbird
import Logging
import Prometheus

/// `/health/live`, `/health/ready` and `/metrics` for a worker: one implementation for all of them.
public enum OperationsServer {
    public struct Readiness: Sendable {
        public var ready: Bool
        public var detail: String
        public init(ready: Bool, detail: String) {
            self.ready = ready
            self.detail = detail
        }
    }

    public static func make(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger,
                            readiness: @escaping @Sendable () -> Readiness) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health/live") { _, _ in
            json(.ok, ["status": "live"])
        }
        router.get("/health/ready") { _, _ in
            let state = readiness()
            return json(state.ready ? .ok : .serviceUnavailable, ["status": state.ready ? "ready" : "not_ready", "detail": state.detail])
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "bridge-worker"),
            onServerRunning: { channel in
                logger.info("operations endpoint listening", metadata: ["url": "http://\(host):\(channel.localAddress?.port ?? port)"])
            },
            logger: logger)
    }

    static func json(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
