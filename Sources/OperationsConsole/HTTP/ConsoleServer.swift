import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// The console's HTTP server: a `Service` for the alerter's service group. Every request goes to
/// `OperationsConsole.respond(to:)`; this file only translates between Hummingbird and it.
public struct ConsoleServer: Service {
    public let console: OperationsConsole
    public let host: String
    public let port: Int
    let onListening: @Sendable (_ host: String, _ port: Int) -> Void

    /// `port` 0 picks a free port; `onListening` is told the real one.
    public init(console: OperationsConsole, host: String, port: Int, onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) {
        self.console = console
        self.host = host
        self.port = port
        self.onListening = onListening
    }

    public func run() async throws {
        let console = self.console, host = self.host, port = self.port, onListening = self.onListening
        let responder = CallbackResponder<ConsoleRequestContext> { request, context in
            var request = request
            let isForm = request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true
            let body = request.method == .post ? try await request.collectBody(upTo: 1 << 20) : ByteBuffer()
            var headers: [String: String] = [:]
            for name in [HTTPField.Name.cookie, .authorization, .accept, HTTPField.Name("X-Forwarded-For")!] {
                let values = request.headers[values: name]
                if !values.isEmpty { headers[name.canonicalName] = values.joined(separator: name == .cookie ? "; " : ", ") }
            }
            let answer = await console.respond(to: ConsoleRequest(
                method: request.method.rawValue, path: request.uri.path, query: ConsoleRequest.parseForm(request.uri.query ?? ""),
                headers: headers, form: isForm ? ConsoleRequest.parseForm(String(decoding: body.readableBytesView, as: UTF8.self)) : [:],
                clientAddress: context.clientAddress))
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        let application = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "bridge-console"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                console.logger.info("operations console listening", metadata: ["url": .string("http://\(host):\(bound)")])
                onListening(host, bound)
            },
            logger: console.logger)
        try await application.run()
    }

    /// Starts a console outside a service group (tests, tools); `stop()` shuts it down gracefully.
    public static func start(_ console: OperationsConsole, host: String = "127.0.0.1", port: Int = 0) async throws -> RunningConsole {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = ConsoleServer(console: console, host: host, port: port) { _, bound in
            continuation.yield(bound)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [server], logger: console.logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            try await task.value
            throw ConsoleConfigurationError("the console stopped before it listened on \(host):\(port)")
        }
        return RunningConsole(url: "http://\(host):\(bound)", group: group, task: task)
    }
}

/// Hummingbird's basic context plus the client's address (for the login limits).
struct ConsoleRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TCP peer's IP address.
    let clientAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }
}

public struct RunningConsole: Sendable {
    public let url: String
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
