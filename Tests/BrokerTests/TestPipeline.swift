import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Messaging
import TestPrograms
import XCTest

/// A small pipeline of uniquely named stages on the test broker, built with the same builder as the
/// bridge's topology (short retry tiers so that tests run in seconds), plus helpers to publish, read
/// queues and run `bridge-relay` worker processes.
struct TestPipeline {
    let broker: TestBroker
    let prefix: String
    let topology: Topology
    let topologyFile: String
    var exchange: String { "\(prefix).x" }
    var alerts: String { "\(prefix).alerts" }
    var audit: String { "\(prefix).audit" }
    var dead: String { "\(prefix).dead" }
    var expired: String { "\(prefix).expired" }

    func stage(_ name: String) -> String { "\(prefix).\(name)" }

    /// Stages `names`, each bound to `exchange` with its own name as key, plus queues that catch
    /// every alert and audit notice (`<prefix>.alerts.all`, `<prefix>.audit.all`) and a final `sink`-less queue `out`.
    static func make(broker: TestBroker? = nil, stages names: [String], retryDelays: [Duration] = [.milliseconds(300), .milliseconds(600)],
                     deliveryLimit: Int = 3, parkedRetention: Duration = BridgeTopology.defaultParkedRetention) async throws -> TestPipeline {
        let broker = if let broker { broker } else { try await TestBroker.shared }
        let prefix = "t\(UInt32.random(in: 0...UInt32.max))"
        let exchange = "\(prefix).x"
        var builder = TopologyBuilder(
            exchanges: [exchange, "\(prefix).alerts", "\(prefix).audit"], deadLetterExchange: "\(prefix).dead",
            alertExchange: "\(prefix).alerts", auditExchange: "\(prefix).audit",
            stages: names.map { .init(name: "\(prefix).\($0)", consumes: [(exchange, "\(prefix).\($0)")], publishesTo: [exchange],
                                      deliveryLimit: deliveryLimit, retryDelays: retryDelays) })
        builder.vhost = "/"
        // Policies and the expired exchange of its own: the bridge's `bridge-*` policies on the shared broker stay as applied.
        builder.policyPrefix = prefix
        builder.expiredExchange = "\(prefix).expired"
        builder.parkedRetention = parkedRetention
        var topology = builder.build()
        topology.users = []
        topology.permissions = []
        topology.topicPermissions = []
        for extra in ["out", "alerts.all", "audit.all"] {
            topology.queues.append(.init(name: "\(prefix).\(extra)", vhost: "/", durable: true, autoDelete: false, arguments: ["x-queue-type": .string("quorum")]))
        }
        topology.bindings.append(.init(source: exchange, vhost: "/", destination: "\(prefix).out", destinationType: "queue", routingKey: "\(prefix).out", arguments: [:]))
        topology.bindings.append(.init(source: "\(prefix).alerts", vhost: "/", destination: "\(prefix).alerts.all", destinationType: "queue", routingKey: "#", arguments: [:]))
        topology.bindings.append(.init(source: "\(prefix).audit", vhost: "/", destination: "\(prefix).audit.all", destinationType: "queue", routingKey: "#", arguments: [:]))
        try await broker.management().importDefinitions(topology)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-definitions.json").path
        try topology.encoded().write(to: URL(fileURLWithPath: file))
        return TestPipeline(broker: broker, prefix: prefix, topology: topology, topologyFile: file)
    }

    func message(_ body: String, key: String, idempotencyKey: String, correlationID: String? = nil) -> OutgoingMessage {
        OutgoingMessage(exchange: exchange, routingKey: key, properties: MessageProperties(
            messageID: MessageID.random(), correlationID: correlationID ?? "corr-\(idempotencyKey)", type: key,
            headers: [Header.idempotencyKey: .string(idempotencyKey)]), body: Array(body.utf8))
    }

    /// Publishes `count` messages to stage `to` with keys `<prefix>:<i>`.
    func publish(count: Int, to stageName: String, body: (Int) -> String = { "{\"n\":\($0)}" }) async throws {
        let session = try await broker.session("publisher")
        var batch: [OutgoingMessage] = []
        for i in 0..<count {
            batch.append(message(body(i), key: stage(stageName), idempotencyKey: "\(prefix):\(i)"))
            if batch.count == 100 { try await session.publish(batch); batch.removeAll() }
        }
        try await session.publish(batch)
        await session.close()
    }

