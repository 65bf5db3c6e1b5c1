import AMQP
import Accounting
import Alerter
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Messaging
import PipelineContracts
import SageConnector
import TestPrograms
import XCTest

/// transformer → fraud-scorer → sage-loader → alerter as processes on the bridge's own topology, posting
/// into sage-pro-sim: a closed batch becomes one journal in Sage, a duplicate event posts nothing more,
/// and the reconciliation is in the operations store for `bridgectl report reconciliation`.
final class SettlementFlowTests: XCTestCase {
    func testClosedBatchIsPostedToSageOnceThroughTheStages() async throws {
        let flow = try await BridgeFlow.start()
        let reference = try await flow.publishClosedBatch(times: 2)  // the second is a duplicate webhook: must not post twice
        var posted: SagePostedJournal?
        try await eventually("the journal is in Sage") {
            posted = try await flow.sage.findJournal(reference: reference)
            return posted != nil
        }
        // By hand: card 21.60 (Visa, incl. 1.00 tip) and cash 10.80 in; revenue 30.00, tax 1.40, tips 1.00 out.
        XCTAssertEqual(posted?.netByAccount, ["1210": 2160, "1100": 1080, "4000": -3000, "2200": -140, "2210": -100])
        let loaderLedger = try IdempotencyStore(path: flow.folder.appendingPathComponent("ledger-1.sqlite").path)
        try await eventually("the duplicate has been seen and skipped") {
            let count = try await loaderLedger.count()
            return try await flow.depth("sage-loader") == 0 && count == 1
        }
        let parked = try await flow.depth("sage-loader.dlq")
        XCTAssertEqual(parked, 0, "a duplicate is skipped, never parked (even when both copies are handled at once)")
        // `bridgectl trace` shows the event's hops: each stage once, and the duplicate skipped.
        let store = reference.split(separator: "-").dropFirst().prefix(3).joined(separator: "-")  // HL-<S-E2E-n>-date-batch
        try await eventually("the trace shows every hop") {
            let trace = try WorkerProcess.start(executable: "bridgectl", arguments: [
                "trace", "e2e-\(store)", "--store", flow.folder.appendingPathComponent("traces.sqlite").path])
            guard try await trace.waitForExit() == 0 else { return false }
            let log = trace.log
            return ["transformer", "fraud-scorer", "sage-loader"].allSatisfy { log.contains($0) } && log.contains("duplicate")
                && log.contains("published")
        }
        // The reconciliation reached the alerter's store and the report shows it matched.
        try await eventually("the reconciliation is reported") {
            let report = try WorkerProcess.start(executable: "bridgectl", arguments: [
                "report", "reconciliation", "--date", "2026-11-26", "--format", "csv", "--store", flow.operations])
            return try await report.waitForExit() == 0 && report.log.contains(reference) && report.log.contains("matched")
        }
    }

    /// Six copies of one batch (duplicate webhooks, a redelivery) spread round-robin over two sage-loader
    /// processes with separate ledgers, handled at the same moment: Sage holds the journal once (a loader
    /// that loses the race gets Sage's 409 for the reference), the other five are skipped as
    /// duplicates, none is parked.
    func testDuplicatesAcrossTwoLoaderProcessesPostOnce() async throws {
        let flow = try await BridgeFlow.start(loaders: 2)
        let reference = try await flow.publishClosedBatch(times: 6)
        let logs = { ["sage-loader-1", "sage-loader-2"].map { flow.processes[$0]!.log } }
        try await eventually("five copies skipped as duplicates") {
            logs().map { $0.components(separatedBy: "duplicate skipped").count - 1 }.reduce(0, +) == 5
        }
        let entries = try await flow.sageEntries(reference: reference)
        XCTAssertEqual(entries, 1)
        XCTAssertEqual(logs().map { $0.contains(reference) }, [true, true], "both loaders had copies")
        // The copies share a message id, so their audit notices do too: the alerter stores the notice once.
        try await eventually("the duplicate is in the audit trail") {
            try await OperationsStore(path: flow.operations).auditEvents().contains { $0.event == "duplicate_skipped" }
        }
        let parked = try await flow.depth("sage-loader.dlq")
        XCTAssertEqual(parked, 0)
    }

