import AMQP
import BrokerAdmin
import Foundation
import Messaging
import TestPrograms
import XCTest

final class TopologyAndEndpointTests: XCTestCase {
    /// The committed definitions file, applied to the broker with `bridgectl topology apply`, is what the broker then holds.
    func testAppliedTopologyEqualsTheFile() async throws {
        let broker = try await TestBroker.shared
        let file = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        let apply = try WorkerProcess.start(executable: "bridgectl", arguments: [
            "topology", "apply", "--topology", file, "--management-url", broker.managementURL])
        let applyStatus = try await apply.waitForExit()
        XCTAssertEqual(applyStatus, 0, apply.log)
        let topology = try Topology.load(from: file)
        let diff = TopologyDiff(file: topology, broker: try await broker.management().definitions())
        XCTAssertEqual(diff.missing, [])
        XCTAssertEqual(diff.different, [])
        // Spot-check what the architecture requires, on the broker itself.
        let onBroker = try await broker.management().definitions()
        let loader = try XCTUnwrap(onBroker.queues.first { $0.name == "sage-loader" })
        XCTAssertEqual(loader.arguments["x-queue-type"], .string("quorum"))
        XCTAssertEqual(loader.arguments["x-dead-letter-exchange"], .string("bridge.dead"))
        XCTAssertNotNil(loader.arguments["x-delivery-limit"])
        let tier = try XCTUnwrap(onBroker.queues.first { $0.name == "sage-loader.delay.30s" })
        XCTAssertEqual(tier.arguments["x-message-ttl"], .int(30_000))
        XCTAssertEqual(tier.arguments["x-dead-letter-routing-key"], .string("sage-loader"))
        XCTAssertTrue(onBroker.bindings.contains { $0.source == "bridge.dead" && $0.destination == "sage-loader.dlq" && $0.routingKey == "sage-loader" })
        let diffCommand = try WorkerProcess.start(executable: "bridgectl", arguments: [
            "topology", "diff", "--topology", file, "--management-url", broker.managementURL])
        let diffStatus = try await diffCommand.waitForExit()
        XCTAssertEqual(diffStatus, 0, diffCommand.log)
    }

    /// An upgrade from the classic delay tiers: `apply` deletes an old tier that has drained and keeps (and
    /// names) one that still holds a message, which goes on to its stage when its TTL runs out.
    func testApplyRetiresTheClassicTiersOnceTheyHaveDrained() async throws {
        let broker = try await TestBroker.shared
        let session = try await broker.session("classic-tiers")
        try await session.perform { connection in
            for (name, ttl) in [("transformer.retry.5m", 300_000), ("fraud-scorer.retry.30m", 1_800_000)] {
                _ = try connection.declareQueue(channel: 3, name: name, arguments: [
                    "x-message-ttl": .int(Int64(ttl)), "x-dead-letter-exchange": .string(""),
                    "x-dead-letter-routing-key": .string(String(name.prefix { $0 != "." }))])
            }
        }
        try await session.publish([OutgoingMessage(exchange: "", routingKey: "fraud-scorer.retry.30m",
                                                   properties: MessageProperties(messageID: MessageID.random()), body: Array("{}".utf8))])
        await session.close()
        let apply = try WorkerProcess.start(executable: "bridgectl", arguments: [
            "topology", "apply", "--topology", repositoryRoot.appendingPathComponent("Topology/definitions.json").path,
            "--management-url", broker.managementURL])
        let status = try await apply.waitForExit()
        XCTAssertEqual(status, 0, apply.log)
        XCTAssertTrue(apply.log.contains("deleted the retired classic delay tier transformer.retry.5m (empty)"), apply.log)
        XCTAssertTrue(apply.log.contains("fraud-scorer.retry.30m still holds"), apply.log)
        let names = try await broker.management().queues().map(\.name)
        XCTAssertFalse(names.contains("transformer.retry.5m"))
        XCTAssertTrue(names.contains("fraud-scorer.retry.30m"))
        let cleanup = try await broker.session("classic-tiers")
        try await cleanup.perform { try $0.deleteQueue(channel: 3, name: "fraud-scorer.retry.30m") }
        await cleanup.close()
    }

