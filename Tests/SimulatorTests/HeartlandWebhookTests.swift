import Crypto
import Foundation
import HeartlandSimulator
import SimulatorKit
import TestPrograms
import Testing

/// Webhooks on batch close, refund and payroll completion: signatures, retries, duplicates.
@Suite struct HeartlandWebhookTests {
    @Test func batchCloseIsDeliveredWithBothSignatures() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let sim = try await HeartlandUnderTest.start { $0.webhookURLs = [receiver.url] }
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 1, tickets: 20)
        let closed = try await sim.call("POST", "/admin/batches/close", ["location_id": 1])
        #expect(closed.status == 200)
        try await eventually("batch.closed delivery") { receiver.deliveries.count >= 1 }
        let delivery = try #require(receiver.deliveries.first)
        let body = try JSONValue.parse(delivery.body)
        #expect(body["event"] == "batch.closed")
        #expect(body["data"]?["id"] == "BAT_20261127_01")
        #expect(body["data"]?["status"] == "CLOSED")
        let gp = SHA512.hash(data: delivery.body + Data("test-key".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(delivery.headers["x-gp-signature"] == gp)
        // t=<unix seconds of the attempt>,sha256=HMAC(webhook secret, "<t>." + body); the secret is not the app key.
        let signature = try #require(delivery.headers["x-heartland-signature"])
        let t = try #require(signature.split(separator: ",").first.flatMap { $0.hasPrefix("t=") ? Int($0.dropFirst(2)) : nil })
        #expect(abs(Double(t) - Date().timeIntervalSince1970) < 60, "signed at the attempt")
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(t).".utf8) + delivery.body,
                                                  using: SymmetricKey(data: Data(HeartlandCredentials.defaultWebhookSecret.utf8)))
        #expect(signature == "t=\(t),sha256=" + mac.map { String(format: "%02x", $0) }.joined())
        #expect(delivery.headers["x-webhook-event"] == "batch.closed")
    }

    @Test func failedDeliveriesAreRetriedWithBackoff() async throws {
        let receiver = try await WebhookReceiver.start(failFirst: 2)
        defer { Task { await receiver.stop() } }
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        #expect(try await sim.call("POST", "/admin/webhooks", ["url": .string(receiver.url)]).status == 201)
        try await sim.loadDay(stores: 1, tickets: 20)
        let auth = try await sim.gpAuth()
        let sale = try await sim.call("GET", "/ucp/transactions?type=SALE&status=CAPTURED&page_size=1", headers: auth)
        let id = try #require(sale.json["transactions"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await sim.call("POST", "/ucp/transactions/\(id)/refund", headers: auth).status == 200)
        try await eventually("third attempt to succeed") {
            let deliveries = try await sim.call("GET", "/admin/webhooks/deliveries").json["deliveries"]?.arrayValue ?? []
            return deliveries.first?["status"] == "delivered"
        }
        let record = try await sim.call("GET", "/admin/webhooks/deliveries").json["deliveries"]?.arrayValue?.first
        #expect(record?["attempts"] == 3)
        #expect(receiver.deliveries.count == 3)
        #expect(receiver.deliveries.map { $0.headers["x-webhook-attempt"] } == ["1", "2", "3"])
        #expect(try JSONValue.parse(receiver.deliveries[2].body)["event"] == "transaction.refunded")
    }

    @Test func deliveriesAreSometimesDuplicated() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let sim = try await HeartlandUnderTest.start { $0.webhookURLs = [receiver.url] }
        defer { Task { await sim.stop() } }
        let policy = try await sim.call("POST", "/admin/webhooks/policy", ["duplicate_rate": 1])
        #expect(policy.json["duplicate_rate"] == 1)
        try await sim.loadDay(stores: 1, tickets: 10)
        let run = try await sim.call("POST", "/admin/pay_runs/PR_20261127/complete")
        #expect(run.status == 200)
        #expect(run.json["status"] == "PROCESSED")
        try await eventually("duplicate delivery") { receiver.deliveries.count == 2 }
        #expect(receiver.deliveries[0].body == receiver.deliveries[1].body)
        #expect(receiver.deliveries[0].headers["x-webhook-id"] == receiver.deliveries[1].headers["x-webhook-id"])
        #expect(try JSONValue.parse(receiver.deliveries[0].body)["event"] == "payroll.completed")
    }

    @Test func payRunsBalance() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 2, tickets: 10)
        let runs = try await sim.call("GET", "/payroll/pay_runs", headers: sim.retail)
        #expect(runs.json["StatusCode"] == 200)
        let run = try #require(runs.json["Results"]?.arrayValue?.first)
        #expect(run["check_date"] == "11/27/2026")
        #expect(run["paychecks"]?.arrayValue?.count == 8)
        for check in run["paychecks"]?.arrayValue ?? [] {
            let gross = Money.cents(fromDollars: check["gross"])!
            let withheld = (check["taxes"]?.arrayValue ?? []).filter { $0["type"] == "EMPLOYEE" }
                .reduce(Int64(0)) { $0 + Money.cents(fromDollars: $1["amount"])! }
            let deductions = (check["deductions"]?.arrayValue ?? []).reduce(Int64(0)) { $0 + Money.cents(fromDollars: $1["amount"])! }
            #expect(Money.cents(fromDollars: check["net"]) == gross - withheld - deductions)
            #expect(check["taxes"]?.arrayValue?.contains { $0["type"] == "EMPLOYER" && $0["code"] == "FUTA" } == true)
        }
        #expect(try await sim.call("GET", "/payroll/pay_runs/PR_nope", headers: sim.retail).status == 404)
    }
}
