import AMQP
import BrokerAdmin
import Foundation
import Logging
import Messaging
import Synchronization
import TestPrograms

/// The RabbitMQ node for the console's broker tests, as in BrokerTests: `scripts/test` passes one in
/// the environment (`BRIDGE_TEST_AMQP_URL`, `BRIDGE_TEST_MANAGEMENT_URL`); otherwise a project-local
/// node is started under `.rabbitmq/` and destroyed when the test process exits.
final class TestBroker: Sendable {
    let amqpURL: String
    let managementURL: String

    /// The node `scripts/test` passed in the environment, or one started on first use.
    static var shared: TestBroker {
        get async throws { try await sharedNode.value }
    }

    private static let sharedNode = Task<TestBroker, any Error> {
        let env = ProcessInfo.processInfo.environment
        if let amqp = env["BRIDGE_TEST_AMQP_URL"], let mgmt = env["BRIDGE_TEST_MANAGEMENT_URL"], !amqp.isEmpty, !mgmt.isEmpty {
            return TestBroker(amqpURL: amqp, managementURL: mgmt)
        }
        let directory = repositoryRoot.appendingPathComponent(".rabbitmq/console-\(ProcessInfo.processInfo.processIdentifier)").path
        let values = try await RabbitMQNode.start(directory: directory)
        ownedDirectory.withLock { $0 = directory }
        atexit { RabbitMQNode.destroyAtExit(TestBroker.ownedDirectory.withLock { $0 }.map { [$0] } ?? []) }
        return TestBroker(amqpURL: values["BRIDGE_AMQP_URL"]!, managementURL: values["BRIDGE_MANAGEMENT_URL"]!)
    }

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
