import AMQP
import BrokerAdmin
import Foundation
import Messaging
import TestPrograms
import XCTest

/// `bridgectl status` on a real node: per stage its queues, consumers and the oldest message's age
/// from the places that know it (the workers, the parked messages; a delay tier's bound is its delay);
/// and the operations console's own broker user, which may do what the console does and no more.
final class StatusAndConsoleUserTests: XCTestCase {
    /// Messages published with known AMQP timestamps; the ages `bridgectl status` reports must be theirs
    /// (plus the seconds the test takes), each from the source that can know it.
    func testStatusShowsEachStagesQueuesAndTheirOldestMessageAge() async throws {
        let p = try await TestPipeline.make(stages: ["a", "b"], retryDelays: [.seconds(600)])
        let port = Int.random(in: 20_000...32_000)  // below Linux's ephemeral ports (32768–60999), which outgoing connections take
        // One message at a time, each taking two minutes: the oldest is in the handler for the whole test.
        let worker = try p.relay("a", ["--to-exchange", p.exchange, "--to-key", "\(p.prefix).out", "--delay-ms", "120000",
                                       "--prefetch", "1", "--batch", "1", "--concurrency", "1"], httpPort: port)
        let started = Date()
        let session = try await p.broker.session("status-test")
        func message(to queue: String, ageSeconds: Double) -> OutgoingMessage {
            OutgoingMessage(exchange: "", routingKey: queue, properties: MessageProperties(
                messageID: MessageID.random(), correlationID: "status-test", timestamp: started.addingTimeInterval(-ageSeconds)), body: Array("{}".utf8))
        }
        try await session.publish([message(to: p.stage("a"), ageSeconds: 120), message(to: p.stage("a"), ageSeconds: 60),
                                   message(to: p.stage("a") + ".delay.10m", ageSeconds: 300),
                                   message(to: p.stage("a") + ".dlq", ageSeconds: 3600), message(to: p.stage("a") + ".dlq", ageSeconds: 7200),
                                   message(to: p.stage("b"), ageSeconds: 30)])
        await session.close()

        var rows: [String: [String: Any]] = [:]
        func within(_ queue: String, _ expected: Int) -> Bool {
            guard let age = rows[queue]?["oldestMessageAgeSeconds"] as? Int else { return false }
            return age >= expected && age <= expected + Int(Date().timeIntervalSince(started)) + 2
        }
        try await eventually(timeout: .seconds(60), "status reports every age") {
            rows = try await self.status(p, ["--metrics-url", "http://127.0.0.1:\(port)/metrics"])
            // The management API's counts of quorum queues lag a few seconds.
            func count(_ queue: String) -> Int { (rows[queue]?["ready"] as? Int ?? 0) + (rows[queue]?["unacked"] as? Int ?? 0) }
            // The management API learns of the worker's consumer a few seconds after the worker registered it.
            let registered = (rows[p.stage("a")]?["consumers"] as? Int ?? 0) >= 1
            return registered && within(p.stage("a"), 120) && count(p.stage("a") + ".delay.10m") == 1 && count(p.stage("a")) == 2 && count(p.stage("b")) == 1
        }
        XCTAssertEqual(rows[p.stage("a")]?["oldestFrom"] as? String, "workers", "quorum work queue: the workers' in-flight figure")
        XCTAssertEqual(rows[p.stage("a")]?["role"] as? String, "work")
        // A quorum delay tier has no head timestamp; what is known is that each message leaves within the tier's delay.
        XCTAssertNil(rows[p.stage("a") + ".delay.10m"]?["oldestMessageAgeSeconds"] as Any? as? Int)
        XCTAssertTrue((rows[p.stage("a") + ".delay.10m"]?["note"] as? String)?.contains("10m at most") == true, "\(rows[p.stage("a") + ".delay.10m"] ?? [:])")
        let dlq = try XCTUnwrap(rows[p.stage("a") + ".dlq"])
        XCTAssertTrue(within(p.stage("a") + ".dlq", 7200), "the oldest of the parked messages, not the head: \(dlq)")
        XCTAssertEqual(dlq["oldestFrom"] as? String, "parked messages")
        XCTAssertEqual(dlq["ready"] as? Int, 2)
        XCTAssertTrue((dlq["note"] as? String)?.hasPrefix("DEAD LETTERS") == true, "\(dlq)")
        XCTAssertEqual(rows[p.stage("b")]?["note"] as? String, "NO CONSUMER")
        XCTAssertNil(rows[p.stage("b")]?["oldestMessageAgeSeconds"] as Any?, "nobody can tell the age of a quorum queue nobody consumes")
        XCTAssertEqual(rows[p.stage("b") + ".dlq"]?["oldestMessageAgeSeconds"] as Any? as? Int, nil)

        // Reading the parking lot leaves it as it was, and a human table is the default.
        let parked = try await p.depth(p.stage("a") + ".dlq")
        XCTAssertEqual(parked, 2)
        let table = try await bridgectl(["status", "--topology", p.topologyFile, "--management-url", p.broker.managementURL,
                                   "--amqp-url", p.broker.amqpURL, "--metrics-url", "http://127.0.0.1:\(port)/metrics"])
        XCTAssertTrue(table.contains("OLDEST") && table.contains("2h00m") && table.contains("DEAD LETTERS") && table.contains("NO CONSUMER"), table)

        // Without a source for the workers' figure, the work queue's age is unknown and says what to pass.
        let blind = try await status(p, [])
        XCTAssertNil(blind[p.stage("a")]?["oldestMessageAgeSeconds"] as Any? as? Int)
        XCTAssertEqual(blind[p.stage("a")]?["note"] as? String, "age: pass --metrics-url or --prometheus-url")
        _ = worker
    }

