import Foundation
import HeartlandConnector
import SimulatorKit
import TestPrograms
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Webhooks as the simulator delivers them: signatures accepted, tampering and wrong keys rejected.
@Suite struct WebhookTests {
    @Test func deliveredBatchClosedEventVerifiesAndKeysOnTheBatch() async throws {
        let receiver = try await WebhookCatcher.start()
        defer { Task { await receiver.stop() } }
        let harness = try await Harness.start(webhookURL: receiver.url)
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 10)
        let client = harness.client()
        let open = try await client.batches(BatchQuery(status: .open)).collect()
        let batchId = try #require(open.first?.id)
        var request = URLRequest(url: harness.running.baseURL.appendingPathComponent("admin/batches/close"))
        request.httpMethod = "POST"
        request.httpBody = Data("{\"batch_id\":\"\(batchId)\"}".utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        try await eventually("batch.closed delivered") { !receiver.deliveries.isEmpty }

        let delivery = try #require(receiver.deliveries.first)
        let verifier = WebhookVerifier(appKey: Harness.appKey, webhookSecret: Harness.webhookSecret)
        let verified = try verifier.verify(body: delivery.body, headers: delivery.headers)
        #expect(verified.eventType == .batchClosed)
        #expect(verified.eventId.hasPrefix("EVT_"))
        #expect(verified.deliveryId == delivery.headers["x-webhook-id"])
        #expect(verified.idempotencyKey.description == "heartland:batch:\(batchId)")
        guard case .batchClosed(let batch) = verified.event.payload else {
            Issue.record("expected a batch payload")
            return
        }
        #expect(batch.status == .closed)
        #expect(batch.action?.type == "BATCH_CLOSE")
        let polled = try await client.batch(id: batchId)
        #expect(batch.totals == polled.totals)
        #expect(batch.brandBreakdown == polled.brandBreakdown)

        // Tampered body, wrong keys, missing and malformed signatures.
        var tampered = delivery.body
        tampered[tampered.count / 2] ^= 0x01
        #expect(throws: WebhookVerifier.Rejection.self) { try verifier.verify(body: tampered, headers: delivery.headers) }
        let wrongKey = WebhookVerifier(appKey: "other-key", webhookSecret: Harness.webhookSecret)
        #expect(throws: WebhookVerifier.Rejection.badSignature(header: "X-GP-Signature")) {
            try wrongKey.verify(body: delivery.body, headers: delivery.headers)
        }
        let wrongSecret = WebhookVerifier(appKey: Harness.appKey, webhookSecret: "other-secret")
        #expect(throws: WebhookVerifier.Rejection.badSignature(header: "X-Heartland-Signature")) {
            try wrongSecret.verify(body: delivery.body, headers: delivery.headers)
        }
        #expect(throws: WebhookVerifier.Rejection.missingSignature) {
            try verifier.verify(body: delivery.body, headers: ["content-type": "application/json"])
        }
        #expect(throws: WebhookVerifier.Rejection.malformedSignature(header: "X-Heartland-Signature")) {
            try verifier.verify(body: delivery.body, headers: ["X-Heartland-Signature": "md5=abc"])
        }
        // The timestamped Heartland signature is required: the GP one (app key, no timestamp) is never enough alone.
        let gpOnly = delivery.headers.filter { $0.key.lowercased() != "x-heartland-signature" }
        #expect(throws: WebhookVerifier.Rejection.missingSignature) { try verifier.verify(body: delivery.body, headers: gpOnly) }
        let heartlandOnly = delivery.headers.filter { $0.key.lowercased() != "x-gp-signature" }
        #expect(try verifier.verify(body: delivery.body, headers: heartlandOnly).eventId == verified.eventId)
    }

    /// A delivery is refused once its signed timestamp is more than the window (5 minutes) from now, either
    /// way; the timestamp cannot be changed without the secret, and the old untimed form is refused.
    @Test func signedTimestampsOutsideTheWindowAreRefused() throws {
        let verifier = WebhookVerifier(appKey: "k", webhookSecret: "s")
        let body = Data(#"{"id":"EVT_1","event":"batch.closed","data":{"id":"BAT_1","status":"CLOSED"}}"#.utf8)
        let signedAt = Date(timeIntervalSince1970: 1_800_000_000)
        let headers = ["X-Heartland-Signature": WebhookSignature.heartlandSignature(body: body, secret: "s", at: signedAt)]
        #expect(try verifier.verify(body: body, headers: headers, now: signedAt.addingTimeInterval(299)).eventId == "EVT_1")
        #expect(throws: WebhookVerifier.Rejection.stale(ageSeconds: 301)) {
            try verifier.verify(body: body, headers: headers, now: signedAt.addingTimeInterval(301))
        }
        #expect(throws: WebhookVerifier.Rejection.stale(ageSeconds: -301)) {
            try verifier.verify(body: body, headers: headers, now: signedAt.addingTimeInterval(-301))
        }
        // A replay with a fresh timestamp but the old MAC does not verify.
        let mac = try #require(headers["X-Heartland-Signature"]?.split(separator: ",").last)
        let moved = ["X-Heartland-Signature": "t=\(Int(signedAt.timeIntervalSince1970) + 600),\(mac)"]
        #expect(throws: WebhookVerifier.Rejection.badSignature(header: "X-Heartland-Signature")) {
            try verifier.verify(body: body, headers: moved, now: signedAt.addingTimeInterval(600))
        }
        #expect(throws: WebhookVerifier.Rejection.malformedSignature(header: "X-Heartland-Signature"), "the untimed sha256=… form") {
            try verifier.verify(body: body, headers: ["X-Heartland-Signature": String(mac)], now: signedAt)
        }
        let narrow = WebhookVerifier(appKey: "k", webhookSecret: "s", maxAge: 60)
        #expect(throws: WebhookVerifier.Rejection.stale(ageSeconds: 61)) {
            try narrow.verify(body: body, headers: headers, now: signedAt.addingTimeInterval(61))
        }
    }

    @Test func refundAndPayrollEventsKeyOnTheirRecords() throws {
        let verifier = WebhookVerifier(appKey: "k", webhookSecret: "s")
        func signed(_ json: String) -> (Data, [String: String]) {
            let body = Data(json.utf8)
            return (body, ["X-GP-Signature": WebhookSignature.gpSignature(body: body, appKey: "k"),
                           "X-Heartland-Signature": WebhookSignature.heartlandSignature(body: body, secret: "s", at: Date())])
        }
        let (refundBody, refundHeaders) = signed("""
            {"id":"EVT_1","event":"transaction.refunded","created_at":"2026-11-28T06:00:00Z","account":"MER_1",
             "data":{"id":"TRN_R1","type":"REFUND","status":"CAPTURED","amount":"1250","currency":"USD","parent_resource_id":"TRN_S1",
                     "payment_method":{"card":{"brand":"VISA","masked_number_first6last4":"424242XXXXXX4242"}}}}
            """)
        let refund = try verifier.verify(body: refundBody, headers: refundHeaders)
        #expect(refund.idempotencyKey.description == "heartland:transaction:TRN_R1")
        guard case .transactionRefunded(let transaction) = refund.event.payload else {
            Issue.record("expected a refund payload")
            return
        }
        #expect(transaction.amountCents == 1250)
        #expect(transaction.card?.first6 == "424242")
        let (payBody, payHeaders) = signed("""
            {"id":"EVT_2","event":"payroll.completed","data":{"run_id":"PR_1","status":"PROCESSED","totals":{"gross":800.00,"net":610.5}}}
            """)
        let pay = try verifier.verify(body: payBody, headers: payHeaders)
        #expect(pay.idempotencyKey.description == "heartland:pay_run:PR_1")
        let (otherBody, otherHeaders) = signed(#"{"id":"EVT_3","event":"item.updated","data":{}}"#)
        let other = try verifier.verify(body: otherBody, headers: otherHeaders)
        #expect(other.eventType.isKnown == false)
        #expect(other.idempotencyKey.description == "heartland:event:EVT_3")
    }
}
