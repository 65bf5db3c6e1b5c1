import Accounting
import Messaging
import Alerter
import Foundation
@testable import OperationsConsole
import XCTest

/// Each page's JSON twin (`/api/...`), for scripts, and the HTML page beside it. Pages that need the
/// broker are tested in `BrokerConsoleTests`.
final class PageJSONTests: XCTestCase {
    struct Review: Decodable { var id: Int64; var status, reference: String; var reasons: [String]; var decidedBy: String? }
    struct ReviewDetail: Decodable {
        struct Line: Decodable { var account, side, amount: String }
        var review: Review
        var lines: [Line]
    }

    func testReviewQueueJSONAndPage() async throws {
        let fixture = try ConsoleFixture.make()
        let held = try await fixture.holdDocument(key: "heartland:batch:BAT_JSON0001")
        let token = ["authorization": "Bearer view-token"]
        let list = try decodeJSON([Review].self, await fixture.get("/api/reviews", token))
        XCTAssertEqual(list.map(\.id), [held.id])
        XCTAssertEqual(list.first?.status, "held")
        XCTAssertEqual(list.first?.reference, "HL-S-FRAUD-20261126-JSON0001")
        XCTAssertTrue(list.first?.reasons.first?.contains("standard deviations") == true)
        let none = try decodeJSON([Review].self, await fixture.get("/api/reviews", token, query: ["status": "approved"]))
        XCTAssertTrue(none.isEmpty)

        let detail = try decodeJSON(ReviewDetail.self, await fixture.get("/api/reviews/\(held.id)", token))
        XCTAssertEqual(detail.lines.map(\.account), ["1100", "1210", "4000", "2200", "2210"])
        XCTAssertEqual(detail.lines.first?.amount, "5.40")
        XCTAssertEqual(detail.lines.first?.side, "debit")
        let missing = await fixture.get("/api/reviews/999", token)
        XCTAssertEqual(missing.status, 404)

        let approver = try await fixture.login("april", "approve-secret")
        let page = await fixture.get("/reviews/\(held.id)", ["cookie": approver.cookie])
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("id=\"approve\""), "an approver is offered the approval")
        let operatorSession = try await fixture.login("olivia", "op-secret")
        let operatorPage = await fixture.get("/reviews/\(held.id)", ["cookie": operatorSession.cookie])
        XCTAssertFalse(operatorPage.text.contains("id=\"approve\""), "an operator is not: approving needs the approver role")
        XCTAssertTrue(operatorPage.text.contains("id=\"reject\""), "but may reject")
    }

    func testApprovalNeedsTheBrokerFirstAndLeavesTheDocumentHeldWithoutIt() async throws {
        let fixture = try ConsoleFixture.make(amqpURL: "amqp://nobody:nothing@127.0.0.1:1/")
        let held = try await fixture.holdDocument()
        let response = await fixture.post("/reviews/\(held.id)/approve", ["authorization": "Bearer approve-token"], form: ["why": "looks fine"])
        XCTAssertEqual(response.status, 503, response.text)
        let document = try await fixture.reviews.show(id: held.id)
        XCTAssertEqual(document.status, .held, "not approved while nothing can be sent")
    }

    struct Exception: Decodable {
        var id, status, reference, transactionId, storeId, amount, sale, raisedAt: String
        var amountCents: Int64
        var cardToken: String?
        var riskScore: Int
        var decidedBy: String?
        var reasons: [String]
        var acknowledgedBy, acknowledgedWhy, acknowledgedAt: String?
    }

    /// Fraud exceptions (card sales flagged in batches that posted) beside the held documents: the JSON
    /// at `/api/reviews/exceptions`, the review page's section; an operator is offered Acknowledge on the
    /// open ones, a viewer only the list.
    func testFraudExceptionsJSONAndReviewPage() async throws {
        let fixture = try ConsoleFixture.make()
        let held = try await fixture.holdDocument()
        let open = try await fixture.raiseException(transaction: "TRN_OPEN1")
        let closed = try await fixture.raiseException(transaction: "TRN_DONE1", cents: 7500, card: "MC:??????******5454")
        _ = try await fixture.reviews.acknowledge(exception: closed.id, by: "ana", why: "the store confirmed the sale")
        let token = ["authorization": "Bearer view-token"]

        let all = try decodeJSON([Exception].self, await fixture.get("/api/reviews/exceptions", token))
        XCTAssertEqual(all.map(\.id), [open.label, closed.label])
        let first = try XCTUnwrap(all.first)
        XCTAssertEqual(first.status, "open")
        XCTAssertEqual(first.transactionId, "TRN_OPEN1")
        XCTAssertEqual(first.reference, "HL-S01-20261127-BAT_EXC1")
        XCTAssertEqual(first.amount, "612.50")
        XCTAssertEqual(first.amountCents, 61250)
        XCTAssertEqual(first.cardToken, "VISA:??????******4444")
        XCTAssertEqual(first.storeId, "S01")
        XCTAssertEqual(first.riskScore, 87)
        XCTAssertEqual(first.decidedBy, "line 3")
        XCTAssertEqual(first.reasons.count, 2)
        XCTAssertTrue(first.sale.contains("clerk Ava"), first.sale)
        XCTAssertFalse(first.raisedAt.isEmpty)
        XCTAssertNil(first.acknowledgedBy)
        let acknowledged = try decodeJSON([Exception].self, await fixture.get("/api/reviews/exceptions", token, query: ["status": "acknowledged"]))
        XCTAssertEqual(acknowledged.map(\.id), [closed.label])
        XCTAssertEqual(acknowledged.first?.acknowledgedBy, "ana")
        XCTAssertEqual(acknowledged.first?.acknowledgedWhy, "the store confirmed the sale")
        XCTAssertNotNil(acknowledged.first?.acknowledgedAt)
        XCTAssertEqual(acknowledged.first?.cardToken, "MC:??????******5454")
        let onlyOpen = try decodeJSON([Exception].self, await fixture.get("/api/reviews/exceptions", token, query: ["status": "open"]))
        XCTAssertEqual(onlyOpen.map(\.id), [open.label])
        let wrong = await fixture.get("/api/reviews/exceptions", token, query: ["status": "held"])
        XCTAssertEqual(wrong.status, 400, wrong.text)
        let documents = try decodeJSON([Review].self, await fixture.get("/api/reviews", token))
        XCTAssertEqual(documents.map(\.id), [held.id], "the held documents' JSON keeps its shape")

        let operatorSession = try await fixture.login("olivia", "op-secret")
        let operatorPage = await fixture.get("/reviews", ["cookie": operatorSession.cookie])
        XCTAssertEqual(operatorPage.status, 200, operatorPage.text)
        XCTAssertTrue(operatorPage.text.contains("Fraud exceptions: 1 open"), operatorPage.text)
        XCTAssertTrue(operatorPage.text.contains("action=\"/reviews/exceptions/\(open.label)/acknowledge\""), operatorPage.text)
        XCTAssertTrue(operatorPage.text.contains("id=\"ack-\(open.label)\""))
        XCTAssertTrue(operatorPage.text.contains("<input name=\"why\" id=\"why-ack-\(open.label)\" required"), "why is required")
        XCTAssertFalse(operatorPage.text.contains("id=\"ack-\(closed.label)\""), "an acknowledged exception is not offered again")
        XCTAssertTrue(operatorPage.text.contains("the store confirmed the sale"), "acknowledged ones are listed with who and why")
        XCTAssertTrue(operatorPage.text.contains("VISA:??????******4444") && operatorPage.text.contains("612.50"))
        XCTAssertTrue(operatorPage.text.contains("87/100"))

        let viewerPage = await fixture.get("/reviews", token)
        XCTAssertEqual(viewerPage.status, 200)
        XCTAssertTrue(viewerPage.text.contains("TRN_OPEN1") && viewerPage.text.contains("TRN_DONE1"), "a viewer sees the list")
        XCTAssertFalse(viewerPage.text.contains("Acknowledge</button>"), "a viewer is not offered the action")
        XCTAssertFalse(viewerPage.text.contains("name=\"why\""))

        let ownPage = await fixture.get("/reviews/exceptions", token, query: ["status": "acknowledged"])
        XCTAssertEqual(ownPage.status, 200)
        XCTAssertTrue(ownPage.text.contains("TRN_DONE1") && !ownPage.text.contains("TRN_OPEN1"), ownPage.text)
    }

    /// Acknowledging needs why and the broker (for the notice on bridge.audit) before anything changes;
    /// an exception already acknowledged (here by bridgectl) is refused with 409, without the broker.
    func testExceptionAcknowledgementIsRefusedTwiceAndWaitsForTheBroker() async throws {
        let fixture = try ConsoleFixture.make(amqpURL: "amqp://nobody:nothing@127.0.0.1:1/")
        let exception = try await fixture.raiseException()
        let operatorToken = ["authorization": "Bearer op-token"]
        let path = "/reviews/exceptions/\(exception.label)/acknowledge"

        let noWhy = await fixture.post(path, operatorToken, form: ["why": "  "])
        XCTAssertEqual(noWhy.status, 400, noWhy.text)
        XCTAssertTrue(noWhy.text.contains("why"), noWhy.text)
        let noBroker = await fixture.post(path, operatorToken, form: ["why": "checked with the store"])
        XCTAssertEqual(noBroker.status, 503, noBroker.text)
        let exception3 = try await fixture.reviews.exception(id: exception.id)
        XCTAssertEqual(exception3.status, .open, "not acknowledged while no notice can be sent")
        let auditTrail = try await fixture.actionAudit()
        XCTAssertTrue(auditTrail.isEmpty)

        for missing in ["/reviews/exceptions/E999/acknowledge", "/reviews/exceptions/X1/acknowledge"] {
            let response = await fixture.post(missing, operatorToken, form: ["why": "x"])
            XCTAssertEqual(response.status, 404, "\(missing): \(response.text)")
        }

        _ = try await fixture.reviews.acknowledge(exception: exception.id, by: "ana", why: "seen in bridgectl")
        let again = await fixture.post(path, operatorToken, form: ["why": "me too"])
        XCTAssertEqual(again.status, 409, again.text)
        XCTAssertTrue(again.text.contains("already acknowledged by ana"), again.text)
        let stored = try await fixture.reviews.exception(id: exception.id)
        XCTAssertEqual(stored.acknowledgedWhy, "seen in bridgectl", "the first acknowledgement stands")
    }

    func testReconciliationJSONPerDayAndDrillDown() async throws {
        struct Day: Decodable {
            struct Summary: Decodable { var reference, storeId, status: String; var batchId: String?; var differences: Int }
            var date: String
            var matched, mismatched, incomplete: Int
            var reports: [Summary]
        }
        struct Report: Decodable {
            struct Line: Decodable { var check, label, account: String; var expectedCents: Int64; var sageCents: Int64? }
            var reference, status: String
            var lines: [Line]
        }
        let fixture = try ConsoleFixture.make()
        try await fixture.recordReconciliations()
        let token = ["authorization": "Bearer view-token"]
        let days = try decodeJSON([Day].self, await fixture.get("/api/reconciliations", token))
        XCTAssertEqual(days.map(\.date), ["2026-11-26"])
        XCTAssertEqual(days.first?.matched, 1)
        XCTAssertEqual(days.first?.mismatched, 1)
        XCTAssertEqual(days.first?.reports.first { $0.storeId == "S-1" }?.batchId, "BAT_1")
        XCTAssertEqual(days.first?.reports.first { $0.storeId == "S-1" }?.differences, 1)
        let otherDay = try decodeJSON([Day].self, await fixture.get("/api/reconciliations", token, query: ["date": "2026-11-25"]))
        XCTAssertTrue(otherDay.isEmpty)

        let report = try decodeJSON(Report.self, await fixture.get("/api/reconciliations/HL-S-1-20261126-BAT_1", token))
        XCTAssertEqual(report.status, "mismatched")
        XCTAssertEqual(report.lines.map(\.check), ["account", "card_brand"])
        XCTAssertEqual(report.lines.last?.sageCents, 1240)
        let page = await fixture.get("/reconciliations/HL-S-1-20261126-BAT_1", token)
        XCTAssertTrue(page.text.contains("-0.40"), "the Visa line is 0.40 short: \(page.text)")
        let day = await fixture.get("/reconciliations", token)
        XCTAssertTrue(day.text.contains("1 mismatched"), day.text)
    }

    /// A batch whose card refund is held for review: the drill-down names the refund and where it is; once
    /// the refund's own reconciliation arrives, the store folds it into the batch's report, which matches.
    func testBatchReportShowsItsRefundsAndFoldsInTheOnePostedLater() async throws {
        let fixture = try ConsoleFixture.make()
        let batch = try JSONDecoder().decode(ReconciliationReport.self, from: Data("""
            {"storeID":"S-1","businessDate":"2026-11-26","batchID":"BAT_1","reference":"HL-S-1-20261126-BAT_1","status":"incomplete",
             "reason":"1 refund(s) not in Sage yet","lines":[
              {"check":"account","label":"Returns","account":"4200","expectedCents":1250,"sageCents":0},
              {"check":"account","label":"Sales","account":"4000","expectedCents":-5000,"sageCents":-5000},
              {"check":"account","label":"Visa clearing","account":"1210","expectedCents":3750,"sageCents":5000},
              {"check":"card_brand","label":"VISA","account":"1210","expectedCents":3750,"sageCents":5000}],
             "refunds":[{"reference":"HL-S-1-20261126-R9","ticket":"S-1-9","idempotencyKey":"heartland:return:9","amountCents":1250,
                         "status":"pending"}]}
            """.utf8))
        try await fixture.operations.record(batch)
        try await fixture.operations.record(AuditNotice(event: .heldForReview, stage: "fraud-scorer", detail: "HL-S-1-20261126-R9 held as review 1",
                                                        idempotencyKey: "heartland:return:9"), messageID: "m1", correlationID: nil)
        let token = ["authorization": "Bearer view-token"]
        var page = await fixture.get("/reconciliations/HL-S-1-20261126-BAT_1", token)
        XCTAssertTrue(page.text.contains("HL-S-1-20261126-R9"), page.text)
        XCTAssertTrue(page.text.contains("held for fraud review"), page.text)

        let refund = try JSONDecoder().decode(ReconciliationReport.self, from: Data("""
            {"storeID":"S-1","businessDate":"2026-11-26","reference":"HL-S-1-20261126-R9","status":"matched","partOf":"HL-S-1-20261126-BAT_1",
             "lines":[{"check":"account","label":"Returns","account":"4200","expectedCents":1250,"sageCents":1250},
                      {"check":"account","label":"Visa clearing","account":"1210","expectedCents":-1250,"sageCents":-1250}]}
            """.utf8))
        let record = try await fixture.operations.record(refund)
        let merged = try XCTUnwrap(record)
        XCTAssertEqual(merged.status, .matched, merged.reason ?? "")
        let reconciliations = try await fixture.operations.reconciliations()
        XCTAssertEqual(reconciliations.map(\.reference), ["HL-S-1-20261126-BAT_1"], "the refund's own report is not a batch")
        page = await fixture.get("/reconciliations/HL-S-1-20261126-BAT_1", token)
        XCTAssertTrue(page.text.contains(">matched<"), page.text)
        XCTAssertTrue(page.text.contains(">posted<"), page.text)
    }

    func testAlertsJSONAndEscapedPage() async throws {
        struct Alert: Decodable { var fingerprint, kind, stage, reason: String; var count: Int; var acknowledgedBy: String? }
        let fixture = try ConsoleFixture.make()
        _ = try await fixture.recordAlert(reason: "account <script>alert(1)</script> missing")
        _ = try await fixture.recordAlert(reason: "account <script>alert(1)</script> missing")
        let alerts = try decodeJSON([Alert].self, await fixture.get("/api/alerts", ["authorization": "Bearer view-token"]))
        XCTAssertEqual(alerts.count, 1)
        XCTAssertEqual(alerts.first?.count, 2)
        XCTAssertNil(alerts.first?.acknowledgedBy)

        let acknowledged = await fixture.post("/alerts/acknowledge", ["authorization": "Bearer op-token"],
                                              form: ["fingerprint": try XCTUnwrap(alerts.first?.fingerprint)])
        XCTAssertEqual(acknowledged.status, 200, acknowledged.text)
        let after = try decodeJSON([Alert].self, await fixture.get("/api/alerts", ["authorization": "Bearer view-token"]))
        XCTAssertEqual(after.first?.acknowledgedBy, "token:ci-operator")

        let page = await fixture.get("/alerts", ["authorization": "Bearer view-token"])
        XCTAssertFalse(page.text.contains("<script>alert(1)"), "values are escaped")
        XCTAssertTrue(page.text.contains("&lt;script&gt;alert(1)"))

        struct Entry: Decodable { var event: String; var actor: String? }
        let audit = try decodeJSON([Entry].self, await fixture.get("/api/audit", ["authorization": "Bearer view-token"]))
        XCTAssertEqual(audit.first?.event, "alert_acknowledged")
        XCTAssertEqual(audit.first?.actor, "token:ci-operator")
    }

    func testPagesWithoutTheBrokerSayWhy() async throws {
        let fixture = try ConsoleFixture.make()
        let pipeline = await fixture.get("/api/pipeline", ["authorization": "Bearer view-token"])
        XCTAssertEqual(pipeline.status, 503)
        XCTAssertTrue(pipeline.text.contains("management API"), pipeline.text)
        let dlq = await fixture.get("/dlq", ["authorization": "Bearer view-token"])
        XCTAssertEqual(dlq.status, 503)
        XCTAssertTrue(dlq.text.contains("broker URL"), dlq.text)
    }
}