    /// The console's user reads the parking lots, replays to the work queues, and publishes releases
    /// and audit notices; it cannot consume a work queue, publish alerts or declare anything.
    func testConsoleUserMayDoWhatTheConsoleDoesAndNothingElse() async throws {
        let p = try await TestPipeline.make(stages: ["a"])
        let name = "console-\(p.prefix)", password = "pw-\(UUID().uuidString)"
        // The file has no users; `--console-user` adds the console's, with permissions derived from the stages.
        let applied = try await bridgectl(["topology", "apply", "--topology", p.topologyFile, "--management-url", p.broker.managementURL,
                                     "--console-user", name, "--json"],
                                    environment: ["BRIDGE_PASSWORD_" + name.uppercased().replacingOccurrences(of: "-", with: "_"): password])
        XCTAssertTrue(applied.contains("\"passwordsSet\" : 1"), applied)
        let definitions = try await p.broker.management().definitions()
        let permission = try XCTUnwrap(definitions.permissions.first { $0.user == name })
        XCTAssertEqual(permission.configure, "^$")
        XCTAssertEqual(permission.read, "^(\(p.prefix)\\.a\\.dlq)$")
        XCTAssertEqual(definitions.users.first { $0.name == name }?.tags, ["monitoring"])

        let admin = try await p.broker.session("parker")
        try await admin.publish([p.message("{}", key: p.stage("a") + ".dlq", idempotencyKey: "parked-1")
            .withExchange("")])
        await admin.close()
        try await eventually("parked") { try await p.depth(p.stage("a") + ".dlq") == 1 }

        let url = p.broker.amqpURL.replacingOccurrences(of: "bridge:bridge@", with: "\(name):\(password)@")
        func asConsole() async throws -> AMQPSession {
            try await AMQPSession.connect(url: try AMQPURL(url), name: "console-user-test", logger: p.broker.logger)
        }
        // Allowed: list and replay the parking lot (read the dlq, publish through the default exchange).
        var session = try await asConsole()
        let listed = try await DeadLetterChannel(stage: p.stage("a")).list(session: session, limit: 10)
        XCTAssertEqual(listed.count, 1)
        let replayed = try await DeadLetterChannel(stage: p.stage("a")).replay(session: session, actor: "test")
        XCTAssertEqual(replayed, 1)
        await session.close()
        try await eventually("replayed into the work queue") { try await p.depth(p.stage("a")) == 1 }
        // Allowed with the management API's `monitoring` tag: queue statistics for the pipeline page.
        let stats = try await ManagementClient(url: p.broker.managementURL.replacingOccurrences(of: "bridge:bridge@", with: "\(name):\(password)@")).queues()
        XCTAssertTrue(stats.contains { $0.name == p.stage("a") })

        // Refused: consuming a work queue, publishing an alert, declaring a queue.
        session = try await asConsole()
        await assertRefused("basic.get on a work queue") {
            _ = try await session.perform { try $0.get(channel: 3, queue: p.stage("a"), generation: 0) }
        }
        await session.close()
        session = try await asConsole()
        await assertRefused("publishing to the alerts exchange") {
            try await session.publish([p.message("{}", key: "alert.x", idempotencyKey: "x").withExchange(p.alerts)])
        }
        await session.close()
        session = try await asConsole()
        await assertRefused("declaring a queue") {
            try await session.perform { _ = try $0.declareQueue(channel: 3, name: "\(p.prefix).console-made", durable: false, autoDelete: true, arguments: [:]) }
        }
        await session.close()
        let stillThere = try await p.depth(p.stage("a"))
        XCTAssertEqual(stillThere, 1, "the refused get took nothing")
    }

    // MARK: helpers

    private func assertRefused(_ what: String, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async {
        do {
            try await body()
            XCTFail("\(what) was allowed", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".contains("403") || "\(error)".uppercased().contains("ACCESS_REFUSED"), "\(what): \(error)", file: file, line: line)
        }
    }

    /// `bridgectl status --json` as rows by queue name.
    private func status(_ p: TestPipeline, _ extra: [String]) async throws -> [String: [String: Any]] {
        let output = try await bridgectl(["status", "--json", "--topology", p.topologyFile, "--management-url", p.broker.managementURL,
                                    "--amqp-url", p.broker.amqpURL] + extra)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]], output)
        return Dictionary(rows.compactMap { row in (row["queue"] as? String).map { ($0, row) } }, uniquingKeysWith: { first, _ in first })
    }

    private func bridgectl(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let result = try await ChildProcess.run(WorkerProcess.binDirectory().appendingPathComponent("bridgectl"), arguments, environment: environment,
                                                unsetting: ["BRIDGE_METRICS_URLS", "BRIDGE_PROMETHEUS_URL"])
        guard result.succeeded else {
            throw NSError(domain: "bridgectl", code: Int(result.status),
                          userInfo: [NSLocalizedDescriptionKey: "bridgectl \(arguments.joined(separator: " ")) failed: \(result.output) \(result.error)"])
        }
        return result.output
    }
}

private extension OutgoingMessage {
    func withExchange(_ exchange: String) -> OutgoingMessage {
        OutgoingMessage(exchange: exchange, routingKey: routingKey, properties: properties, body: body)
    }
}
