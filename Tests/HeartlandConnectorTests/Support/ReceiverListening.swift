import HeartlandIngest
import ServiceLifecycle
import Testing

/// Runs heartland-ingest's webhook receiver on a free port for the duration of `body`, which gets its URL.
func listening(_ receiver: WebhookReceiver, _ body: (String) async throws -> Void) async throws {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = receiver.application(host: "127.0.0.1", port: 0) { continuation.yield($0) }
    let group = ServiceGroup(services: [app], logger: quietLogger)
    let task = Task { try await group.run() }
    var iterator = ports.makeAsyncIterator()
    let port = try #require(await iterator.next())
    do {
        try await body("http://127.0.0.1:\(port)\(WebhookReceiver.path)")
    } catch {
        await group.triggerGracefulShutdown()
        throw error
    }
    await group.triggerGracefulShutdown()
    _ = try? await task.value
}
