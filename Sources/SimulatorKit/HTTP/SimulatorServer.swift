import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Puts a `SimulatorPipeline` behind a Hummingbird HTTP/1 server.
public struct SimulatorServer: Sendable {
    public let host: String
    public let port: Int
    public let pipeline: SimulatorPipeline

    public init(host: String, port: Int, pipeline: SimulatorPipeline) {
        self.host = host
        self.port = port
        self.pipeline = pipeline
    }

    /// The Hummingbird application; `onListening` receives the bound port (useful with port 0).
    public func application(onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let pipeline = self.pipeline
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body = try await request.body.collect(upTo: 256 * 1024 * 1024)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let simRequest = SimRequest(
                method: request.method.rawValue, path: request.uri.path, rawQuery: request.uri.query,
                headers: headers, body: Data(buffer: body))
            let answer = await pipeline.handle(simRequest)
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
            }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: pipeline.logger)
    }
}

/// Runs a simulator and its background services in one `ServiceGroup`.
public enum SimulatorRunner {
    /// Until SIGTERM/SIGINT; prints `listening on http://HOST:PORT` as the first stdout line.
    public static func runUntilSignalled(
        server: SimulatorServer, services: [any Service], logger: Logger
    ) async throws {
        let host = server.host
        let app = server.application { port in
            FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
        }
        let group = ServiceGroup(
            services: [app] + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// A simulator started inside the current process (tests, benchmarks).
public final class RunningSimulator: Sendable {
    public let port: Int
    public let baseURL: URL
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.baseURL = URL(string: "http://127.0.0.1:\(port)")!
        self.group = group
        self.task = task
    }

    public static func start(server: SimulatorServer, services: [any Service] = [], logger: Logger) async throws
        -> RunningSimulator
    {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.application { port in continuation.yield(port) }
        let group = ServiceGroup(services: [app] + services, logger: logger)
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return RunningSimulator(port: port, group: group, task: task)
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
