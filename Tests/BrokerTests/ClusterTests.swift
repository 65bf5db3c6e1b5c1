import AMQP
import BridgeClock
import BrokerAdmin
import Foundation
import HeartlandSimulator
import HeartlandIngest
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
/// Then, on the partitioned cluster, what a minority does with a publish (never confirmed); and on a cluster of its own,
/// a store day through the bridge's own workers while the node leading every queue is SIGKILLed.
///
/// Size: $BRIDGE_CLUSTER_MESSAGES (default 2,000; `scripts/cluster-test` runs 10,000) and $BRIDGE_CLUSTER_STORES for the
/// store day (default 5 stores × 40 tickets; `scripts/cluster-test` runs 20).
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
            try await publishToTheMinority(cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    /// A store day through the bridge's own workers (heartland-ingest, transformer, fraud-scorer, two sage-loaders,
    /// alerter), every one given the three nodes with the first listed first, while that node, which leads every queue of
    /// the topology, is SIGKILLed once ingest has published its first events. The whole day must reach Sage through the
    /// two others before the node is started again. Then every journal of the day is in Sage exactly once, Sage's books
    /// equal the oracle's, every batch is matched, no queue holds anything and every worker is still the process it
    /// was (reconnected by itself), consuming once.
    func testAStoreDayThroughTheBridgeWhileTheLeaderNodeIsKilled() async throws {
        let cluster = try await RabbitMQCluster.start(name: "cluster-storeday-\(ProcessInfo.processInfo.processIdentifier)", netns: false)
        do {
            try await storeDay(cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    private func storeDay(_ cluster: RabbitMQCluster) async throws {
        let stores = ProcessInfo.processInfo.environment["BRIDGE_CLUSTER_STORES"].flatMap(Int.init) ?? 5, tickets = 40
        let urls = cluster.nodeAMQPURLs.map { $0 + "?heartbeat=5&connection_timeout=3" }.joined(separator: ",")
        func node(_ n: Int) -> TestBroker {
            TestBroker.attached(directory: "\(cluster.directory)/n\(n)", amqpURL: cluster.nodeAMQPURLs[n - 1], managementURL: cluster.nodeManagementURLs[n - 1],
                                workerAMQPURL: urls)
        }
        // The topology is imported through n1, so n1 leads every queue; every worker lists n1 first (`listed`), so the
        // kill takes every connection with it; the test's own reads go to n2 while n1 is down.
        let listed = ["--amqp-node-order", "listed"]
        let flow = try await BridgeFlow.start(loaders: 2, broker: node(1), stageArguments: listed)
        let leaders = Set(try await node(1).management().queues().filter { $0.type == "quorum" }.compactMap(\.leader))
        XCTAssertEqual(leaders, [try cluster.nodeName(1)], "n1 leads every quorum queue of the topology")
        let fixture = try StoreDayFixture.decode(try await flow.startHeartland(stores: stores, day: ChaosTests.day, tickets: tickets,
                                                                                 ingestArguments: listed))
        let payRun = try XCTUnwrap(fixture.payRuns.first)
        let workers = flow.processes.keys.filter { !$0.hasSuffix("-sim") }.sorted()
        func connections(_ name: String) -> Int { flow.processes[name]!.log.components(separatedBy: "connected to the broker").count - 1 }
        try await eventually(timeout: .seconds(60), "every worker connected") { workers.allSatisfy { connections($0) > 0 } }
        let before = Dictionary(uniqueKeysWithValues: workers.map { ($0, connections($0)) })

        try await flow.closeBatches()
        try await flow.heartlandAdmin("POST", "admin/pay_runs/\(payRun.id)/complete", "{}")
        let journals = try await ChaosTests.expectedJournals(flow, fixture: fixture, payRun: payRun.id)
        XCTAssertEqual(journals.batches.count, stores)
        // Killed while the day is in flight: ingest has published its first events, few journals (if any) are in Sage.
        let inbox = try IngestInbox(path: flow.inboxPath!)
        try await eventually(timeout: .seconds(120), "ingest published a first event") { try await inbox.entries().contains { $0.status == .published } }
        let postedBefore = try await ChaosTests.posted(flow).count
        try await cluster.kill(1)
        let killed = ContinuousClock.now
        try await eventually(timeout: .seconds(180), "every worker connected to n2 or n3") { workers.allSatisfy { connections($0) > before[$0]! } }
        let reconnected = ContinuousClock.now - killed
        // The whole day through n2 and n3 alone: n1 stays down until every journal is in Sage.
        do {
            try await eventually(timeout: .seconds(300), "every journal of the day posted without n1") {
                try await ChaosTests.posted(flow).isSuperset(of: journals.all)
            }
        } catch {
            for (name, process) in flow.processes { try? process.log.write(toFile: flow.folder.appendingPathComponent("\(name).log").path, atomically: true, encoding: .utf8) }
            print("the workers' logs: \(flow.folder.path)/*.log; heartland-ingest's last lines:\n\(flow.processes["heartland-ingest"]!.log.suffix(4000))")
            throw error
        }
        let settledAfter = ContinuousClock.now - killed
        try await cluster.start(1)
        try await eventually(timeout: .seconds(180), "n1 running in the cluster again") {
            try await node(2).management().nodes().filter(\.running).count == 3
        }
        // (While n1 is down its consumers stay counted, "suspected down", by the quorum queues: counted once it is back.)
        try await eventually(timeout: .seconds(180), "every stage consuming once") { try await BridgeFlow.consumers(node(2)) == 3 + 2 }
        do {
            try await eventually(timeout: .seconds(180), "every queue empty") { try await ChaosTests.allQueuesEmpty(flow) }
        } catch {
            let held = (try? await ChaosTests.nonEmptyQueues(flow)) ?? []
            let listing = (try? await RabbitMQNode.run(["ctl", "\(cluster.directory)/n2", "list_queues", "name", "messages_ready",
                                                        "messages_unacknowledged", "consumers", "leader"])) ?? ""
            print("queues still holding messages (asked of n1): \(held)\n\(listing)")
            throw error
        }

        var lost: [String] = [], duplicated: [String] = []
        for reference in journals.all {
            let entries = try await flow.sageEntries(reference: reference)
            if entries == 0 { lost.append(reference) } else if entries > 1 { duplicated.append(reference) }
        }
        XCTAssertEqual(lost, [], "never reached Sage")
        XCTAssertEqual(duplicated, [], "reached Sage more than once")
        try await ChaosTests.checkBooks(flow, fixture: fixture, journals)
        for (name, process) in flow.processes.sorted(by: { $0.key < $1.key }) {
            XCTAssertTrue(process.isRunning, "\(name) is still running (reconnected by itself):\n\(process.log.suffix(2000))")
        }
        let text = """
            store day on the cluster (\(stores) stores × \(tickets) tickets, \(journals.all.count) journals; n1, leader of every queue and every \
            worker's node, SIGKILLed with \(postedBefore) posted): \(workers.count) workers connected to n2/n3 \(seconds(reconnected)) s after the kill; \
            the day complete in Sage \(seconds(settledAfter)) s after it; each journal once, books equal to the oracle's, every batch matched

            """
        print(text, terminator: "")
        if let path = ProcessInfo.processInfo.environment["BRIDGE_CLUSTER_REPORT"] { try? appendLine(text, to: path) }
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

    /// What the cluster promises a publisher, observed: a node cut off from the other two (`pause_minority`) accepts
    /// publishes from a client that still reaches it (its side link) but never confirms them, and closes the
    /// connection when it pauses; a `ReliablePublisher` listing that node first publishes the same way, gets no confirm
    /// there either, and has every message confirmed by the majority after failing over. The raw publishes that were
    /// never confirmed may or may not be in the queue afterwards (counted, not asserted): unconfirmed means "publish
    /// again", which is what the bridge's publishers do.
    private func publishToTheMinority(_ cluster: RabbitMQCluster) async throws {
        // Node 1's AMQP listener, and the management API of a node that answers. A node healed from a partition is back in
        // the cluster and serves AMQP, but RabbitMQ 3.10 does not always start its management listener again after
        // pause_minority restarted its applications (seen twice in full runs: refused for 240 s, the node's log saying
        // "HTTP listener registry could not find context rabbitmq_management_tls" when it paused, nothing when it resumed).
        // What this test looks at is the cluster's publishing, not that listener: any node's API will do.
        var refused: [Int: String] = [:]
        var answering: Int?
        try await eventually(timeout: .seconds(120), "a node's management API answers") {
            for n in 0..<3 {
                do {
                    _ = try await ManagementClient(url: cluster.nodeManagementURLs[n]).queues()
                    answering = n
                    return true
                } catch {
                    refused[n + 1] = "\(error)"
                }
            }
            return false
        }
        let api = try XCTUnwrap(answering)
        if api != 0 { print("node 1's management API does not answer (\(refused[1] ?? "?")): node \(api + 1)'s is used") }
        let first = TestBroker.attached(directory: "\(cluster.directory)/n1", amqpURL: cluster.nodeAMQPURLs[0], managementURL: cluster.nodeManagementURLs[api])
        let pipeline = try await TestPipeline.make(broker: first, stages: ["m"])
        let queue = pipeline.stage("m")
        let queues = try await first.management().queues()
        let leaderName = try XCTUnwrap(queues.first { $0.name == queue }?.leader)
        let leader = try XCTUnwrap((1...3).first { (try? cluster.nodeName($0)) == leaderName })
        let minority = leader % 3 + 1
        let majority = (1...3).filter { $0 != minority }
        let query = "?heartbeat=5&connection_timeout=3"
        let side = try AMQPURL(cluster.nodeSideAMQPURLs[minority - 1] + query)
        let logger = first.logger
        func messages(_ source: String, _ count: Int) -> [OutgoingMessage] {
            (0..<count).map { pipeline.message("\(source):\($0)", key: queue, idempotencyKey: "\(pipeline.prefix):\(source):\($0)") }
        }

        // Whole cluster: the minority-to-be confirms through its side link.
        let raw = try await AMQPSession.connect(url: side, name: "minority-raw", logger: logger)
        try await raw.publish(messages("before", 1), confirmTimeout: .seconds(30))
        let reliable = ReliablePublisher(
            connector: BrokerConnector(urls: [side] + (try majority.map { try AMQPURL(cluster.nodeAMQPURLs[$0 - 1] + query) }), order: .listed,
                                       name: "minority-reliable", logger: logger), logger: logger)
        try await reliable.publish(messages("warm", 1))

        try await cluster.cut(minority)
        let cut = ContinuousClock.now
        let count = 50
        async let rawOutcome: Result<Duration, any Error> = {
            do {
                try await raw.publish(messages("raw", count), confirmTimeout: .seconds(120))
                return .success(ContinuousClock.now - cut)
            } catch {
                return .failure(error)
            }
        }()
        async let reliableDone: Duration = {
            try await reliable.publish(messages("reliable", count))
            return ContinuousClock.now - cut
        }()
        let outcome = await rawOutcome
        let rawFailedAfter = ContinuousClock.now - cut
        let reliableAfter = try await reliableDone
        if case .success(let after) = outcome {
            XCTFail("n\(minority), cut off from the majority, confirmed \(count) publishes after \(seconds(after)) s")
        }
        await raw.close()
        await reliable.close()

        try await cluster.heal(minority)
        try await eventually(timeout: .seconds(300), "n\(minority) back in the cluster") {
            // Asked of the majority, through whichever of its nodes' APIs answers (see above).
            for n in majority {
                if let nodes = try? await ManagementClient(url: cluster.nodeManagementURLs[n - 1]).nodes() { return nodes.filter(\.running).count == 3 }
            }
            return false
        }
        let bodies = try await drain(queue, on: first)
        let reliableKeys = Set(bodies.filter { $0.hasPrefix("reliable:") })
        XCTAssertEqual(reliableKeys, Set((0..<count).map { "reliable:\($0)" }), "every message the ReliablePublisher published is in the queue")
        XCTAssertTrue(bodies.contains("before:0") && bodies.contains("warm:0"), "the publishes confirmed before the cut are there")
        let unconfirmedArrived = bodies.filter { $0.hasPrefix("raw:") }.count
        let error = if case .failure(let error) = outcome { "\(error)" } else { "none" }
        let text = """
            publish to the minority: n\(minority) cut off (n\(leader) leads the queue); \(count) publishes on a connection to n\(minority)'s side link: \
            no confirm, the publish failed \(seconds(rawFailedAfter)) s after the cut (\(error)); \(unconfirmedArrived) of them in the queue afterwards; \
            a ReliablePublisher listing n\(minority) first had all \(count) confirmed \(seconds(reliableAfter)) s after the cut (\(bodies.count - reliableKeys.count - unconfirmedArrived - 2) duplicates)

            """
        print(text, terminator: "")
        if let path = ProcessInfo.processInfo.environment["BRIDGE_CLUSTER_REPORT"] { try? appendLine(text, to: path) }
    }

    /// Every message in `queue` (basic.get and ack until it is empty): their bodies.
    private func drain(_ queue: String, on broker: TestBroker) async throws -> [String] {
        let session = try await broker.session("drain")
        let generation = session.generation
        let bodies = try await session.perform { connection in
            var bodies: [String] = []
            while let delivery = try connection.get(channel: AMQPSession.controlChannel, queue: queue, generation: generation) {
                bodies.append(String(decoding: delivery.body, as: UTF8.self))
                try connection.ack(channel: AMQPSession.controlChannel, deliveryTag: delivery.deliveryTag)
            }
            return bodies
        }
        await session.close()
        return bodies
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
        let first = TestBroker.attached(directory: "\(cluster.directory)/n1", amqpURL: cluster.nodeAMQPURLs[0], managementURL: cluster.nodeManagementURLs[0])
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
            let broker = TestBroker.attached(directory: "\(cluster.directory)/n\(node + 1)", amqpURL: cluster.nodeAMQPURLs[node],
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
        if let path = ProcessInfo.processInfo.environment["BRIDGE_CLUSTER_REPORT"] { try? appendLine(text, to: path) }
    }
}

/// Appends `text` to the file at `path` (made if missing): the cluster tests' report for `scripts/cluster-test`.
private func appendLine(_ text: String, to path: String) throws {
    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
}
