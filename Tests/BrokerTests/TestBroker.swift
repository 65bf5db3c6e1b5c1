import AMQP
import BrokerAdmin
import Foundation
import Logging
import Messaging
import XCTest

/// The repository root, from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A project-local RabbitMQ node for the tests (scripts/rabbitmq-node): its own data directory under
/// `.rabbitmq/`, loopback only, free ports. `scripts/test` starts one and passes it in the environment;
/// otherwise the first test starts one and it is destroyed when the test process exits.
final class TestBroker: @unchecked Sendable {
    let directory: String
    let amqpURL: String
    let managementURL: String
    /// amqps:// on the node's TLS listener, with `cacertfile` pointing at the node's private CA.
    let amqpsURL: String?
    private let owned: Bool

    static let shared: TestBroker = {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["BRIDGE_TEST_BROKER_DIR"], let amqp = env["BRIDGE_TEST_AMQP_URL"], let mgmt = env["BRIDGE_TEST_MANAGEMENT_URL"] {
            return TestBroker(directory: dir, amqpURL: amqp, managementURL: mgmt, amqpsURL: env["BRIDGE_TEST_AMQPS_URL"], owned: false)
        }
        let broker = try! TestBroker.start(name: "swifttest-\(ProcessInfo.processInfo.processIdentifier)")
        atexit { TestBroker.destroyOwned() }
        return broker
    }()

    nonisolated(unsafe) private static var ownedDirectories: [String] = []

    private init(directory: String, amqpURL: String, managementURL: String, amqpsURL: String?, owned: Bool) {
        self.directory = directory
        self.amqpURL = amqpURL
        self.managementURL = managementURL
        self.amqpsURL = amqpsURL
        self.owned = owned
    }

    /// Starts a node of its own (used directly by the broker-restart test, which must not disturb others).
    static func start(name: String) throws -> TestBroker {
        let directory = repositoryRoot.appendingPathComponent(".rabbitmq/\(name)").path
        return try owned(directory: directory, started: try run(["start", directory]))
    }

    /// The node `rabbitmq-node start` printed the URLs of, destroyed when the test process exits.
    private static func owned(directory: String, started output: String) throws -> TestBroker {
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let amqp = values["BRIDGE_AMQP_URL"], let mgmt = values["BRIDGE_MANAGEMENT_URL"] else {
            throw NSError(domain: "TestBroker", code: 1, userInfo: [NSLocalizedDescriptionKey: "rabbitmq-node start printed: \(output)"])
        }
        ownedDirectories.append(directory)
        return TestBroker(directory: directory, amqpURL: amqp, managementURL: mgmt, amqpsURL: values["BRIDGE_AMQPS_URL"], owned: true)
    }

    func stopNode() throws { _ = try Self.run(["stop", directory]) }
    func startNode() throws { _ = try Self.run(["start", directory]) }

    // The same from async code, without holding a thread of the cooperative pool while the script runs.
    static func start(name: String) async throws -> TestBroker {
        let directory = repositoryRoot.appendingPathComponent(".rabbitmq/\(name)").path
        return try owned(directory: directory, started: try await run(["start", directory]))
    }
    func stopNode() async throws { _ = try await Self.run(["stop", directory]) }
    func startNode() async throws { _ = try await Self.run(["start", directory]) }
    func destroy() async { _ = try? await Self.run(["destroy", directory]) }

    @discardableResult
    static func run(_ arguments: [String]) async throws -> String {
        let node = try WorkerProcess.start(path: repositoryRoot.appendingPathComponent("scripts/rabbitmq-node"), arguments: arguments)
        let status = try await node.waitForExit(timeout: .seconds(300))
        let output = node.log
        try? FileManager.default.removeItem(at: node.logFile)
        guard status == 0 else {
            throw NSError(domain: "TestBroker", code: Int(status),
                          userInfo: [NSLocalizedDescriptionKey: "rabbitmq-node \(arguments.joined(separator: " ")) failed: \(output)"])
        }
        return output
    }
    func destroy() { _ = try? Self.run(["destroy", directory]) }

    private static func destroyOwned() {
        for directory in ownedDirectories { _ = try? run(["destroy", directory]) }
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let node = try WorkerProcess.start(path: repositoryRoot.appendingPathComponent("scripts/rabbitmq-node"), arguments: arguments)
        node.process.waitUntilExit()
        let output = node.log
        try? FileManager.default.removeItem(at: node.logFile)
        guard node.process.terminationStatus == 0 else {
            throw NSError(domain: "TestBroker", code: Int(node.process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "rabbitmq-node \(arguments.joined(separator: " ")) failed: \(output)"])
        }
        return output
    }

    var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    func session(_ name: String = "test") async throws -> AMQPSession {
        try await AMQPSession.connect(url: try AMQPURL(amqpURL), name: name, logger: logger)
    }

    /// Exact ready count of a queue (passive declare; the management API lags for quorum queues).
    func depth(_ queue: String) async throws -> Int {
        let session = try await session("depth")
        defer { Task { await session.close() } }
        let counts = try await session.perform { try $0.declareQueue(channel: 3, name: queue, passive: true) }
        await session.close()
        return Int(counts.messages)
    }

    /// Takes (acks) up to `max` messages from a queue with basic.get.
    func take(_ queue: String, max: Int = 10_000) async throws -> [Delivery] {
        let session = try await session("take")
        let taken = try await session.perform { connection -> [Delivery] in
            var got: [Delivery] = []
            while got.count < max, let delivery = try connection.get(channel: 3, queue: queue, generation: 0) {
                try connection.ack(channel: 3, deliveryTag: delivery.deliveryTag)
                got.append(delivery)
            }
            return got
        }
        await session.close()
        return taken
    }

    func management() throws -> ManagementClient { try ManagementClient(url: managementURL) }
}

/// Waits until `condition` holds, polling; fails the test after `timeout`. Never a fixed sleep.
func eventually(timeout: Duration = .seconds(30), _ what: String, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    XCTFail("timed out after \(timeout) waiting for: \(what)", file: file, line: line)
    throw CancellationError()
}
