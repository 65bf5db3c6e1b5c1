import Foundation

/// `scripts/rabbitmq-node`: a project-local RabbitMQ node with its own data directory under
/// `.rabbitmq/`, loopback only, free ports.
public enum RabbitMQNode {
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = repositoryRoot.appendingPathComponent("scripts/rabbitmq-node")

    public struct Failure: Error, CustomStringConvertible {
        public var arguments: [String]
        public var output: String
        public var description: String { "rabbitmq-node \(arguments.joined(separator: " ")) failed: \(output)" }

        public init(arguments: [String], output: String) {
            self.arguments = arguments
            self.output = output
        }
    }

    /// Runs the script (`start DIR`, `stop DIR`, `destroy DIR`) and returns what it printed.
    @discardableResult
    public static func run(_ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(script, arguments, mergeOutput: true, deadline: .seconds(300))
        guard result.succeeded else { throw Failure(arguments: arguments, output: result.output) }
        return result.output
    }

    /// Starts a node in `directory`; returns the `KEY=value` lines `start` prints (`BRIDGE_AMQP_URL`,
    /// `BRIDGE_MANAGEMENT_URL`, `BRIDGE_AMQPS_URL`).
    public static func start(directory: String) async throws -> [String: String] {
        let output = try await run(["start", directory])
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard values["BRIDGE_AMQP_URL"] != nil, values["BRIDGE_MANAGEMENT_URL"] != nil else {
            throw Failure(arguments: ["start", directory], output: output)
        }
        return values
    }

    /// Destroys the nodes in `directories` while the test process exits (from an `atexit` handler).
    public static func destroyAtExit(_ directories: [String]) {
        for directory in directories {
            let process = Process()
            process.executableURL = script
            process.arguments = ["destroy", directory]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()  // blocking-ok: atexit handler, on the exiting main thread after every test has finished
        }
    }
}
