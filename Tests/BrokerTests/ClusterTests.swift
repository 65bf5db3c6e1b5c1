import AMQP
import BrokerAdmin
import Foundation
import Messaging
import Synchronization
import TestPrograms
import XCTest

/// Issue 19: the bridge on a three-node cluster (scripts/rabbitmq-cluster, `pause_minority`, quorum queues with a
/// member on every node). A stream of messages runs through two relay replicas and an idempotent sink, all given the
/// three nodes; the publisher is a `ReliablePublisher` on the three nodes too. While it flows: the node leading the
/// work queues is SIGKILLed and restarted; the three nodes are restarted one at a time; one node (the leader) is cut
/// off from the other two by taking its link down (each node in its own network namespace).
/// After each: every message at the idempotent end exactly once, no queue holding anything, the workers still running
/// and consuming again, and the recovery times printed (and appended to $BRIDGE_CLUSTER_REPORT if set).
///
/// Size: $BRIDGE_CLUSTER_MESSAGES (default 2,000; `scripts/cluster-test` runs 10,000).
final class ClusterTests: XCTestCase {
    static var messages: Int { ProcessInfo.processInfo.environment["BRIDGE_CLUSTER_MESSAGES"].flatMap(Int.init) ?? 2_000 }

    func testLeaderLossAndRollingRestart() async throws {
        let cluster = try await RabbitMQCluster.start(name: "cluster-\(ProcessInfo.processInfo.processIdentifier)", netns: false)
        do {
            try await lose(.crash, cluster, seconds: 30)
            try await rollingRestart(cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    func testPartitionOfTheLeaderNode() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip") else {
            throw XCTSkip("network namespaces need root and iproute2")
        }
        let cluster = try await RabbitMQCluster.start(name: "netns-\(ProcessInfo.processInfo.processIdentifier)", netns: true)
        do {
            try await lose(.partition, cluster, seconds: 40)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    // MARK: scenarios

    /// How the node leading the work queues goes away, and comes back.
    private enum LeaderLoss {
        /// SIGKILL; started again once the stream flows without it.
        case crash
        /// Its link taken down (each node in its own network namespace); restored once the stream flows without it.
        case partition
    }

    private func lose(_ loss: LeaderLoss, _ cluster: RabbitMQCluster, seconds streamSeconds: Int) async throws {
        let stream = try await ClusterStream.start(cluster, messages: Self.messages, seconds: streamSeconds)
        let leader = stream.leader
        let majority = leader % 3 + 1
        try await stream.waitForProgress(Self.messages / 5)
        let fault = ContinuousClock.now
        switch loss {
        case .crash:
            try await cluster.kill(leader)
        case .partition:
            try await cluster.cut(leader)
            try await stream.waitForRunningNodes(2, askingNode: majority)
            stream.note("partition: n\(leader) cut off; the majority saw it gone (pause_minority) after \(seconds(ContinuousClock.now - fault)) s")
        }
        let (flowing, consumersBack) = try await stream.recovery(since: fault, excludingNode: leader)
        let back = ContinuousClock.now
        switch loss {
        case .crash: try await cluster.start(leader)
        case .partition: try await cluster.heal(leader)
        }
        try await stream.waitForRunningNodes(3, askingNode: majority)
        stream.note("n\(leader) running in the cluster again \(seconds(ContinuousClock.now - back)) s after it was \(loss == .crash ? "started" : "reconnected")")
        try await stream.finish()
        let scenario = loss == .crash ? "leader node n\(leader) SIGKILLed, restarted after the stream resumed"
                                      : "leader node n\(leader) cut off by its link going down, healed after the stream resumed"
        stream.report(scenario, fault: fault, consumersBack: consumersBack, flowing: flowing)
        XCTAssertTrue(stream.connectionsLost.prefix(2).allSatisfy { $0 > 0 }, "the workers on the lost node failed over: \(stream.connectionsLost)")
    }

    private func rollingRestart(_ cluster: RabbitMQCluster) async throws {
        let stream = try await ClusterStream.start(cluster, messages: Self.messages, seconds: 60)
        try await stream.waitForProgress(Self.messages / 10)
        let fault = ContinuousClock.now
        for node in 1...3 {
            let stopped = ContinuousClock.now
            try await cluster.stop(node)
            try await cluster.start(node)
            try await stream.waitForRunningNodes(3, askingNode: node % 3 + 1)
            try await stream.waitForConsumers()
            stream.note("rolling restart: n\(node) stopped and back with every consumer after \(seconds(ContinuousClock.now - stopped)) s")
        }
        let restarted = ContinuousClock.now - fault
        try await stream.finish()
        stream.report("rolling restart of n1, n2, n3 (\(seconds(restarted)) s for the three)", fault: fault, consumersBack: nil, flowing: nil)
    }

}

private func seconds(_ duration: Duration) -> String { String(format: "%.1f", duration.seconds) }

/// One stream through the cluster: publisher → stage a (two relay replicas) → stage b (the idempotent sink).
private final class ClusterStream: Sendable {
    let cluster: RabbitMQCluster
    let pipeline: TestPipeline
    /// The node (1…3) that leads stage a's work queue (and, imported through node 1, every queue of the pipeline).
    let leader: Int
    let count: Int
    let store: IdempotencyStore
    let workers: [WorkerProcess]
    let publisher: ReliablePublisher
    let publishing: Task<Void, any Error>
    private let sampler = Mutex<Task<Void, Never>?>(nil)
    /// When the sink's count last changed, and the longest time it stood still.
    private let progress = Mutex<(count: Int, changed: ContinuousClock.Instant, longestStall: Duration)>((0, .now, .zero))
    private let notes = Mutex<[String]>([])

    /// Workers and publisher get every node, with 5 s heartbeats (a node cut off is noticed in ~10 s, not 60)
    /// and 3 s connection timeouts (an unreachable node is skipped quickly). The sink, one relay replica and the
    /// publisher list the node that leads the work queues first (`--amqp-node-order listed`), so that losing that
    /// node always takes connections with it; the other relay replica starts at a random node (the default).
    static func start(_ cluster: RabbitMQCluster, messages count: Int, seconds: Int) async throws -> ClusterStream {
        let first = TestBroker.attached(directory: cluster.directory, amqpURL: cluster.nodeAMQPURLs[0], managementURL: cluster.nodeManagementURLs[0])
        let pipeline = try await TestPipeline.make(broker: first, stages: ["a", "b"])
        // Every queue of the pipeline is replicated on the three nodes.
        let queues = try await first.management().queues().filter { $0.name.hasPrefix(pipeline.prefix + ".") && $0.type == "quorum" }
        XCTAssertFalse(queues.isEmpty)
        for queue in queues { XCTAssertEqual(queue.members.count, 3, "\(queue.name) has a member on each node") }
        let leaderName = try XCTUnwrap(queues.first { $0.name == pipeline.stage("a") }?.leader)
        let leader = try XCTUnwrap((1...3).first { (try? cluster.nodeName($0)) == leaderName }, "leader \(leaderName) is one of the three nodes")

        let urls = cluster.nodeAMQPURLs.map { $0 + "?heartbeat=5&connection_timeout=3" }
        let leaderFirst = (0..<3).map { urls[(leader - 1 + $0) % 3] }
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("\(pipeline.prefix)-sink.sqlite").path
        // Two replicas of a at 8 handlers each, each message taking `delay`: the stream lasts about `seconds`.
        let delay = max(1, 16 * 1000 * seconds / count)
        let relay = ["--to-exchange", pipeline.exchange, "--to-key", pipeline.stage("b"), "--delay-ms", "\(delay)"]
        let workers = [
            try pipeline.relay("b", ["--sink-db", db, "--amqp-node-order", "listed"], amqpURL: leaderFirst.joined(separator: ",")),
            try pipeline.relay("a", relay + ["--amqp-node-order", "listed"], amqpURL: leaderFirst.joined(separator: ",")),
            try pipeline.relay("a", relay, amqpURL: urls.joined(separator: ",")),
        ]
        let store = try IdempotencyStore(path: db)
        let publisher = ReliablePublisher(connector: BrokerConnector(urls: try leaderFirst.map { try AMQPURL($0) }, order: .listed,
                                                                     name: "cluster-test-publisher", logger: first.logger), logger: first.logger)
        let publishing = Task {
            for chunk in stride(from: 0, to: count, by: 100) {
                try await publisher.publish((chunk..<min(count, chunk + 100)).map {
                    pipeline.message("{\"n\":\($0)}", key: pipeline.stage("a"), idempotencyKey: "\(pipeline.prefix):\($0)")
                })
            }
        }
        let stream = ClusterStream(cluster: cluster, pipeline: pipeline, leader: leader, count: count, store: store, workers: workers,
                                   publisher: publisher, publishing: publishing)
        stream.sampleProgress()
        return stream
    }

    private init(cluster: RabbitMQCluster, pipeline: TestPipeline, leader: Int, count: Int, store: IdempotencyStore, workers: [WorkerProcess],
                 publisher: ReliablePublisher, publishing: Task<Void, any Error>) {
        self.cluster = cluster
        self.pipeline = pipeline
        self.leader = leader
        self.count = count
        self.store = store
        self.workers = workers
        self.publisher = publisher
        self.publishing = publishing
    }

    /// Polls the sink's count every 50 ms, to find the longest time it stood still.
    private func sampleProgress() {
        let task = Task {
            while !Task.isCancelled {
                if let now = try? await store.count() {
                    progress.withLock { state in
                        let at = ContinuousClock.now
                        if now != state.count {
                            state.longestStall = max(state.longestStall, at - state.changed)
                            state.count = now
                            state.changed = at
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        sampler.withLock { $0 = task }
    }

    func delivered() -> Int { progress.withLock { $0.count } }

    func note(_ line: String) {
        notes.withLock { $0.append(line) }
    }

    /// After a fault at `since`: how long until messages reach the idempotent end again (100 more than when the fault
    /// struck; the stream's own pace is 50–100 a second), and until a node other than the lost one shows every worker
    /// consuming (the management API's figures lag up to ~5 s for quorum queues: an upper bound).
    func recovery(since fault: ContinuousClock.Instant, excludingNode lost: Int) async throws -> (flowing: Duration, consumersBack: Duration) {
        let before = delivered()
        async let flowing = Self.elapsed(since: fault) { try await self.waitForProgress(before + 100) }
        async let consumers = Self.elapsed(since: fault) { try await self.waitForConsumers(excludingNode: lost) }
        return try await (flowing, consumers)
    }

    private static func elapsed(since start: ContinuousClock.Instant, _ wait: @Sendable () async throws -> Void) async throws -> Duration {
        try await wait()
        return ContinuousClock.now - start
    }

    /// Per worker (sink, relay listing the leader first, relay at a random node): connections it lost and made again.
    var connectionsLost: [Int] { workers.map { $0.log.components(separatedBy: "broker connection ended").count - 1 } }

    func waitForProgress(_ target: Int) async throws {
        try await eventually(timeout: .seconds(300), "\(target) of \(count) messages at the idempotent end") { delivered() >= min(target, count) }
    }

    /// Until a node other than `excluded` shows both relays on stage a and the sink on stage b.
    func waitForConsumers(excludingNode excluded: Int? = nil) async throws {
        let asking = (1...3).filter { $0 != excluded }
        try await eventually(timeout: .seconds(300), "every worker consuming again") {
            for node in asking {
                guard let queues = try? await ManagementClient(url: cluster.nodeManagementURLs[node - 1]).queues() else { continue }
                let consumers = Dictionary(queues.map { ($0.name, $0.consumers) }, uniquingKeysWith: { $1 })
                return consumers[pipeline.stage("a")] == 2 && consumers[pipeline.stage("b")] == 1
            }
            return false
        }
    }

    func waitForRunningNodes(_ running: Int, askingNode node: Int) async throws {
        try await eventually(timeout: .seconds(300), "node n\(node) sees \(running) running nodes") {
            let nodes = try? await ManagementClient(url: cluster.nodeManagementURLs[node - 1]).nodes()
            return nodes?.filter(\.running).count == running
        }
    }

    /// Waits for the whole stream, then checks: each key once at the idempotent end, nothing left in any queue of the
    /// pipeline, every worker still running and consuming.
    func finish() async throws {
        try await publishing.value
        try await eventually(timeout: .seconds(600), "all \(count) messages at the idempotent end") { try await store.count() >= count }
        let keys = try await store.keys()
        XCTAssertEqual(keys, (0..<count).map { "\(pipeline.prefix):\($0)" }.sorted(), "every message exactly once at the idempotent end")
        let work = pipeline.topology.queues.map(\.name).filter { !$0.hasSuffix(".out") && !$0.hasSuffix(".alerts.all") && !$0.hasSuffix(".audit.all") }
        // Asked of any node that answers; on failure the message names what each queue still held.
        let left = Mutex<[String: String]>([:])
        do {
            try await eventually(timeout: .seconds(120), "no message left in the work, retry and parking queues") {
                var holding: [String: String] = [:]
                for queue in work {
                    let depth = await depth(queue)
                    if depth != "0" { holding[queue] = depth }
                }
                left.withLock { $0 = holding }
                return holding.isEmpty
            }
        } catch {
            XCTFail("still held: \(left.withLock { $0 })")
            throw error
        }
        try await waitForConsumers()
        for worker in workers { XCTAssertTrue(worker.isRunning, "a worker died:\n\(worker.log.suffix(2000))") }
        sampler.withLock { $0?.cancel() }
        await publisher.close()
    }

    /// A queue's ready count from the first node that answers, or why none did.
    private func depth(_ queue: String) async -> String {
        var errors: [String] = []
        for node in 0..<3 {
            let broker = TestBroker.attached(directory: cluster.directory, amqpURL: cluster.nodeAMQPURLs[node],
                                             managementURL: cluster.nodeManagementURLs[node])
            do { return String(try await broker.depth(queue)) } catch { errors.append("n\(node + 1): \(error)") }
        }
        return errors.joined(separator: "; ")
    }

    /// Prints the scenario's recovery figures (and appends them to $BRIDGE_CLUSTER_REPORT).
    func report(_ scenario: String, fault: ContinuousClock.Instant, consumersBack: Duration?, flowing: Duration?) {
        let losses = connectionsLost
        var lines = ["\(scenario), \(count) messages:"]
        lines += notes.withLock { $0 }.map { "  \($0)" }
        if let consumersBack { lines.append("  every worker consuming again \(seconds(consumersBack)) s after the fault") }
        if let flowing { lines.append("  100 more messages at the idempotent end \(seconds(flowing)) s after the fault") }
        lines.append("  longest stall at the idempotent end: \(seconds(progress.withLock { $0.longestStall })) s")
        lines.append("  all \(count) there \(seconds(ContinuousClock.now - fault)) s after the fault; each exactly once; connections lost (and made again) by sink, relay, relay: \(losses)")
        let text = lines.joined(separator: "\n") + "\n"
        print(text, terminator: "")
        if let path = ProcessInfo.processInfo.environment["BRIDGE_CLUSTER_REPORT"] {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data(text.utf8))
                try? handle.close()
            }
        }
    }
}
