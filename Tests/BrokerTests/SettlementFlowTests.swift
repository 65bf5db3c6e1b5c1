import AMQP
import Alerter
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Messaging
import PipelineContracts
import SageConnector
import XCTest

/// transformer → fraud-scorer → sage-loader → alerter as processes on the bridge's own topology, posting
/// into sage-pro-sim: a closed batch becomes one journal in Sage, a duplicate event posts nothing more,
/// and the reconciliation is in the operations store for `bridgectl report reconciliation`.
final class SettlementFlowTests: XCTestCase {
    /// The four stages and sage-pro-sim as processes; `mapping` may be a variant of Config/mapping.yaml.
    struct Flow {
        let broker: TestBroker
        let folder: URL
        let sageURL: String
        let operations: String
        let processes: [WorkerProcess]
        var client: SageWebAPIClient {
            SageWebAPIClient(connection: SageConnection(server: URL(string: sageURL)!, company: "SAMINC",
                                                        credentials: SageCredentials(user: "ADMIN", password: "pw")), logger: broker.logger)
        }

        static func start(mapping: String = repositoryRoot.appendingPathComponent("Config/mapping.yaml").path) async throws -> Flow {
            let broker = TestBroker.shared
            let topology = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
            try await broker.management().importDefinitions(try Topology.load(from: topology))
            // The stages of an earlier test must be gone before this test's start.
            try await eventually("no stage consumers left from an earlier test") { try await consumers(broker) == 0 }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flow-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let sage = try WorkerProcess.start(executable: "sage-pro-sim", arguments: [
                "--port", "0", "--db", folder.appendingPathComponent("sage.sqlite").path, "--user", "ADMIN", "--password", "pw"])
            var sageURL = ""
            try await eventually("sage-pro-sim listens") {
                guard let line = sage.log.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) else { return false }
                sageURL = String(line.dropFirst("listening on ".count))
                return true
            }
            let common = ["--amqp-url", broker.amqpURL, "--topology", topology, "--log-level", "warning"]
            let operations = folder.appendingPathComponent("operations.sqlite").path
            let processes = [
                sage,
                try WorkerProcess.start(executable: "transformer", arguments: common + ["--mapping", mapping]),
                try WorkerProcess.start(executable: "fraud-scorer", arguments: common),
                try WorkerProcess.start(executable: "sage-loader", arguments: common + ["--mapping", mapping], environment: [
                    "SAGE_URL": sageURL, "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw", "SAGE_COMPANY": "SAMINC",
                    "BRIDGE_LEDGER": folder.appendingPathComponent("ledger.sqlite").path]),
                try WorkerProcess.start(executable: "alerter", arguments: common + ["--store", operations]),
            ]
            try await eventually("every stage consumes") { try await consumers(broker) == 4 }
            return Flow(broker: broker, folder: folder, sageURL: sageURL, operations: operations, processes: processes)
        }

        static func consumers(_ broker: TestBroker) async throws -> Int {
            let session = try await broker.session("consumers")
            let total = try await session.perform { connection in
                try ["transformer", "fraud-scorer", "sage-loader", "alerter"].reduce(0) {
                    $0 + Int(try connection.declareQueue(channel: 3, name: $1, passive: true).consumers)
                }
            }
            await session.close()
            return total
        }

        /// Creates a GL account in Sage, as the finance team would after the alert.
        func createAccount(_ number: String) async throws {
            var request = URLRequest(url: URL(string: "\(sageURL)/Sage300WebApi/v1.0/-/SAMINC/GL/GLAccounts")!)
            request.httpMethod = "POST"
            request.setValue("Basic " + Data("ADMIN:pw".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"AccountNumber":"\#(number)","Description":"Sales revenue (new)","AccountType":"I"}"#.utf8)
            let (_, response) = try await URLSession.shared.data(for: request)
            XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 201)
        }

