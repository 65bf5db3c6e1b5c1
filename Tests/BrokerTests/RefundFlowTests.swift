import Accounting
import Alerter
import BridgeClock
import FraudScoring
import Foundation
import HeartlandIngest
import TestPrograms
import XCTest

/// Card refunds as they happen, every part a process: heartland-sim fires `transaction.refunded` when
/// a return is rung up, heartland-ingest fetches the return, its sale and the sale's earlier returns,
/// the transformer builds the refund's own journal, the fraud scorer judges it, sage-loader posts it.
/// The day's journal leaves the refunds out, and the batch's reconciliation counts each one once.
final class RefundFlowTests: XCTestCase {
    /// A ticket rung up through heartland-sim's Retail API, as it answered.
    struct Rung {
        let id: Int
        let number: String
        let businessDay: String
        let cardTransaction: String?
    }

    func ring(_ flow: BridgeFlow, _ body: [String: Any]) async throws -> Rung {
        let data = try await flow.heartlandAdmin("POST", "api/sales/tickets", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        let ticket = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let payments = ticket["payments"] as? [[String: Any]] ?? []
        return Rung(id: try XCTUnwrap(ticket["id"] as? Int), number: try XCTUnwrap(ticket["public_id"] as? String),
                    businessDay: try XCTUnwrap(ticket["business_day"] as? String),
                    cardTransaction: payments.compactMap { $0["gateway_transaction_id"] as? String }.first)
    }

    /// A sale of `quantity` × the item, paid by card.
    func sale(_ flow: BridgeFlow, location: Int, item: Int, price: String, quantity: Int, brand: String, last4: String) async throws -> Rung {
        let total = String(format: "%.2f", Double(price)! * Double(quantity))  // a test-side total of a price with two decimals
        return try await ring(flow, [
            "location_id": location, "item_lines": [["item_id": item, "qty": quantity, "unit_price": price]],
            "payments": [["payment_type": "Credit Card", "amount": total, "card_type": brand, "last4": last4]],
        ])
    }

    /// A return of `quantity` × the item, refunded to the card transaction `to`, of the sale `of` (nil: names no sale).
    func refund(_ flow: BridgeFlow, location: Int, item: Int, price: String, quantity: Int, of sale: Rung?, to transaction: String) async throws -> Rung {
        let total = String(format: "%.2f", Double(price)! * Double(quantity))
        var body: [String: Any] = [
            "location_id": location, "item_lines": [["item_id": item, "qty": -quantity, "unit_price": price]],
            "payments": [["payment_type": "Credit Card", "amount": "-" + total, "gateway_transaction_id": transaction]],
        ]
        if let sale { body["return_of_ticket_id"] = sale.id }
        return try await ring(flow, body)
    }

    // The flow at each instant of the time matrix: live tickets fall on the store's "today", which at 02:00 and
    // 07:30 UTC is the previous UTC date, never on the generated (already finished) day.
    func testRefundsPostAsTheyHappenSuspiciousOnesWaitForAPersonAndTheBatchReconcilesAt0200UTC() async throws {
        try await refundsPostAsTheyHappenSuspiciousOnesWaitForAPersonAndTheBatchReconciles(at: BridgeClock.timeMatrix[0])
    }

    func testRefundsPostAsTheyHappenSuspiciousOnesWaitForAPersonAndTheBatchReconcilesAt0730UTC() async throws {
        try await refundsPostAsTheyHappenSuspiciousOnesWaitForAPersonAndTheBatchReconciles(at: BridgeClock.timeMatrix[1])
    }

    func testRefundsPostAsTheyHappenSuspiciousOnesWaitForAPersonAndTheBatchReconcilesAt1500UTC() async throws {
        try await refundsPostAsTheyHappenSuspiciousOnesWaitForAPersonAndTheBatchReconciles(at: BridgeClock.timeMatrix[2])
    }

    func refundsPostAsTheyHappenSuspiciousOnesWaitForAPersonAndTheBatchReconciles(at instant: (name: String, clock: BridgeClock)) async throws {
        let flow = try await BridgeFlow.start(clock: instant.clock)
        try await flow.startHeartland(stores: 1, tickets: 20)
        print("refund flow at \(instant.name): generated day \(flow.day)")
        let store = "S01"
        // Yesterday's batch first (with its generated refunds, found through the batch), so that today's tickets open today's batch.
        try await flow.closeBatches()
        try await eventually(timeout: .seconds(60), "yesterday reconciled") {
            try await OperationsStore(path: flow.operations).reconciliations(businessDate: flow.day).contains { $0.status == .matched }
        }
        let locations = try JSONSerialization.jsonObject(with: try await flow.heartlandAdmin("GET", "api/locations", nil)) as! [String: Any]
        let location = try XCTUnwrap((locations["results"] as? [[String: Any]])?.first { $0["public_id"] as? String == store }?["id"] as? Int)
        let items = try JSONSerialization.jsonObject(with: try await flow.heartlandAdmin("GET", "api/items?per_page=1", nil)) as! [String: Any]
        let item = try XCTUnwrap((items["results"] as? [[String: Any]])?.first)
        let itemID = try XCTUnwrap(item["id"] as? Int)
        let price = "12.50"  // rung at this price whatever the catalogue says
        let cents: Int64 = 1250

        let saleA = try await sale(flow, location: location, item: itemID, price: price, quantity: 3, brand: "VISA", last4: "1111")
        let saleB = try await sale(flow, location: location, item: itemID, price: price, quantity: 1, brand: "MASTERCARD", last4: "2222")
        let saleC = try await sale(flow, location: location, item: itemID, price: price, quantity: 1, brand: "VISA", last4: "3333")
        let today = saleA.businessDay
        XCTAssertNotEqual(today, flow.day, "a ticket rung up now falls after the generated day (\(instant.name))")
        let compact = today.replacingOccurrences(of: "-", with: "")
        func reference(_ ticket: Rung) -> String { "HL-\(store)-\(compact)-R\(ticket.id)" }

        // An ordinary refund: one of sale A's three items back to sale A's card. In Sage in seconds, before any batch closes.
        let ordinary = try await refund(flow, location: location, item: itemID, price: price, quantity: 1, of: saleA, to: saleA.cardTransaction!)
        try await eventually(timeout: .seconds(30), "the refund is in Sage") { try await flow.sage.findJournal(reference: reference(ordinary)) != nil }
        let posted = try await flow.sage.findJournal(reference: reference(ordinary))
        XCTAssertEqual(posted?.netByAccount.filter { $0.value != 0 }, ["4200": cents, "1210": -cents], "returns debited, Visa clearing credited")

        // Three that must not post on their own say-so.
        let over = try await refund(flow, location: location, item: itemID, price: price, quantity: 3, of: saleA, to: saleA.cardTransaction!)
        let otherCard = try await refund(flow, location: location, item: itemID, price: price, quantity: 1, of: saleC, to: saleB.cardTransaction!)
        let unlinked = try await refund(flow, location: location, item: itemID, price: price, quantity: 1, of: nil, to: saleB.cardTransaction!)
        let reviewsPath = flow.folder.appendingPathComponent("reviews.sqlite").path
        let reviews = try ReviewStore(path: reviewsPath)
        try await eventually(timeout: .seconds(30), "three refunds held for review") { try await reviews.list(status: .held).count == 3 }
        let held = try await reviews.list(status: .held)
        let why = { (ticket: Rung) in held.first { $0.idempotencyKey == "heartland:return:\(ticket.id)" }?.reasons.joined(separator: "; ") ?? "not held" }
        XCTAssertTrue(why(over).contains("over the original"), why(over))
        XCTAssertTrue(why(otherCard).contains("to another card"), why(otherCard))
        XCTAssertTrue(why(otherCard).contains("MASTERCARD:424242******2222"), why(otherCard))
        XCTAssertTrue(why(unlinked).contains("no original sale"), why(unlinked))
        try await eventually("an alert for each") {
            let alerts = try await OperationsStore(path: flow.operations).alertGroups().filter { $0.kind == "review_required" }
            return [over, otherCard, unlinked].allSatisfy { ticket in alerts.contains { $0.reason.contains(reference(ticket)) } }
        }
        for ticket in [over, otherCard, unlinked] {
            let found = try await flow.sage.findJournal(reference: reference(ticket))
            XCTAssertNil(found, "\(reference(ticket)) is held, not posted")
        }

        // The day closes: the day's journal has the three sales only; the reconciliation waits for the held refunds.
        try await flow.closeBatches()
        let operations = try OperationsStore(path: flow.operations)
        var report: ReconciliationReport?
        try await eventually(timeout: .seconds(30), "today's batch reconciled as incomplete") {
            report = try await operations.reconciliations(businessDate: today).first { $0.reference.hasPrefix("HL-\(store)-\(compact)-BAT") }
            return report != nil
        }
        XCTAssertEqual(report?.status, .incomplete, report?.reason ?? "")
        let day = try await flow.sage.findJournal(reference: try XCTUnwrap(report?.reference))
        XCTAssertEqual(day?.netByAccount["4000"], -5 * cents, "revenue of the five items sold, the refunds not in it")
        XCTAssertNil(day?.netByAccount["4200"], "no refund in the day's journal")
        let states = Dictionary(uniqueKeysWithValues: (report?.refunds ?? []).map { ($0.reference, $0) })
        XCTAssertEqual(states[reference(ordinary)]?.status, .posted)
        for ticket in [over, otherCard, unlinked] {
            XCTAssertEqual(states[reference(ticket)]?.status, .pending)
            XCTAssertEqual(states[reference(ticket)]?.detail?.hasPrefix("held for fraud review"), true, states[reference(ticket)]?.detail ?? "")
        }

        // A person approves them (the money did go back): each posts once, and the batch then ties to Heartland's.
        for document in held {
            let approve = try WorkerProcess.start(executable: "bridgectl", arguments: [
                "review", "approve", String(document.id), "--store", reviewsPath, "--actor", "alice", "--why", "receipts checked",
                "--amqp-url", flow.broker.amqpURL])
            let status = try await approve.waitForExit()
            XCTAssertEqual(status, 0, approve.log)
        }
        try await eventually(timeout: .seconds(30), "the batch reconciles once every refund is in Sage") {
            try await operations.reconciliations(businessDate: today).first { $0.reference == report?.reference }?.status == .matched
        }
        for ticket in [ordinary, over, otherCard, unlinked] {
            let entries = try await flow.sageEntries(reference: reference(ticket))
            XCTAssertEqual(entries, 1, "\(reference(ticket)) posted once")
        }
        let parked = try await flow.depth("transformer.dlq") + flow.depth("fraud-scorer.dlq") + flow.depth("sage-loader.dlq")
        XCTAssertEqual(parked, 0)
    }
}
