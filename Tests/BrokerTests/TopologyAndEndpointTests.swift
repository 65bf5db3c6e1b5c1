import AMQP
import BrokerAdmin
import Foundation
import Messaging
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class TopologyAndEndpointTests: XCTestCase {
    /// The committed definitions file, applied to the broker with `bridgectl topology apply`, is what the broker then holds.
    func testAppliedTopologyEqualsTheFile() async throws {
        let broker = TestBroker.shared
        let file = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        let apply = try WorkerProcess.start(executable: "bridgectl", arguments: [
            "topology", "apply", "--topology", file, "--management-url", broker.managementURL])
        let value1 = try await apply.waitForExit()
        XCTAssertEqual(value1, 0, apply.log)
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
        let tier = try XCTUnwrap(onBroker.queues.first { $0.name == "sage-loader.retry.30s" })
        XCTAssertEqual(tier.arguments["x-message-ttl"], .int(30_000))
        XCTAssertEqual(tier.arguments["x-dead-letter-routing-key"], .string("sage-loader"))
        XCTAssertTrue(onBroker.bindings.contains { $0.source == "bridge.dead" && $0.destination == "sage-loader.dlq" && $0.routingKey == "sage-loader" })
        let diffCommand = try WorkerProcess.start(executable: "bridgectl", arguments: [
            "topology", "diff", "--topology", file, "--management-url", broker.managementURL])
        let value2 = try await diffCommand.waitForExit()
        XCTAssertEqual(value2, 0, diffCommand.log)
    }

    /// A worker's own user can do its work with the permissions the file grants, and nothing more.
    func testWorkerUserHasLeastPrivilege() async throws {
        let broker = TestBroker.shared
        let file = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        var environment = ProcessInfo.processInfo.environment
        environment["BRIDGE_PASSWORD_TRANSFORMER"] = "transformer-secret"
        let apply = Process()
        apply.executableURL = WorkerProcess.binDirectory().appendingPathComponent("bridgectl")
        apply.arguments = ["topology", "apply", "--topology", file, "--management-url", broker.managementURL]
        apply.environment = environment
        try apply.run()
        apply.waitUntilExit()
        XCTAssertEqual(apply.terminationStatus, 0)

        var url = try AMQPURL(broker.amqpURL)
        url.user = "transformer"
        url.password = "transformer-secret"
        let session = try await AMQPSession.connect(url: url, name: "least-privilege", logger: broker.logger)
        let topology = try Topology.load(from: file)
        let stage = try topology.stage("transformer")
        try await session.perform { try stage.declare(on: $0, channel: 3) }
        // It may publish to its output exchange, and may not publish to another stage's input.
        let allowed = OutgoingMessage(exchange: "bridge.scoring", routingKey: "probe.none", properties: .init(), body: [], mandatory: false)
        try await session.publish([allowed])
        do {
            try await session.publish([OutgoingMessage(exchange: "bridge.events", routingKey: "heartland.x", properties: .init(), body: [], mandatory: false)])
            XCTFail("transformer must not write to bridge.events (its own input)")
        } catch {}
        await session.close()
    }

    func testWorkerServesHealthAndMetrics() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let port = Int.random(in: 20_000...40_000)
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out"], httpPort: port)
        try await eventually("ready") { (try? await get(port, "/health/ready"))?.status == 200 }
        let live = try await get(port, "/health/live")
        XCTAssertEqual(live.status, 200)
        try await p.publish(count: 5, to: "a")
        try await eventually("processed") { try await p.depth("\(p.prefix).out") == 5 }
        let metrics = try await get(port, "/metrics").body
        XCTAssertTrue(metrics.contains("bridge_messages_handled_total"), metrics)
        XCTAssertTrue(metrics.contains("bridge_handler_duration_seconds"), metrics)
        _ = worker
    }

    private func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