    /// Exact ready count (passive declare; the management API lags for quorum queues).
    func depth(_ queue: String) async throws -> Int { try await broker.depth(queue) }

    /// Takes (acks) up to `max` messages from a queue with basic.get.
    func take(_ queue: String, max: Int = 10_000) async throws -> [Delivery] { try await broker.take(queue, max: max) }

    /// Stage "a" relaying every message to stage "b", an idempotent sink (`store`), and a publisher into "a", on a node of
    /// the test's own: what the tests that disturb the broker (a restart, a memory alarm) run messages through.
    struct RelayToSink {
        let pipeline: TestPipeline
        let relay: WorkerProcess
        let sink: WorkerProcess
        let store: IdempotencyStore
        let publisher: ReliablePublisher

        /// Messages `numbers` into stage "a", each with an idempotency key of its own.
        func publish(_ numbers: Range<Int>) async throws {
            let p = pipeline
            try await publisher.publish(numbers.map { p.message("{\"n\":\($0)}", key: p.stage("a"), idempotencyKey: "\(p.prefix):\($0)") })
        }

        /// Every key the sink must hold once `numbers` arrived.
        func keys(_ numbers: Range<Int>) -> [String] { numbers.map { "\(pipeline.prefix):\($0)" }.sorted() }
    }

    static func relayToSink(on broker: TestBroker) async throws -> RelayToSink {
        let p = try await TestPipeline.make(broker: broker, stages: ["a", "b"])
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(p.prefix)-sink.sqlite").path
        let sink = try p.relay("b", ["--sink-db", db])
        let relay = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", p.stage("b"), "--delay-ms", "5"])
        let publisher = ReliablePublisher(connector: BrokerConnector(url: try AMQPURL(broker.amqpURL), name: "test-publisher",
                                                                     logger: broker.logger), logger: broker.logger)
        return RelayToSink(pipeline: p, relay: relay, sink: sink, store: try IdempotencyStore(path: db), publisher: publisher)
    }

    /// Starts `bridge-relay` for a stage of this pipeline, on the test broker or on `amqpURL` (a cluster's nodes).
    func relay(_ stageName: String, _ arguments: [String], httpPort: Int = 0, amqpURL: String? = nil) throws -> WorkerProcess {
        try WorkerProcess.start(executable: "bridge-relay", arguments: [
            "--stage", stage(stageName), "--amqp-url", amqpURL ?? broker.amqpURL, "--topology", topologyFile, "--http-port", String(httpPort),
            "--log-level", "warning", "--alert-exchange", alerts, "--audit-exchange", audit,
        ] + arguments)
    }
}

/// A worker process started by a test; killed on deinit if still running.
final class WorkerProcess: @unchecked Sendable {
    let process: Process
    let logFile: URL

    /// A GET to a worker's operations endpoint on this host: its status and body.
    static func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The sum of a metric's samples (every label set) in a /metrics page.
    static func sum(_ metrics: String, _ name: String) -> Double {
        metrics.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    static func binDirectory() -> URL {
        if let dir = ProcessInfo.processInfo.environment["BRIDGE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return repositoryRoot.appendingPathComponent(".build/debug")
    }

    static func start(executable: String, arguments: [String], environment: [String: String] = [:]) throws -> WorkerProcess {
        try start(path: binDirectory().appendingPathComponent(executable), arguments: arguments, environment: environment)
    }

    /// Output goes to a file, not a pipe: daemons a process leaves behind (the broker's epmd) would hold a pipe open.
    static func start(path: URL, arguments: [String], environment: [String: String] = [:]) throws -> WorkerProcess {
        let process = Process()
        process.executableURL = path
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(path.lastPathComponent)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        return WorkerProcess(process: process, logFile: logFile)
    }

    private init(process: Process, logFile: URL) {
        self.process = process
        self.logFile = logFile
    }

    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await eventually(timeout: timeout, "worker exits") { !process.isRunning }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

func header(_ delivery: Delivery, _ name: String) -> FieldValue? { delivery.properties.headers[name] }
