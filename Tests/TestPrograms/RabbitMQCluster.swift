import Foundation
import Synchronization

/// `scripts/rabbitmq-cluster`: three project-local nodes clustered on this machine, on loopback or each in a
/// network namespace of its own (`netns`). Destroyed (nodes stopped, namespaces deleted) by `destroy`, or when
/// the test process exits.
public final class RabbitMQCluster: Sendable {
    static let script = RabbitMQNode.repositoryRoot.appendingPathComponent("scripts/rabbitmq-cluster")
    static let nodeScript = RabbitMQNode.repositoryRoot.appendingPathComponent("scripts/rabbitmq-node")

    public let directory: String
    public let netns: Bool
    /// The three nodes, comma-separated: what a worker's `--amqp-url` / `BRIDGE_AMQP_URL` takes.
    public let amqpURLs: String
    public let nodeAMQPURLs: [String]
    public let nodeManagementURLs: [String]
    /// netns clusters: each node's AMQP listener on its side link, which `cut` leaves up (a client there stays with
    /// the node when it is cut off). Empty strings on loopback clusters.
    public let nodeSideAMQPURLs: [String]

    private static let live = LiveDirectories()

    /// Starts the cluster (no topology: each test imports its own pipeline).
    public static func start(name: String, netns: Bool) async throws -> RabbitMQCluster {
        let directory = RabbitMQNode.repositoryRoot.appendingPathComponent(".rabbitmq/\(name)").path
        live.add(directory)
        let output = try await run(script, ["start", directory, "--no-topology"] + (netns ? ["--netns"] : []))
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let all = values["BRIDGE_AMQP_URL"] else { throw RabbitMQNode.Failure(arguments: ["start", directory], output: output) }
        return RabbitMQCluster(directory: directory, netns: netns, amqpURLs: all,
                               nodeAMQPURLs: (1...3).map { values["BRIDGE_NODE\($0)_AMQP_URL"] ?? "" },
                               nodeManagementURLs: (1...3).map { values["BRIDGE_NODE\($0)_MANAGEMENT_URL"] ?? "" },
                               nodeSideAMQPURLs: (1...3).map { values["BRIDGE_NODE\($0)_SIDE_AMQP_URL"] ?? "" })
    }

    private init(directory: String, netns: Bool, amqpURLs: String, nodeAMQPURLs: [String], nodeManagementURLs: [String],
                 nodeSideAMQPURLs: [String]) {
        self.directory = directory
        self.netns = netns
        self.amqpURLs = amqpURLs
        self.nodeAMQPURLs = nodeAMQPURLs
        self.nodeManagementURLs = nodeManagementURLs
        self.nodeSideAMQPURLs = nodeSideAMQPURLs
    }

    /// The Erlang node name of node `n` (1…3), as the management API reports leaders and members.
    public func nodeName(_ n: Int) throws -> String {
        try String(contentsOfFile: "\(directory)/n\(n)/nodename", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// SIGKILL: a crash, no goodbye to the other nodes or the clients.
    public func kill(_ n: Int) async throws { try await Self.run(Self.nodeScript, ["kill", "\(directory)/n\(n)"]) }
    /// A graceful stop (`rabbitmqctl stop`).
    public func stop(_ n: Int) async throws { try await Self.run(Self.nodeScript, ["stop", "\(directory)/n\(n)"]) }
    /// Starts node `n` again; it rejoins the cluster with its data.
    public func start(_ n: Int) async throws { try await Self.run(Self.nodeScript, ["start", "\(directory)/n\(n)"]) }
    /// Takes node `n`'s link down (netns clusters): it is cut off from the other two and from the clients that reach it
    /// through `nodeAMQPURLs`; its side link (`nodeSideAMQPURLs`) stays up.
    public func cut(_ n: Int) async throws { try await Self.run(Self.script, ["cut", directory, "\(n)"]) }
    public func heal(_ n: Int) async throws { try await Self.run(Self.script, ["heal", directory, "\(n)"]) }

    public func destroy() async {
        _ = try? await Self.run(Self.script, ["destroy", directory])
        Self.live.remove(directory)
    }

    @discardableResult
    static func run(_ script: URL, _ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(script, arguments, mergeOutput: true, deadline: .seconds(300))
        guard result.succeeded else { throw RabbitMQNode.Failure(arguments: [script.lastPathComponent] + arguments, output: result.output) }
        return result.output
    }

    /// Clusters not destroyed yet when the process exits (a failed test): destroyed from an `atexit` handler.
    final class LiveDirectories: Sendable {
        private let directories = Mutex<[String]>([])
        init() {
            atexit {
                for directory in RabbitMQCluster.live.directories.withLock({ $0 }) {
                    let process = Process()
                    process.executableURL = RabbitMQCluster.script
                    process.arguments = ["destroy", directory]
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    guard (try? process.run()) != nil else { continue }
                    process.waitUntilExit()  // blocking-ok: atexit handler, on the exiting main thread after every test has finished
                }
            }
        }
        func add(_ directory: String) { directories.withLock { $0.append(directory) } }
        func remove(_ directory: String) { directories.withLock { $0.removeAll { $0 == directory } } }
    }
}