    /// A worker's own user can do its work with the permissions the file grants, and nothing more.
    func testWorkerUserHasLeastPrivilege() async throws {
        let broker = try await TestBroker.shared
        let file = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        let apply = try await ChildProcess.run(WorkerProcess.binDirectory().appendingPathComponent("bridgectl"),
                                               ["topology", "apply", "--topology", file, "--management-url", broker.managementURL],
                                               environment: ["BRIDGE_PASSWORD_TRANSFORMER": "transformer-secret"])
        XCTAssertEqual(apply.status, 0)

        var url = try AMQPURL(broker.amqpURL)
        url.user = "transformer"
        url.password = "transformer-secret"
        let session = try await AMQPSession.connect(url: url, name: "least-privilege", logger: broker.logger)
        let topology = try Topology.load(from: file)
        let stage = try topology.stage("transformer")
        try await session.perform { try stage.declare(on: $0, channel: 3) }
        // It may publish a journal to its output exchange (topic permissions allow its own routing keys only, see
        // LeastPrivilegeTests), and may not publish to another stage's input.
        let allowed = OutgoingMessage(exchange: "bridge.scoring", routingKey: "sage.journal.probe", properties: .init(), body: [], mandatory: false)
        try await session.publish([allowed])
        do {
            try await session.publish([OutgoingMessage(exchange: "bridge.events", routingKey: "heartland.x", properties: .init(), body: [], mandatory: false)])
            XCTFail("transformer must not write to bridge.events (its own input)")
        } catch {}
        await session.close()
    }

    func testWorkerServesHealthAndMetrics() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let port = Int.random(in: 20_000...32_000)  // below Linux's ephemeral ports (32768–60999), which outgoing connections take
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out"], httpPort: port)
        try await eventually("ready") { (try? await WorkerProcess.get(port, "/health/ready"))?.status == 200 }
        let live = try await WorkerProcess.get(port, "/health/live")
        XCTAssertEqual(live.status, 200)
        try await p.publish(count: 5, to: "a")
        try await eventually("processed") { try await p.depth("\(p.prefix).out") == 5 }
        let metrics = try await WorkerProcess.get(port, "/metrics").body
        XCTAssertTrue(metrics.contains("bridge_messages_handled_total"), metrics)
        XCTAssertTrue(metrics.contains("bridge_handler_duration_seconds"), metrics)
        _ = worker
    }

    /// A target that keeps failing opens the circuit: the stage stops taking messages instead of
    /// cycling the whole queue through the retry tiers, and readiness says why.
    func testCircuitBreakerPausesAStageWhoseTargetKeepsFailing() async throws {
        let p = try await TestPipeline.make(stages: ["a"], retryDelays: [.seconds(30), .seconds(60)])
        let port = Int.random(in: 20_000...32_000)  // below Linux's ephemeral ports (32768–60999), which outgoing connections take
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out", "--fail-until-attempt", "99",
                                       "--breaker-threshold", "3", "--breaker-pause-ms", "60000", "--concurrency", "1", "--batch", "1"],
                                 httpPort: port)
        try await p.publish(count: 10, to: "a")
        try await eventually("circuit opens") { (try? await WorkerProcess.get(port, "/health/ready"))?.body.contains("circuit open") == true }
        let metrics = try await WorkerProcess.get(port, "/metrics").body
        XCTAssertEqual(WorkerProcess.sum(metrics, "bridge_retries_total"), 3, "only the failures that opened the circuit were sent to retry")
        XCTAssertEqual(WorkerProcess.sum(metrics, "bridge_circuit_open"), 1)
        let waiting = try await p.depth(p.stage("a"))
        XCTAssertEqual(waiting, 0, "the other 7 are held by the paused consumer (unacked), not cycled through retries")
        let first = try await p.depth(p.stage("a") + ".delay.30s"), second = try await p.depth(p.stage("a") + ".delay.1m")
        XCTAssertEqual(first + second, 3, "jitter may send a failure one tier up")
        _ = worker
    }
}
