import AMQP
import BrokerAdmin
import Foundation
import Logging
import Messaging
import Synchronization

/// The RabbitMQ node for the console's broker tests, as in BrokerTests: `scripts/test` passes one in
/// the environment (`BRIDGE_TEST_AMQP_URL`, `BRIDGE_TEST_MANAGEMENT_URL`); otherwise a project-local
/// node is started under `.rabbitmq/` and destroyed when the test process exits.
final class TestBroker: Sendable {
    let amqpURL: String
    let managementURL: String

    static let shared: TestBroker = {
        let env = ProcessInfo.processInfo.environment
        if let amqp = env["BRIDGE_TEST_AMQP_URL"], let mgmt = env["BRIDGE_TEST_MANAGEMENT_URL"], !amqp.isEmpty, !mgmt.isEmpty {
            return TestBroker(amqpURL: amqp, managementURL: mgmt)
        }
        let directory = repositoryRoot.appendingPathComponent(".rabbitmq/console-\(ProcessInfo.processInfo.processIdentifier)").path
        let output = try! runNodeScript(["start", directory])
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let amqp = values["BRIDGE_AMQP_URL"], let mgmt = values["BRIDGE_MANAGEMENT_URL"] else { fatalError("rabbitmq-node start printed: \(output)") }
        ownedDirectory.withLock { $0 = directory }
        atexit { if let directory = TestBroker.ownedDirectory.withLock({ $0 }) { _ = try? runNodeScript(["destroy", directory]) } }
        return TestBroker(amqpURL: amqp, managementURL: mgmt)
    }()

    private static let ownedDirectory = Mutex<String?>(nil)

    private init(amqpURL: String, managementURL: String) {
        self.amqpURL = amqpURL
        self.managementURL = managementURL
    }

    func session(_ name: String = "console-test") async throws -> AMQPSession {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try await AMQPSession.connect(url: try AMQPURL(amqpURL), name: name, logger: logger)
    }

    func management() throws -> ManagementClient { try ManagementClient(url: managementURL) }

    /// The bridge's topology, as `bridgectl topology apply` imports it.
    func importStandardTopology() async throws {
        try await management().importDefinitions(try Topology.load(from: repositoryRoot.appendingPathComponent("Topology/definitions.json").path))
    }

    /// Runs `body` on a channel of a fresh session.
    func perform<T: Sendable>(_ body: @escaping @Sendable (AMQPConnection) throws -> T) async throws -> T {
        let session = try await session()
        defer { Task { await session.close() } }
        let result = try await session.perform(body)
        await session.close()
        return result
    }

    /// Exact ready count (passive declare; the management API lags for quorum queues).
    func depth(_ queue: String) async throws -> Int {
        Int(try await perform { try $0.declareQueue(channel: 5, name: queue, passive: true) }.messages)
    }

    /// Takes (acks) every message of a queue.
    func take(_ queue: String) async throws -> [Delivery] {
        try await perform { connection in
            var got: [Delivery] = []
            while let delivery = try connection.get(channel: 5, queue: queue, generation: 0) {
                try connection.ack(channel: 5, deliveryTag: delivery.deliveryTag)
                got.append(delivery)
            }
            return got
        }
    }
}

/// `scripts/rabbitmq-node`, output through a file (the node's daemons would hold a pipe open).
func runNodeScript(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = repositoryRoot.appendingPathComponent("scripts/rabbitmq-node")
    process.arguments = arguments
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("rabbitmq-node-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitUntilExit()
    try? handle.close()
    let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(at: log)
    guard process.terminationStatus == 0 else {
        throw NSError(domain: "TestBroker", code: Int(process.terminationStatus),
                      userInfo: [NSLocalizedDescriptionKey: "rabbitmq-node \(arguments.joined(separator: " ")) failed: \(output)"])
    }
    return output
}