        /// Publishes a closed batch for a new store; returns the journal reference Sage will hold.
        func publishClosedBatch(times: Int = 1) async throws -> String {
            let store = "S-E2E-\(UInt32.random(in: 0...UInt32.max))"
            let event = BatchClosedEvent(store: .init(id: store, timeZone: "America/Chicago", currency: "USD"), businessDate: "2026-11-26",
                                         batch: RawJSON(Data(SettlementFlowTests.batch.utf8)), tickets: RawJSON(Data(SettlementFlowTests.tickets.utf8)))
            let message = OutgoingMessage(exchange: "bridge.events", routingKey: BatchClosedEvent.routingKey, properties: MessageProperties(
                messageID: MessageID.random(), correlationID: "e2e-\(store)", type: BatchClosedEvent.routingKey,
                headers: [Header.idempotencyKey: .string(event.idempotencyKey)]), body: Array(try JSONEncoder().encode(event)))
            let session = try await broker.session()
            for _ in 0..<times { try await session.publish([message]) }
            await session.close()
            return "HL-\(store)-20261126-BAT_E2E"
        }
    }

    func testClosedBatchIsPostedToSageOnceThroughTheStages() async throws {
        let flow = try await Flow.start()
        let reference = try await flow.publishClosedBatch(times: 2)  // the second is a duplicate webhook: must not post twice
        var posted: SagePostedJournal?
        try await eventually("the journal is in Sage") {
            posted = try await flow.client.findJournal(reference: reference)
            return posted != nil
        }
        // By hand: card 21.60 (Visa, incl. 1.00 tip) and cash 10.80 in; revenue 30.00, tax 1.40, tips 1.00 out.
        XCTAssertEqual(posted?.netByAccount, ["1210": 2160, "1100": 1080, "4000": -3000, "2200": -140, "2210": -100])
        let loaderLedger = try IdempotencyStore(path: flow.folder.appendingPathComponent("ledger.sqlite").path)
        try await eventually("the duplicate has been seen and skipped") {
            try await self.depth(flow.broker, "sage-loader") == 0 && loaderLedger.count() == 1
        }
        let parked = try await depth(flow.broker, "sage-loader.dlq")
        XCTAssertEqual(parked, 0, "a duplicate is skipped, never parked (even when both copies are handled at once)")
        // The reconciliation reached the alerter's store and the report shows it matched.
        try await eventually("the reconciliation is reported") {
            let report = try WorkerProcess.start(executable: "bridgectl", arguments: [
                "report", "reconciliation", "--date", "2026-11-26", "--format", "csv", "--store", flow.operations])
            return try await report.waitForExit() == 0 && report.log.contains(reference) && report.log.contains("matched")
        }
    }

    /// The seed's error case: the mapping names a GL account Sage does not have. Nothing is posted, the
    /// journal waits in sage-loader.dlq, an alert names the account and the rule; once the account
    /// exists, `bridgectl dlq replay sage-loader` posts it.
    func testMissingGLAccountIsParkedAlertedAndPostedAfterReplay() async throws {
        let mapping = try String(contentsOf: repositoryRoot.appendingPathComponent("Config/mapping.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "\"4000\"", with: "\"4010\"")
        let variant = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-4010-\(UUID().uuidString).yaml")
        try mapping.write(to: variant, atomically: true, encoding: .utf8)
        let flow = try await Flow.start(mapping: variant.path)
        let reference = try await flow.publishClosedBatch()

        try await eventually("the journal is parked") { try await self.depth(flow.broker, "sage-loader.dlq") == 1 }
        let nothing = try await flow.client.findJournal(reference: reference)
        XCTAssertNil(nothing, "nothing posted")
        try await eventually("the alert names the account and the rule") {
            let alerts = try OperationsStore(path: flow.operations).alertGroups().map(\.reason)
            return alerts.contains { $0.contains("GL account 4010 (mapping rule sales.revenue) does not exist in Sage company SAMINC") }
        }

        try await flow.createAccount("4010")
        let replay = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "replay", "sage-loader", "--amqp-url", flow.broker.amqpURL])
        let replayStatus = try await replay.waitForExit()
        XCTAssertEqual(replayStatus, 0, replay.log)
        XCTAssertTrue(replay.log.contains("replayed 1 message(s)"), replay.log)
        var posted: SagePostedJournal?
        try await eventually("posted after the replay") {
            posted = try await flow.client.findJournal(reference: reference)
            return posted != nil
        }
        XCTAssertEqual(posted?.netByAccount["4010"], -3000)
    }

    private func depth(_ broker: TestBroker, _ queue: String) async throws -> Int {
        let session = try await broker.session("depth")
        let counts = try await session.perform { try $0.declareQueue(channel: 3, name: queue, passive: true) }
        await session.close()
        return Int(counts.messages)
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
