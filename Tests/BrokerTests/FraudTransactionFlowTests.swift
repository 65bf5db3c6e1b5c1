import Accounting
import Alerter
import BridgeClock
import FraudScoring
import Foundation
import PipelineContracts
import TestPrograms
import XCTest

/// Every card sale of a real settlement batch judged in the pipeline, every part a process: the
/// transformer lists the day's card tenders from Heartland's tickets, the fraud scorer scores each sale
/// with the rules in force. A sale the rules send to review posts with the batch and waits for an
/// analyst as an exception; a rule added while the bridge runs (hot reload) that blocks a sale holds
/// the whole batch until a person approves it.
final class FraudTransactionFlowTests: XCTestCase {
    /// A card sale rung up through heartland-sim's Retail API: (ticket id, its card transaction, its business day).
    func ringSale(_ flow: BridgeFlow, location: Int, item: Int, cents: Int64, last4: String, clerk: String) async throws
        -> (ticket: Int, transaction: String, businessDay: String)
    {
        let amount = Money.decimalString(cents)
        let body: [String: Any] = [
            "location_id": location, "sales_rep": clerk, "item_lines": [["item_id": item, "qty": 1, "unit_price": amount]],
            "payments": [["payment_type": "Credit Card", "amount": amount, "card_type": "VISA", "last4": last4]],
        ]
        let data = try await flow.heartlandAdmin("POST", "api/sales/tickets", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        let ticket = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let payments = ticket["payments"] as? [[String: Any]] ?? []
        return (try XCTUnwrap(ticket["id"] as? Int), try XCTUnwrap(payments.compactMap { $0["gateway_transaction_id"] as? String }.first),
                try XCTUnwrap(ticket["business_day"] as? String))
    }

    // Today's batch (tickets rung up now) at each instant of the time matrix, never the generated day.
    func testSalesOfARealBatchAreScoredReviewBecomesAnExceptionAndAHotReloadedBlockHoldsTheBatchAt0200UTC() async throws {
        try await salesOfARealBatchAreScoredReviewBecomesAnExceptionAndAHotReloadedBlockHoldsTheBatch(at: BridgeClock.timeMatrix[0])
    }

    func testSalesOfARealBatchAreScoredReviewBecomesAnExceptionAndAHotReloadedBlockHoldsTheBatchAt0730UTC() async throws {
        try await salesOfARealBatchAreScoredReviewBecomesAnExceptionAndAHotReloadedBlockHoldsTheBatch(at: BridgeClock.timeMatrix[1])
    }

    func testSalesOfARealBatchAreScoredReviewBecomesAnExceptionAndAHotReloadedBlockHoldsTheBatchAt1500UTC() async throws {
        try await salesOfARealBatchAreScoredReviewBecomesAnExceptionAndAHotReloadedBlockHoldsTheBatch(at: BridgeClock.timeMatrix[2])
    }

    func salesOfARealBatchAreScoredReviewBecomesAnExceptionAndAHotReloadedBlockHoldsTheBatch(at instant: (name: String, clock: BridgeClock)) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-sales-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let reviewsPath = folder.appendingPathComponent("reviews.sqlite").path
        let rulesPath = folder.appendingPathComponent("rules.txt").path
        try "# loss prevention\nreview if :kind: = 'sale' and :amount: > 50000\n".write(toFile: rulesPath, atomically: true, encoding: .utf8)
        let flow = try await BridgeFlow.start(scorerArguments: [
            "--review-store", reviewsPath, "--batch-history", folder.appendingPathComponent("history.sqlite").path,
            "--feature-store", folder.appendingPathComponent("features.sqlite").path, "--rules", rulesPath], clock: instant.clock)
        try await flow.startHeartland(stores: 1, tickets: 200)
        let store = "S01"
        let reviews = try ReviewStore(path: reviewsPath)
        let operations = try OperationsStore(path: flow.operations)

        // Yesterday's generated batch: every sale scored, the journal posts (whatever exceptions its sales raise).
        try await flow.closeBatches()
        try await eventually(timeout: .seconds(60), "yesterday reconciled") {
            try await operations.reconciliations(businessDate: flow.day).contains { $0.status == .matched }
        }
        let heldYesterday = try await reviews.list()
        XCTAssertTrue(heldYesterday.isEmpty, "nothing held: a review rule never holds a posted batch")
        let yesterday = try await flow.closedBatches(day: flow.day)
        let traces = try TraceStore(path: flow.folder.appendingPathComponent("traces.sqlite").path)
        for batch in yesterday {
            // The stage's time for a real batch, from the hop records `bridgectl trace` shows (reported, not asserted).
            let hops = try await traces.hops(of: "heartland:batch:\(batch.id)").filter { $0.stage == "fraud-scorer" || $0.stage == "transformer" }
            print("hop durations for \(batch.id): " + hops.map { "\($0.stage) \($0.durationMs) ms (\($0.outcome))" }.joined(separator: ", "))
        }

        // Today: an ordinary sale, a $612.50 sale (the review rule) and a sale on a card loss prevention is about to block.
        let locations = try JSONSerialization.jsonObject(with: try await flow.heartlandAdmin("GET", "api/locations", nil)) as! [String: Any]
        let location = try XCTUnwrap((locations["results"] as? [[String: Any]])?.first { $0["public_id"] as? String == store }?["id"] as? Int)
        let items = try JSONSerialization.jsonObject(with: try await flow.heartlandAdmin("GET", "api/items?per_page=1", nil)) as! [String: Any]
        let item = try XCTUnwrap((items["results"] as? [[String: Any]])?.first?["id"] as? Int)
        let ordinary = try await ringSale(flow, location: location, item: item, cents: 2_499, last4: "1111", clerk: "Zoe")
        let big = try await ringSale(flow, location: location, item: item, cents: 61_250, last4: "4444", clerk: "Zoe")
        let stolen = try await ringSale(flow, location: location, item: item, cents: 8_900, last4: "6666", clerk: "Zoe")
        XCTAssertNotEqual(ordinary.businessDay, flow.day, "a sale rung up now falls after the generated day (\(instant.name))")
        let compact = ordinary.businessDay.replacingOccurrences(of: "-", with: "")

        // Loss prevention adds a block rule while the bridge runs: no restart, the next batch is judged with it.
        try """
            # loss prevention
            block card VISA:??????******6666
            review if :kind: = 'sale' and :amount: > 50000
            """.write(toFile: rulesPath, atomically: true, encoding: .utf8)
        try await flow.closeBatches()

        // The blocked sale holds today's whole journal, with the sale and the rule as the reason.
        var held: ReviewStore.HeldDocument?
        try await eventually(timeout: .seconds(60), "today's batch held for review") {
            held = try await reviews.list(status: .held).first
            return held != nil
        }
        let hold = try XCTUnwrap(held)
        let document = try JSONDecoder().decode(JournalDocument.self, from: hold.document)
        let reference = document.journal.reference
        XCTAssertTrue(reference.hasPrefix("HL-\(store)-\(compact)-"), reference)
        let why = hold.reasons.joined(separator: "; ")
        XCTAssertTrue(why.contains("sale \(stolen.transaction) $89.00 on VISA:??????******6666"), why)
        XCTAssertTrue(why.contains("blocked by block list (line 2)"), why)
        XCTAssertTrue(why.contains("clerk Zoe"), why)
        XCTAssertEqual(document.cardActivity?.sales.map(\.transactionId).sorted(),
                       [ordinary.transaction, big.transaction, stolen.transaction].sorted(), "today's card sales, each once")
        try await eventually("an alert says the batch is held and why") {
            try await operations.alertGroups().contains { $0.kind == "review_required" && $0.reason.contains(reference) && $0.reason.contains(stolen.transaction) }
        }
        let notPosted = try await flow.sage.findJournal(reference: reference)
        XCTAssertNil(notPosted, "held means not posted")

        // The $612.50 sale is an exception for an analyst, with its alert and audit record.
        let open = try await reviews.exceptions(status: .open)
        let exception = try XCTUnwrap(open.first { $0.reference == reference })
        XCTAssertEqual(exception.transactionId, big.transaction)
        XCTAssertEqual(exception.reasons.first, "rule line 3: review if :kind: = 'sale' and :amount: > 50000")
        let all = try await reviews.exceptions()
        XCTAssertEqual(all.filter { $0.reference == reference }.count, 1, "the other sales are allowed")
        try await eventually("a fraud_exception alert names the sale") {
            try await operations.alertGroups().contains { $0.kind == "fraud_exception" && $0.reason.contains(big.transaction) }
        }
        try await eventually("the exception is audited") {
            try await operations.auditEvents().contains { $0.event == "fraud_exception" && $0.detail.contains(big.transaction) }
        }

        // `bridgectl review list` shows both; the analyst acknowledges the exception and approves the batch.
        func bridgectl(_ arguments: [String]) async throws -> (status: Int32, log: String) {
            let process = try WorkerProcess.start(executable: "bridgectl", arguments: ["review"] + arguments + ["--store", reviewsPath])
            let status = try await process.waitForExit()
            return (status, process.log)
        }
        let list = try await bridgectl(["list"])
        XCTAssertEqual(list.status, 0, list.log)
        XCTAssertTrue(list.log.contains(exception.label) && list.log.contains(big.transaction), list.log)
        XCTAssertTrue(list.log.contains(reference), list.log)
        let acknowledged = try await bridgectl(["acknowledge", exception.label, "--actor", "alice", "--why", "regular customer",
                                                "--amqp-url", flow.broker.amqpURL])
        XCTAssertEqual(acknowledged.status, 0, acknowledged.log)
        let acknowledgedException = try await reviews.exception(id: exception.id)
        XCTAssertEqual(acknowledgedException.status, .acknowledged)
        try await eventually("the acknowledgement is audited with who and why") {
            try await operations.auditEvents().contains { $0.event == "exception_acknowledged" && $0.detail.contains("regular customer") }
        }
        let approved = try await bridgectl(["approve", String(hold.id), "--actor", "alice", "--why", "card reported found; sale confirmed",
                                            "--amqp-url", flow.broker.amqpURL])
        XCTAssertEqual(approved.status, 0, approved.log)
        try await eventually("posted after approval") { try await flow.sage.findJournal(reference: reference) != nil }
        let entries = try await flow.sageEntries(reference: reference)
        XCTAssertEqual(entries, 1)
        let parked = try await flow.depth("transformer.dlq") + flow.depth("fraud-scorer.dlq") + flow.depth("sage-loader.dlq")
        XCTAssertEqual(parked, 0)
    }
}
