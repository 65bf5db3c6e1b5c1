import AMQP
import Foundation
import Logging
import Messaging
import PipelineContracts
import SageConnector
import XCTest

/// transformer → fraud-scorer → sage-loader → alerter as processes on the bridge's own topology, posting
/// into sage-pro-sim: a closed batch becomes one journal in Sage, a duplicate event posts nothing more,
/// and the reconciliation is in the operations store for `bridgectl report reconciliation`.
final class SettlementFlowTests: XCTestCase {
    func testClosedBatchIsPostedToSageOnceThroughTheStages() async throws {
        let broker = TestBroker.shared
        let topology = repositoryRoot.appendingPathComponent("Topology/definitions.json").path
        let mapping = repositoryRoot.appendingPathComponent("Config/mapping.yaml").path
        try await broker.management().importDefinitions(try Topology.load(from: topology))
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
        let transformer = try WorkerProcess.start(executable: "transformer", arguments: common + ["--mapping", mapping])
        let scorer = try WorkerProcess.start(executable: "fraud-scorer", arguments: common)
        let loader = try WorkerProcess.start(executable: "sage-loader", arguments: common + ["--mapping", mapping], environment: [
            "SAGE_URL": sageURL, "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw", "SAGE_COMPANY": "SAMINC",
            "BRIDGE_LEDGER": folder.appendingPathComponent("ledger.sqlite").path])
        let operations = folder.appendingPathComponent("operations.sqlite").path
        let alerter = try WorkerProcess.start(executable: "alerter", arguments: common + ["--store", operations])

        let store = "S-E2E-\(UInt16.random(in: 0...UInt16.max))"
        let event = BatchClosedEvent(store: .init(id: store, timeZone: "America/Chicago", currency: "USD"), businessDate: "2026-11-26",
                                     batch: RawJSON(Data(Self.batch.utf8)), tickets: RawJSON(Data(Self.tickets.utf8)))
        let message = OutgoingMessage(exchange: "bridge.events", routingKey: BatchClosedEvent.routingKey, properties: MessageProperties(
            messageID: MessageID.random(), correlationID: "e2e-\(store)", type: BatchClosedEvent.routingKey,
            headers: [Header.idempotencyKey: .string(event.idempotencyKey)]), body: Array(try JSONEncoder().encode(event)))
        let session = try await broker.session()
        try await session.publish([message])
        try await session.publish([message])  // a duplicate webhook: must not post twice
        await session.close()

        let client = SageWebAPIClient(connection: SageConnection(server: URL(string: sageURL)!, company: "SAMINC",
                                                                 credentials: SageCredentials(user: "ADMIN", password: "pw")), logger: broker.logger)
        let reference = "HL-\(store)-20261126-BAT_E2E"
        var posted: SagePostedJournal?
        try await eventually("the journal is in Sage") {
            posted = try await client.findJournal(reference: reference)
            return posted != nil
        }
        // By hand: card 21.60 (Visa, incl. 1.00 tip) and cash 10.80 in; revenue 30.00, tax 1.40, tips 1.00 out.
        XCTAssertEqual(posted?.netByAccount, ["1210": 2160, "1100": 1080, "4000": -3000, "2200": -140, "2210": -100])
        let loaderLedger = try IdempotencyStore(path: folder.appendingPathComponent("ledger.sqlite").path)
        try await eventually("the duplicate has been seen and skipped") {
            try await self.depth(broker, "sage-loader") == 0 && loaderLedger.count() == 1
        }
        // The reconciliation reached the alerter's store and the report shows it matched.
        try await eventually("the reconciliation is reported") {
            let report = try WorkerProcess.start(executable: "bridgectl", arguments: [
                "report", "reconciliation", "--date", "2026-11-26", "--format", "csv", "--store", operations])
            return try await report.waitForExit() == 0 && report.log.contains(reference) && report.log.contains("matched")
        }
        _ = (transformer, scorer, loader, sage, alerter)
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
