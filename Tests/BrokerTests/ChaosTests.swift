import AMQP
import Accounting
import Alerter
import BookOracle
import BridgeClock
import Foundation
import HeartlandIngest
import HeartlandSimulator
import Messaging
import SageConnector
import TestPrograms
import XCTest

/// Issue 13's day, as a new user tried it: a generated multi-store day through the whole bridge (every
/// part a process, heartland-ingest's customer sync poller included) with every
/// webhook delivered twice, while Sage answers 20 % 5xx, a 429 burst and 30 s
/// of downtime, every stage is SIGKILLed once mid-flow and started again, and the RabbitMQ node is
/// stopped and started while messages wait in every delay tier of every stage. Then every journal is in
/// Sage exactly once, Sage's books equal the oracle's, every batch reconciles, every Heartland customer is in
/// Sage, nothing is left in any queue, and every worker reconnected by itself.
///
/// Probes make "every delay tier" certain: before the node stops, the test puts copies of the day's real
/// payroll work, each renamed to a pay run of its own, into every tier of the transformer, the fraud
/// scorer and the loader (each must become one journal in Sage), and audit notices into the alerter's
/// (each must reach the audit trail). The node stays down until every tier of up to 10 s has expired,
/// which is where classic tiers dropped messages.
///
/// `scripts/chaos` runs it at other sizes: BRIDGE_CHAOS_STORES, BRIDGE_CHAOS_TICKETS; BRIDGE_CHAOS_TOPOLOGY=classic
/// runs it on the classic delay tiers of earlier releases (it fails there; the counts say how);
/// BRIDGE_CHAOS_REPORT=FILE writes the summary line to FILE too.
final class ChaosTests: XCTestCase {
    /// A fixed business day in the past: never "today" or "yesterday" at a US store, whatever the hour.
    static let day = "2026-11-10"
    /// Short tiers so that the test takes minutes; the retry budget (how long a failing message is retried)
    /// is longer than the whole scenario, as the standard tiers' 35 minutes are in production.
    static let tiers: [Duration] = [.seconds(1), .seconds(3), .seconds(10), .seconds(40)]
    static let probesPerTier = 2

    func testEveryJournalOnceThroughSageFaultsCrashedStagesAndABrokerRestart() async throws {
        let environment = ProcessInfo.processInfo.environment
        let stores = environment["BRIDGE_CHAOS_STORES"].flatMap(Int.init) ?? 3
        let tickets = environment["BRIDGE_CHAOS_TICKETS"].flatMap(Int.init) ?? 40
        let classic = environment["BRIDGE_CHAOS_TOPOLOGY"] == "classic"
        // A node of its own: the test stops it.
        let broker = try await TestBroker.start(name: "chaos-\(ProcessInfo.processInfo.processIdentifier)")
        // BRIDGE_CHAOS_KEEP_NODE=1 leaves the node running for a look at it afterwards.
        let keep = environment["BRIDGE_CHAOS_KEEP_NODE"] == "1"
        do {
            try await run(broker: broker, stores: stores, tickets: tickets, classic: classic)
        } catch {
            if !keep { await broker.destroy() }
            throw error
        }
        if !keep { await broker.destroy() }
    }

