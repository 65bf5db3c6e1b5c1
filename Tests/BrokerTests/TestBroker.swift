import AMQP
import BrokerAdmin
import Foundation
import Logging
import Messaging
import Synchronization
import TestPrograms
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
    /// What the workers of a `BridgeFlow` get as `--amqp-url`: this node, or every node of a cluster (comma-separated),
    /// while the test's own sessions and management calls stay on this node.
    let workerAMQPURL: String
    private let owned: Bool

    /// The node `scripts/test` passed in the environment, or one started on first use.
    static var shared: TestBroker {
        get async throws { try await sharedNode.value }
    }

    private static let sharedNode = Task<TestBroker, any Error> {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["BRIDGE_TEST_BROKER_DIR"], let amqp = env["BRIDGE_TEST_AMQP_URL"], let mgmt = env["BRIDGE_TEST_MANAGEMENT_URL"] {
            return TestBroker(directory: dir, amqpURL: amqp, managementURL: mgmt, amqpsURL: env["BRIDGE_TEST_AMQPS_URL"], owned: false)
        }
        return try await TestBroker.start(name: "swifttest-\(ProcessInfo.processInfo.processIdentifier)")
    }

    /// Nodes this process started and has not destroyed yet: destroyed when it exits.
    private static let ownedDirectories: Mutex<[String]> = {
        atexit { RabbitMQNode.destroyAtExit(TestBroker.ownedDirectories.withLock { $0 }) }
        return Mutex([])
    }()

    private init(directory: String, amqpURL: String, managementURL: String, amqpsURL: String?, owned: Bool, workerAMQPURL: String? = nil) {
        self.directory = directory
        self.amqpURL = amqpURL
        self.workerAMQPURL = workerAMQPURL ?? amqpURL
        self.managementURL = managementURL
        self.amqpsURL = amqpsURL
        self.owned = owned
    }

    /// A node this process did not start (a node of a `RabbitMQCluster`, `directory` its own folder): the cluster owns it.
    /// `workerAMQPURL`: what a flow's workers connect to instead of this node (the cluster's nodes).
    static func attached(directory: String, amqpURL: String, managementURL: String, workerAMQPURL: String? = nil) -> TestBroker {
        TestBroker(directory: directory, amqpURL: amqpURL, managementURL: managementURL, amqpsURL: nil, owned: false, workerAMQPURL: workerAMQPURL)
    }

    /// Starts a node of its own (used directly by the broker-restart test, which must not disturb others).
    static func start(name: String) async throws -> TestBroker {
        let directory = repositoryRoot.appendingPathComponent(".rabbitmq/\(name)").path
        let values = try await RabbitMQNode.start(directory: directory)
        ownedDirectories.withLock { $0.append(directory) }
        return TestBroker(directory: directory, amqpURL: values["BRIDGE_AMQP_URL"]!, managementURL: values["BRIDGE_MANAGEMENT_URL"]!,
                          amqpsURL: values["BRIDGE_AMQPS_URL"], owned: true)
    }

    func stopNode() async throws { try await RabbitMQNode.run(["stop", directory]) }
    /// `rabbitmqctl` against this node; what it printed.
    @discardableResult
    func ctl(_ arguments: String...) async throws -> String { try await RabbitMQNode.run(["ctl", directory] + arguments) }
    func startNode() async throws { try await RabbitMQNode.run(["start", directory]) }
    func destroy() async {
        _ = try? await RabbitMQNode.run(["destroy", directory])
        Self.ownedDirectories.withLock { $0.removeAll { $0 == directory } }
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

    /// What each queue holds now, ready or delivered and not yet acked, as the queues count it themselves
    /// (`rabbitmqctl list_queues`). Exact, where the management API's unacknowledged counts are samples up to a
    /// second old and a passive declare counts only the ready messages.
    func exactCounts() async throws -> [String: Int] {
        struct Row: Decodable { var name: String; var messages: Int }
        let output = try await RabbitMQNode.run(["ctl", directory, "list_queues", "name", "messages", "--formatter", "json", "-q"])
        guard let start = output.firstIndex(of: "[") else { throw RabbitMQNode.Failure(arguments: ["ctl", directory, "list_queues"], output: output) }
        let rows = try JSONDecoder().decode([Row].self, from: Data(output[start...].utf8))
        return Dictionary(rows.map { ($0.name, $0.messages) }, uniquingKeysWith: +)
    }

    /// None of `queues` holds a message, by the queues' own counts taken twice a second apart: a message on its
    /// way from a delay tier back to its stage's queue (dead-lettered) is in neither for a moment. Counts that cannot be
    /// read (a node busy restarting) say "not known to be empty", and why is printed.
    func holdNothing(_ queues: [String]) async throws -> Bool {
        for reading in 0..<2 {
            if reading > 0 { try await Task.sleep(for: .seconds(1)) }
            let counts: [String: Int]
            do { counts = try await exactCounts() } catch {
                print("the queues' own counts could not be read: \(error)")
                return false
            }
            if queues.contains(where: { (counts[$0] ?? 0) > 0 }) { return false }
        }
        return true
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