    /// The seed's error case: the mapping names a GL account Sage does not have. Nothing is posted, the
    /// journal waits in sage-loader.dlq, an alert names the account and the rule; once the account
    /// exists, `bridgectl dlq replay sage-loader` posts it.
    func testMissingGLAccountIsParkedAlertedAndPostedAfterReplay() async throws {
        let mapping = try String(contentsOf: repositoryRoot.appendingPathComponent("Config/mapping.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "\"4000\"", with: "\"4010\"")
        let variant = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-4010-\(UUID().uuidString).yaml")
        try mapping.write(to: variant, atomically: true, encoding: .utf8)
        let flow = try await BridgeFlow.start(mapping: variant.path)
        let reference = try await flow.publishClosedBatch()

        try await eventually("the journal is parked") { try await flow.depth("sage-loader.dlq") == 1 }
        let nothing = try await flow.sage.findJournal(reference: reference)
        XCTAssertNil(nothing, "nothing posted")
        try await eventually("the alert names the account and the rule") {
            let alerts = try await OperationsStore(path: flow.operations).alertGroups().map(\.reason)
            return alerts.contains { $0.contains("GL account 4010 (mapping rule sales.revenue) does not exist in Sage company SAMINC") }
        }

        try await flow.createAccount("4010")
        let replay = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "replay", "sage-loader", "--amqp-url", flow.broker.amqpURL])
        let replayStatus = try await replay.waitForExit()
        XCTAssertEqual(replayStatus, 0, replay.log)
        XCTAssertTrue(replay.log.contains("replayed 1 message(s)"), replay.log)
        var posted: SagePostedJournal?
        try await eventually("posted after the replay") {
            posted = try await flow.sage.findJournal(reference: reference)
            return posted != nil
        }
        XCTAssertEqual(posted?.netByAccount["4010"], -3000)
    }

    /// The seed's error case "invalid data format from Heartland": a ticket amount written "$21.60", a
    /// GP-API amount sent as a number instead of a string, and brands spelled "visa credit" and
    /// "VISA DEBIT" are repaired and posted; a ticket paid in a tender
    /// nobody maps is dead-lettered at the transformer with a reason that names the record and field,
    /// and an alert says the same.
    func testInvalidHeartlandDataIsRepairedOrSetAsideWithTheReasonAndPostedOnceCorrected() async throws {
        let flow = try await BridgeFlow.start()
        let messyBatch = Self.batch.replacingOccurrences(of: #""amount": "2160""#, with: #""amount": 2160"#)
            .replacingOccurrences(of: #""brand": "VISA""#, with: #""brand": "visa credit""#)
        let messyTickets = Self.tickets.replacingOccurrences(of: #""amount": "21.60""#, with: #""amount": "$21.60""#)
            .replacingOccurrences(of: #""card_type": "Visa""#, with: #""card_type": "VISA DEBIT""#)
        let repaired = try await flow.publishClosedBatch(batch: messyBatch, tickets: messyTickets)
        var posted: SagePostedJournal?
        try await eventually("the repaired batch is posted") {
            posted = try await flow.sage.findJournal(reference: repaired)
            return posted != nil
        }
        XCTAssertEqual(posted?.netByAccount, ["1210": 2160, "1100": 1080, "4000": -3000, "2200": -140, "2210": -100])

        // A ticket that cannot be repaired is set aside on its own (issue 14): the rest of the batch posts, an alert names
        // store, ticket and field, the batch's reconciliation is incomplete and names it, and once corrected it posts in a
        // supplementary journal that completes the batch.
        let broken = Self.tickets.replacingOccurrences(of: #""payment_type": "Cash""#, with: #""payment_type": "Barter""#)
        let store = "S-E2E-\(UInt32.random(in: 0...UInt32.max))"
        let partial = try await flow.publishClosedBatch(tickets: broken, store: store)
        try await eventually("the rest of the batch is posted") { try await flow.sage.findJournal(reference: partial) != nil }
        let rest = try await flow.sage.findJournal(reference: partial)
        XCTAssertEqual(rest?.netByAccount, ["1210": 2160, "4000": -2000, "2200": -60, "2210": -100])
        try await eventually("an alert names store, ticket and field") {
            try await OperationsStore(path: flow.operations).alertGroups().contains {
                $0.stage == "transformer" && $0.reason.contains("store \(store)") && $0.reason.contains("E2E-2")
                    && $0.reason.contains("payments[0].payment_type") && $0.reason.contains("Barter")
            }
        }
        try await eventually("the ticket is in the quarantine") {
            try await OperationsStore(path: flow.operations).quarantined(status: .held).contains { $0.document.storeID == store && $0.document.documentID == "2" }
        }
        try await eventually("the batch's reconciliation is incomplete and names the ticket") {
            try await OperationsStore(path: flow.operations).reconciliations().contains {
                $0.reference == partial && $0.status == .incomplete && ($0.reason ?? "").contains("E2E-2")
            }
        }
        let parked = try await flow.depth("transformer.dlq")
        XCTAssertEqual(parked, 0, "nothing of the batch is dead-lettered")

        // Corrected at the source, as `bridgectl quarantine replay` sends it.
        let corrected = TicketCorrectedEvent(store: .init(id: store, timeZone: "America/Chicago", currency: "USD"), documentId: "2", locationId: nil,
                                             batchId: partial.components(separatedBy: "-").last, batchReference: partial,
                                             ticket: RawJSON(Data(Self.tickets.utf8)).ticketRecord(id: 2))
        let session = try await flow.broker.session()
        try await session.publish([OutgoingMessage(exchange: "bridge.events", routingKey: TicketCorrectedEvent.routingKey, properties: MessageProperties(
            messageID: MessageID.random(), correlationID: "e2e-\(store)", type: TicketCorrectedEvent.routingKey,
            headers: [Header.idempotencyKey: .string(corrected.idempotencyKey)]), body: Array(try JSONEncoder().encode(corrected)))])
        await session.close()
        try await eventually("the supplementary journal completes the batch") {
            try await OperationsStore(path: flow.operations).reconciliations().contains { $0.reference == partial && $0.status == .matched }
        }
        let supplement = try await flow.sage.findJournal(reference: "\(partial)-T2")
        XCTAssertEqual(supplement?.netByAccount, ["1100": 1080, "4000": -1000, "2200": -80])
        let resolved = try await OperationsStore(path: flow.operations).quarantined().first { $0.document.storeID == store }
        XCTAssertEqual(resolved?.status, .posted)
        XCTAssertEqual(resolved?.resolvedReference, "\(partial)-T2")
    }

    /// The seed's error case "API rate limit exceeded": Sage answers 429 with Retry-After 1. A short burst
    /// pauses sage-loader for the Retry-After and the journals are posted (each failed message waits its
    /// retry tier) with no alert; when the 429s persist, an alert says the stage keeps pausing, and
    /// everything is posted once Sage accepts again.
    func testRateLimitPausesTheLoaderAndAlertsOnlyWhenItPersists() async throws {
        // Short delay tiers: with the standard ones, jitter can send a message to the 5-minute tier.
        let flow = try await BridgeFlow.start(loaderArguments: ["--pause-seconds", "0.2"], retryDelays: [.seconds(2), .seconds(4), .seconds(6), .seconds(8)])
        try await flow.sageFaults(#"{"rate_limit_burst": 2, "retry_after_seconds": 1}"#)
        // Progress is read from the alerter's store, not from Sage: a request of the test's own would use up the 429s.
        let reconciled = { @Sendable (references: [String]) async throws -> Bool in
            let done = Set(try await OperationsStore(path: flow.operations).reconciliations().filter { $0.status == .matched }.map(\.reference))
            return done.isSuperset(of: references)
        }
        // Two journals meet two 429s in a row: the circuit opens for Retry-After, both come back from a delay tier and post.
        let first = [try await flow.publishClosedBatch(), try await flow.publishClosedBatch()]
        try await eventually(timeout: .seconds(60), "posted after the burst") { try await reconciled(first) }
        XCTAssertTrue(flow.processes["sage-loader-1"]!.log.contains("circuit open"), "the stage paused")
        let loaderLog = flow.processes["sage-loader-1"]!.log
        XCTAssertTrue(loaderLog.contains("rate limit"), "the 429 was met and handled")
        let alertGroups = try await OperationsStore(path: flow.operations).alertGroups()
        XCTAssertFalse(alertGroups.contains { $0.stage == "sage-loader" },
                       "a short burst is not worth an alert")

        try await flow.sageFaults(#"{"rate_limit_burst": 100000, "retry_after_seconds": 1}"#)
        var waiting: [String] = []
        for _ in 0..<3 { waiting.append(try await flow.publishClosedBatch()) }
        try await eventually(timeout: .seconds(60), "an alert that sage-loader keeps pausing") {
            try await OperationsStore(path: flow.operations).alertGroups().contains {
                $0.stage == "sage-loader" && $0.kind == "target_failing" && $0.reason.contains("rate limit")
            }
        }
        try await flow.sageFaults(nil)
        try await eventually(timeout: .seconds(90), "all posted once Sage accepts again") { try await reconciled(waiting) }
        let parked = try await flow.depth("sage-loader.dlq")
        XCTAssertEqual(parked, 0)
    }

    static let batch = """
    {"id": "BAT_E2E", "batch_id": "BAT_E2E", "status": "CLOSED", "business_day": "2026-11-26", "currency": "USD",
     "sales": {"count": 1, "amount": "2160"}, "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "100", "fee_amount": "0",
     "brand_breakdown": [{"brand": "VISA", "count": 1, "amount": "2160", "sales": {"count": 1, "amount": "2160"},
       "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "100", "fee_amount": "0"}]}
    """
    static let tickets = """
    [{"id": 1, "public_id": "E2E-1", "status": "complete", "completed_at": "2026-11-26T18:00:00Z",
      "lines": [{"id": 11, "type": "ItemLine", "description": "Boots", "qty": 2, "unit_price": "10.00", "discount_amount": 0, "value": "20.00"},
                {"id": 12, "type": "TaxLine", "description": "Sales Tax", "qty": 1, "unit_price": "0.60", "discount_amount": 0, "value": "0.60"}],
      "payments": [{"id": 13, "payment_type": "Credit Card", "amount": "21.60", "tip_amount": "1.00", "card_type": "Visa"}]},
     {"id": 2, "public_id": "E2E-2", "status": "complete", "completed_at": "2026-11-26T19:00:00Z",
      "lines": [{"id": 21, "type": "ItemLine", "description": "Socks", "qty": 1, "unit_price": "10.00", "discount_amount": 0, "value": "10.00"},
                {"id": 22, "type": "TaxLine", "description": "Sales Tax", "qty": 1, "unit_price": "0.80", "discount_amount": 0, "value": "0.80"}],
      "payments": [{"id": 23, "payment_type": "Cash", "amount": "10.80", "tip_amount": 0}]}]
    """
}

extension BridgeFlow {
    /// Publishes a closed batch for a new store, as heartland-ingest would; returns the journal reference Sage will hold.
    func publishClosedBatch(times: Int = 1, batch: String = SettlementFlowTests.batch,
                            tickets: String = SettlementFlowTests.tickets, store: String? = nil) async throws -> String {
        let store = store ?? "S-E2E-\(UInt32.random(in: 0...UInt32.max))"
        let batchID = "BAT_\(UInt32.random(in: 0...UInt32.max))"  // batch ids are unique in Heartland: one batch, one journal
        let event = BatchClosedEvent(store: .init(id: store, timeZone: "America/Chicago", currency: "USD"), businessDate: "2026-11-26",
                                     batch: RawJSON(Data(batch.replacingOccurrences(of: "BAT_E2E", with: batchID).utf8)),
                                     tickets: RawJSON(Data(tickets.utf8)))
        let message = OutgoingMessage(exchange: "bridge.events", routingKey: BatchClosedEvent.routingKey, properties: MessageProperties(
            messageID: MessageID.random(), correlationID: "e2e-\(store)", type: BatchClosedEvent.routingKey,
            headers: [Header.idempotencyKey: .string(event.idempotencyKey)]), body: Array(try JSONEncoder().encode(event)))
        let session = try await broker.session()
        for _ in 0..<times { try await session.publish([message]) }
        await session.close()
        return "HL-\(store)-20261126-\(batchID)"
    }
}

extension RawJSON {
    /// One ticket of a JSON array of tickets, as Heartland serves a single record.
    func ticketRecord(id: Int) -> RawJSON {
        let all = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
        let one = all.first { ($0["id"] as? Int) == id } ?? [:]
        return RawJSON((try? JSONSerialization.data(withJSONObject: one)) ?? Data())
    }
}