    private func run(broker: TestBroker, stores: Int, tickets: Int, classic: Bool) async throws {
        let clock = ContinuousClock()
        let begin = clock.now
        let flow = try await BridgeFlow.start(
            loaders: 2, retryDelays: Self.tiers, broker: broker,
            adjustTopology: { topology in if classic { Self.makeTiersClassic(&topology) } },
            stageArguments: ["--retry-budget-seconds", "900"])
        let tap = try await Tap(broker: broker)
        let fixture = try StoreDayFixture.decode(try await flow.startHeartland(stores: stores, day: Self.day, tickets: tickets,
                                                                                 duplicateRate: 1, pollSeconds: 0))
        let payRun = try XCTUnwrap(fixture.payRuns.first)
        var timeline = Timeline(begin: begin)

        // Sage misbehaves from the start: one request in five answers 503, and the next ten answer 429 (Retry-After 3).
        try await flow.sageFaults(#"{"error_rate": 0.2, "rate_limit_burst": 10, "retry_after_seconds": 3}"#)
        try await flow.closeBatches()
        try await flow.heartlandAdmin("POST", "admin/pay_runs/\(payRun.id)/complete", "{}")
        timeline.mark("batches closed, pay run completed")

        // Each stage is killed without warning once it has work in hand, and started again.
        let inbox = try IngestInbox(path: flow.inboxPath!)
        var stageRecovery: [(String, Duration)] = []
        func crash(_ name: String, when what: String, _ condition: () async throws -> Bool) async throws {
            try await eventually(timeout: .seconds(120), what, condition)
            flow.processes[name]!.signal(SIGKILL)
            _ = try await flow.processes[name]!.waitForExit()
            try flow.restart(name)
            let restarted = clock.now
            try await eventually(timeout: .seconds(60), "\(name) consumes again") { try await BridgeFlow.consumers(broker) == 5 }
            stageRecovery.append((name, clock.now - restarted))
            timeline.mark("\(name) SIGKILLed and restarted")
        }
        try await crash("transformer", when: "ingest published a first event") { try await inbox.entries().contains { $0.status == .published } }
        try await crash("fraud-scorer", when: "the transformer published a first document") { try await tap.count(exchange: "bridge.scoring") > 0 }
        try await crash("alerter", when: "the first audit notice is stored") { try await !OperationsStore(path: flow.operations).auditEvents().isEmpty }
        try await crash("sage-loader-1", when: "a first journal posted") { try await Self.posted(flow).count > 0 }

        // Sage goes down for 30 s (still 20 % 5xx around it) while the rest of the day waits in the loaders and their tiers.
        try await flow.sageFaults(#"{"error_rate": 0.2, "downtime_seconds": 30}"#)
        let sageDown = clock.now
        timeline.mark("Sage down for 30 s")

        // The real payroll messages, to copy into every tier as probes.
        let payrollKey = "heartland:pay_run:\(payRun.id)"
        try await eventually(timeout: .seconds(120), "the pay run's event, document and command seen") {
            for exchange in ["bridge.events", "bridge.scoring", "bridge.commands"] where try await tap.first(exchange: exchange, idempotencyKey: payrollKey) == nil {
                return false
            }
            return true
        }
        let probes = try await Probes(tap: tap, runID: payRun.id, idempotencyKey: payrollKey, tiers: Self.tiers, perTier: Self.probesPerTier)
        try await eventually(timeout: .seconds(60), "Sage's downtime has begun to fill the loader's tiers") {
            try await Self.waitingInTiers(broker, stage: "sage-loader") > 0 || clock.now - sageDown > .seconds(15)
        }
        try await probes.publish(on: broker)
        let injected = clock.now
        timeline.mark("probes in every tier (\(probes.journals.count) journals, \(probes.audits.count) audit notices)")

        // The node stops with messages in every tier, and starts again once every tier of up to 10 s has expired.
        try await broker.stopNode()
        let stopped = clock.now
        timeline.mark("broker stopped")
        try await eventually(timeout: .seconds(60), "the 1 s, 3 s and 10 s probes have expired while the node is down") {
            clock.now - injected > Self.tiers[2] + .seconds(1)
        }
        try await broker.startNode()
        let restarted = clock.now
        timeline.mark("broker started (down \(Self.seconds(restarted - stopped)))")
        try await eventually(timeout: .seconds(120), "every stage reconnected by itself") { try await BridgeFlow.consumers(broker) == 5 }
        let reconnected = clock.now - restarted
        timeline.mark("every stage consuming again")

        // What must be in Sage: each batch's journal, each card refund on its own, the payroll journal, every probe.
        let journals = try await Self.expectedJournals(flow, fixture: fixture, payRun: payRun.id)
        XCTAssertEqual(journals.batches.count, stores)
        let natural = journals.all
        let expected = natural + probes.journals

        // Settled: every expected journal posted (read from the audit trail: requests of the test's own would
        // meet Sage's faults), every probe notice stored, every queue empty; or the deadline.
        // Sage keeps failing (faults on) until the end, so on a loaded machine the last journals take several rounds of
        // the 40 s tier and of the loader's 35 s wait for a post in doubt. Under `stress-ng --cpu 2` the last three probes
        // reached Sage 229 s after the broker came back, 29 s after the earlier 200 s deadline (one run in three failed so).
        var firstSeen: [String: ContinuousClock.Instant] = [:]
        let deadline = clock.now + .seconds(480)
        var settled = false
        while clock.now < deadline {
            let posted = try await Self.posted(flow)
            for reference in expected where firstSeen[reference] == nil && posted.contains(reference) { firstSeen[reference] = clock.now }
            if firstSeen.count == expected.count, try await Self.auditProbesStored(flow, probes), try await Self.allQueuesEmpty(flow) {
                settled = true
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let sageBack = sageDown + .seconds(30)
        let lastNatural = natural.compactMap { firstSeen[$0] }.max()
        timeline.mark(settled ? "settled" : "deadline")
        try await flow.sageFaults(nil)

        // Counted in Sage itself, faults cleared.
        var lost: [String] = [], duplicated: [String] = []
        for reference in expected {
            let entries = try await flow.sageEntries(reference: reference)
            if entries == 0 { lost.append(reference) } else if entries > 1 { duplicated.append(reference) }
        }
        let lateAfter = max(restarted, sageBack) + .seconds(90)
        let late = firstSeen.filter { $0.value > lateAfter }.map(\.key)
        let recovery = stageRecovery.map { "\($0.0) \(Self.seconds($0.1))" }.joined(separator: ", ")
        let lastDayJournal = lastNatural.map { Self.seconds($0 - sageBack) } ?? "never"
        var summary = "chaos: topology=\(classic ? "classic" : "quorum") stores=\(stores) tickets=\(tickets) "
        summary += "journals=\(expected.count) (day \(natural.count), probes \(probes.journals.count)) "
        summary += "lost=\(lost.count) duplicated=\(duplicated.count) late=\(late.count) | recovery: \(recovery)"
        summary += ", broker down \(Self.seconds(restarted - stopped)), stages reconnected \(Self.seconds(reconnected)) after it"
        summary += ", last day journal \(lastDayJournal) after Sage came back, total \(Self.seconds(clock.now - begin))"
        print(summary)
        print(timeline.lines.joined(separator: "\n"))
        if let file = ProcessInfo.processInfo.environment["BRIDGE_CHAOS_REPORT"] {
            try (summary + "\n" + (lost.isEmpty ? "" : "lost: \(lost.joined(separator: " "))\n")
                 + (duplicated.isEmpty ? "" : "duplicated: \(duplicated.joined(separator: " "))\n")
                 + timeline.lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(lost, [], "never reached Sage")
        XCTAssertEqual(duplicated, [], "reached Sage more than once")
        let probesStored = try await Self.auditProbesStored(flow, probes), leftIn = try await Self.nonEmptyQueues(flow)
        var queueDetails = ""
        if !leftIn.isEmpty {
            queueDetails = (try? await RabbitMQNode.run(["ctl", broker.directory, "list_queues", "name", "type", "messages", "messages_ready",
                                                      "messages_unacknowledged", "consumers"])) ?? ""
        }
        XCTAssertTrue(settled, "the pipeline did not settle: audit probes stored: \(probesStored), messages left in \(leftIn)\n\(queueDetails)")

        try await Self.checkBooks(flow, fixture: fixture, journals)
        // Every Heartland customer reached Sage: the customer sync poller ran through the same faults (Sage's customer number
        // is its key, so none can be there twice).
        let sageCustomers = Set(try await SageMasterDataClient(connection: flow.sage.connection, logger: broker.logger).customers(changedSince: nil)
            .map(\.CustomerNumber))
        XCTAssertFalse(fixture.customers.isEmpty)
        let missing = fixture.customers.filter { !sageCustomers.contains($0.publicId.uppercased()) }
        let auditTrail = missing.isEmpty ? [] : try await OperationsStore(path: flow.operations).auditEvents()
        for customer in missing {
            // What the bridge did with it, for a failure in CI (where the processes' log files are not kept).
            let key = "heartland:customer:\(customer.id):"
            let lines = flow.processes.sorted { $0.key < $1.key }.flatMap { name, process in
                process.log.split(separator: "\n").filter { $0.contains(key) }.suffix(6).map { "  \(name): \($0)" }
            }
            let audit = auditTrail.filter { $0.detail.contains(customer.publicId) }
            print("customer \(customer.publicId) not in Sage; the workers' last lines about it:\n\(lines.joined(separator: "\n"))\n"
                + "its audit events: \(audit.map { "\($0.event) \($0.stage): \($0.detail)" })")
        }
        XCTAssertEqual(missing.map(\.publicId), [], "Heartland customers not in Sage")
        for (name, process) in flow.processes.sorted(by: { $0.key < $1.key }) {
            XCTAssertTrue(process.isRunning, "\(name) is still running (reconnected by itself)")
        }
        await tap.close()
    }

    // MARK: the scenario's parts

    /// The journals a store day of `day` must leave in Sage: each closed batch's, each card refund on its own, the pay run's.
    struct DayJournals {
        var batches: [(id: String, store: String)]
        var batchReferences: [String]
        var refundReferences: [String]
        var payroll: String
        var all: [String] { batchReferences + refundReferences + [payroll] }
    }

    static func expectedJournals(_ flow: BridgeFlow, fixture: StoreDayFixture, payRun: String) async throws -> DayJournals {
        let batches = try await flow.closedBatches(day: day)
        let compact = day.replacingOccurrences(of: "-", with: "")
        return DayJournals(batches: batches, batchReferences: batches.map { "HL-\($0.store)-\(compact)-\($0.id)" },
                           refundReferences: cardRefunds(fixture).map { "HL-\($0.store)-\(compact)-R\($0.ticket)" },
                           payroll: "HL-PAY-\(payRun)")
    }

    /// Sage's books for each store day equal the oracle's, and each batch reconciles (matched) with its refunds.
    static func checkBooks(_ flow: BridgeFlow, fixture: StoreDayFixture, _ journals: DayJournals,
                           file: StaticString = #filePath, line: UInt = #line) async throws {
        let reports = try await OperationsStore(path: flow.operations).reconciliations(businessDate: day)
        for (batch, reference) in zip(journals.batches, journals.batchReferences) {
            var held: [String: Int64] = [:]
            let refunds = journals.refundReferences.filter { $0.hasPrefix("HL-\(batch.store)-") }
            for posted in [reference] + refunds {
                for (account, cents) in try await flow.sage.findJournal(reference: posted)?.netByAccount ?? [:] { held[account, default: 0] += cents }
            }
            let location = try XCTUnwrap(fixture.locations.first { $0.publicId == batch.store }, file: file, line: line).id
            XCTAssertEqual(held.filter { $0.value != 0 }, ExpectedBooks.settlement(fixture: fixture, locationID: location, businessDay: day),
                           "\(reference): Sage against the oracle", file: file, line: line)
            let report = reports.first { $0.reference == reference }
            XCTAssertEqual(report?.status, .matched, "\(reference) reconciled with its refunds: \(String(describing: report?.status))",
                           file: file, line: line)
            XCTAssertEqual(Set(report?.refunds?.map(\.reference) ?? []), Set(refunds), "\(reference): the refunds its reconciliation counts",
                           file: file, line: line)
        }
    }

    /// An earlier release's delay tiers: classic queues, dead-lettered at most once.
    static func makeTiersClassic(_ topology: inout Topology) {
        for index in topology.queues.indices where topology.queues[index].name.contains(".\(RetryTier.infix).") {
            for argument in ["x-queue-type", "x-dead-letter-strategy", "x-overflow"] { topology.queues[index].arguments[argument] = nil }
        }
    }

    /// The test's own reading of ACCOUNTING.md/README: a completed ticket that only gives merchandise back and
    /// refunds at least part to a card is posted on its own as `HL-<store>-<yyyymmdd>-R<ticket id>`.
    static func cardRefunds(_ fixture: StoreDayFixture) -> [(store: String, ticket: Int64)] {
        let stores = Dictionary(fixture.locations.map { ($0.id, $0.publicId) }, uniquingKeysWith: { first, _ in first })
        return fixture.tickets.filter { ticket in
            ticket.status == "complete" && ticket.businessDay == day && !ticket.payments.isEmpty
                && ticket.payments.allSatisfy { $0.amountCents <= 0 }
                && ticket.payments.contains { $0.paymentType == TicketPayment.card && $0.amountCents < 0 && $0.gatewayTransactionId != nil }
                && ticket.lines.allSatisfy { line in
                    switch line.type {
                    case TicketLine.item: return line.qty < 0
                    case TicketLine.tax: return line.valueCents <= 0
                    case TicketLine.discount: return line.valueCents >= 0
                    default: return false
                    }
                }
        }.compactMap { ticket in stores[ticket.locationId].map { ($0, ticket.id) } }
    }

    /// References with a `posted` audit in the alerter's store.
    static func posted(_ flow: BridgeFlow) async throws -> Set<String> {
        Set(try await OperationsStore(path: flow.operations).auditEvents().filter { $0.event == "posted" }
            .compactMap { $0.detail.split(separator: " ").first.map(String.init) })
    }

    static func auditProbesStored(_ flow: BridgeFlow, _ probes: Probes) async throws -> Bool {
        let details = Set(try await OperationsStore(path: flow.operations).auditEvents().filter { $0.event == "chaos_probe" }.map(\.detail))
        return details.isSuperset(of: probes.audits)
    }

    static func waitingInTiers(_ broker: TestBroker, stage: String) async throws -> Int {
        var total = 0
        for delay in tiers { total += try await broker.depth(RetryTier(stage: stage, delay: delay).queue) }
        return total
    }

    static func queues(_ flow: BridgeFlow) throws -> [String] {
        let standard = try Topology.load(from: repositoryRoot.appendingPathComponent("Topology/definitions.json").path).queues.map(\.name)
        // The stages' own tiers (declared by the stages as they start; heartland-loader is not part of the flow).
        let stages = try Topology.load(from: flow.topology).queues.map(\.name).filter { !$0.hasPrefix("heartland-loader.") }
        return standard + stages.filter { !standard.contains($0) }
    }

    static func nonEmptyQueues(_ flow: BridgeFlow) async throws -> [String] {
        let session = try await flow.broker.session("chaos-depths")
        let names = try queues(flow)
        let counts = try await session.perform { connection in
            try names.map { ($0, try connection.declareQueue(channel: 3, name: $0, passive: true)) }
        }
        await session.close()
        // Ready or delivered and not yet acked (a passive declare counts only the ready ones; the management API the rest).
        let unacked = Dictionary(try await flow.broker.management().queues().map { ($0.name, $0.messagesUnacknowledged) },
                                 uniquingKeysWith: { first, _ in first })
        return counts.filter { $0.1.messages > 0 || (unacked[$0.0] ?? 0) > 0 }.map(\.0)
    }

    /// Empty by the quick counts, then by the queues' own (the quick ones miss a message delivered since the last sample:
    /// in CI this test once called the day settled with a customer not yet in Sage, most likely its command in a
    /// loader's hands on its way back from the 40 s tier).
    static func allQueuesEmpty(_ flow: BridgeFlow) async throws -> Bool {
        guard try await nonEmptyQueues(flow).isEmpty else { return false }
        return try await flow.broker.holdNothing(try queues(flow))
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1fs", Double(duration.milliseconds) / 1000)
    }

    struct Timeline {
        let begin: ContinuousClock.Instant
        var lines: [String] = []
        mutating func mark(_ what: String) {
            lines.append("  +\(ChaosTests.seconds(ContinuousClock.now - begin)) \(what)")
            print("chaos \(lines.last!)")
        }
    }
}

/// A copy of what the stages publish to the pipeline's exchanges, for the test to take real messages from.
actor Tap {
    let broker: TestBroker
    let queue = "chaos.tap"
    private var seen: [Delivery] = []

    init(broker: TestBroker) async throws {
        self.broker = broker
        let session = try await broker.session("tap")
        let queue = self.queue
        try await session.perform { connection in
            _ = try connection.declareQueue(channel: 3, name: queue, durable: false, autoDelete: false, arguments: [:])
            for (exchange, key) in [("bridge.events", "heartland.payroll.#"), ("bridge.scoring", "#"), ("bridge.commands", "sage.#")] {
                try connection.bindQueue(channel: 3, queue: queue, exchange: exchange, routingKey: key, arguments: [:])
            }
        }
        await session.close()
    }

    /// Takes what has arrived since the last look.
    private func drain() async throws { seen += try await broker.take(queue) }

    func count(exchange: String) async throws -> Int {
        try await drain()
        return seen.filter { $0.exchange == exchange }.count
    }

    func first(exchange: String, idempotencyKey: String) async throws -> Delivery? {
        try await drain()
        return seen.first { $0.exchange == exchange && $0.properties.headers[Header.idempotencyKey]?.stringValue == idempotencyKey }
    }

    func close() async {
        guard let session = try? await broker.session("tap") else { return }
        let queue = self.queue
        _ = try? await session.perform { connection in try connection.deleteQueue(channel: 3, name: queue) }
        await session.close()
    }
}

/// Real work placed in every delay tier: copies of the pay run's event (transformer), document (fraud
/// scorer) and command (sage-loader), each renamed to a pay run of its own so that each must become one
/// journal `HL-PAY-<run>` in Sage; and audit notices for the alerter's tiers.
struct Probes {
    var messages: [OutgoingMessage] = []
    var journals: [String] = []
    var audits: Set<String> = []

    init(tap: Tap, runID: String, idempotencyKey: String, tiers: [Duration], perTier: Int) async throws {
        let sources = [("transformer", "bridge.events", "T"), ("fraud-scorer", "bridge.scoring", "F"), ("sage-loader", "bridge.commands", "L")]
        let now = ISO8601DateFormatter().string(from: Date())
        for (stage, exchange, code) in sources {
            let seen = try await tap.first(exchange: exchange, idempotencyKey: idempotencyKey)
            let original = try XCTUnwrap(seen)
            let body = String(decoding: original.body, as: UTF8.self)
            for delay in tiers {
                for n in 0..<perTier {
                    let run = "\(runID)\(code)\(RetryTier.label(delay))\(n)"
                    var properties = original.properties
                    properties.messageID = MessageID.random()
                    properties.headers[Header.idempotencyKey] = .string(idempotencyKey.replacingOccurrences(of: runID, with: run))
                    properties.headers[Header.attempt] = .int(2)
                    properties.headers[Header.firstFailedAt] = .string(now)
                    properties.headers[Header.failedStage] = .string(stage)
                    messages.append(OutgoingMessage(exchange: "", routingKey: RetryTier(stage: stage, delay: delay).queue, properties: properties,
                                                    body: Array(body.replacingOccurrences(of: runID, with: run).utf8)))
                    journals.append("HL-PAY-\(run)")
                }
            }
        }
        for delay in tiers {
            for n in 0..<perTier {
                let detail = "probe in alerter's \(RetryTier.label(delay)) tier #\(n) \(MessageID.random())"
                var probe = AuditNotice(event: .posted, stage: "chaos", detail: detail)
                probe.event = "chaos_probe"  // an event no stage writes: the alerter stores it like any other
                let notice = try OutboundMessage(exchange: "", routingKey: "audit.chaos_probe.chaos", json: probe)
                var message = notice.amqpMessage(correlationID: "chaos", messageID: MessageID.random(), traceparent: nil)
                message.routingKey = RetryTier(stage: "alerter", delay: delay).queue
                message.properties.headers[Header.attempt] = .int(2)
                message.properties.headers[Header.firstFailedAt] = .string(now)
                message.properties.headers[Header.failedStage] = .string("alerter")
                messages.append(message)
                audits.insert(detail)
            }
        }
    }

    func publish(on broker: TestBroker) async throws {
        let session = try await broker.session("probes")
        try await session.publish(messages)
        await session.close()
    }
}
