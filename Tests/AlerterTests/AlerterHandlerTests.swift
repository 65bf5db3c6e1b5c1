import AMQP
import Accounting
import Foundation
import Hummingbird
import Logging
import Messaging
import Synchronization
import TestPrograms
import Testing
@testable import Alerter

/// The alerter with a real operations store (SQLite file) and a real webhook receiver (Hummingbird on port 0).
@Suite struct AlerterHandlerTests {
    let logger: Logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()

    func store() throws -> OperationsStore {
        try OperationsStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("ops-\(UUID().uuidString).sqlite").path)
    }

    func message(_ key: String, _ body: some Encodable, id: String = UUID().uuidString, exchange: String = "bridge.alerts",
                 headers: FieldTable = [:]) throws -> InboundMessage {
        InboundMessage(Delivery(exchange: exchange, routingKey: key, properties: MessageProperties(messageID: id, correlationID: "c", headers: headers),
                                body: Array(try JSONEncoder().encode(body))))
    }

    /// Runs `body` with a webhook receiver; returns the bodies it received.
    func withWebhook(_ body: (URL) async throws -> Void) async throws -> [String] {
        let received = Mutex<[String]>([])
        let router = Router()
        router.post("/hook") { request, context -> HTTPResponse.Status in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            received.withLock { $0.append(String(buffer: buffer)) }
            return .ok
        }
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } }, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            try await eventually(every: .milliseconds(10), "the server listening") { port.withLock { $0 } != nil }
            try await body(URL(string: "http://127.0.0.1:\(try #require(port.withLock { $0 }))/hook")!)
            group.cancelAll()
        }
        return received.withLock { $0 }
    }

    @Test func alertsWithTheSameCauseAreGroupedNotRepeated() async throws {
        let store = try store()
        let posts = try await withWebhook { url in
            let handler = AlerterHandler(store: store, webhook: url)
            for n in 0..<12 {
                let alert = AlertNotice(kind: .deadLettered, severity: "error", stage: "sage-loader",
                                        reason: "GL account 4010 (mapping rule sales.revenue) does not exist", messageId: "m\(n)")
                _ = try await handler.handle(try message("alert.dead_lettered.sage-loader", alert, id: "m\(n)"), logger: logger)
            }
            // A redelivered message changes nothing.
            let again = AlertNotice(kind: .deadLettered, severity: "error", stage: "sage-loader", reason: "GL account 4010 (mapping rule sales.revenue) does not exist")
            _ = try await handler.handle(try message("alert.dead_lettered.sage-loader", again, id: "m0"), logger: logger)
        }
        #expect(posts.count == 2, "announced at the first and the tenth occurrence: \(posts)")
        #expect(posts[0].contains("\"text\":\"[ERROR] sage-loader: GL account 4010"))
        #expect(posts[1].contains("(10 times since"))
        let groups = try await store.alertGroups()
        #expect(groups.count == 1)
        #expect(groups[0].count == 12)
    }

    /// A message delivered again under its id but with another text (a stage that rebuilt it) is kept once under that
    /// text; the alerter used to crash on it, on every delivery, until the broker parked it.
    @Test func aMessageSeenBeforeWithAnotherTextIsKeptNotACrash() async throws {
        let store = try store()
        let handler = AlerterHandler(store: store, webhook: nil)
        let first = AlertNotice(kind: .cardTesting, severity: "error", stage: "fraud-scorer", reason: "card testing: 4 tiny authorisations")
        _ = try await handler.handle(try message("alert.card_testing.fraud-scorer", first, id: "m1"), logger: logger)
        let rebuilt = AlertNotice(kind: .cardTesting, severity: "error", stage: "fraud-scorer", reason: "card testing: 9 tiny authorisations")
        _ = try await handler.handle(try message("alert.card_testing.fraud-scorer", rebuilt, id: "m1"), logger: logger)
        let groups = try await store.alertGroups()
        #expect(groups.map(\.count) == [1, 1])
    }

    /// A notice whose first handling failed comes back from the alerter's delay tier through the default
    /// exchange under the key `alerter`: its own type says what it is, so it is stored, not refused.
    @Test func aNoticeBackFromADelayTierIsKnownByItsType() async throws {
        let store = try store()
        let handler = AlerterHandler(store: store, webhook: nil)
        let notice = AuditNotice(event: .posted, stage: "sage-loader", detail: "HL-1 posted as Sage batch 7")
        let back = InboundMessage(Delivery(exchange: "", routingKey: "alerter", properties: MessageProperties(
            messageID: "m-back", correlationID: "c", type: "audit.posted.sage-loader", headers: [Header.attempt: .int(2)]),
            body: Array(try JSONEncoder().encode(notice))))
        _ = try await handler.handle(back, logger: logger)
        let events = try await store.auditEvents()
        #expect(events.contains { $0.event == "posted" && $0.detail == "HL-1 posted as Sage batch 7" })
    }

    @Test func deadLetterCopiesJoinTheRunnersAlertGroup() async throws {
        let store = try store()
        let handler = AlerterHandler(store: store, webhook: nil)
        let alert = AlertNotice(kind: .deadLettered, severity: "error", stage: "transformer", reason: "gave up after 5 attempts: Heartland 503")
        _ = try await handler.handle(try message("alert.dead_lettered.transformer", alert), logger: logger)
        let copy = InboundMessage(Delivery(exchange: "bridge.dead", routingKey: "transformer", properties: MessageProperties(
            messageID: "x", headers: [Header.failedStage: .string("transformer"), Header.lastError: .string("Heartland 503"),
                                      Header.errorClass: .string("transient"), Header.attempt: .int(5)]), body: Array("{}".utf8)))
        _ = try await handler.handle(copy, logger: logger)
        let groups = try await store.alertGroups()
        #expect(groups.count == 1)
        #expect(groups.first?.count == 2)
    }

    /// One Heartland outage while many refunds wait: one group, not one per refund or per attempt.
    @Test func anOutageIsOneGroupWhateverRecordsAndAttemptsItHits() async throws {
        let store = try store()
        for (record, attempt) in [("TRN_AB12CD", 3), ("TRN_EF34GH", 3), ("TRN_AB12CD", 23)] {
            let alert = AlertNotice(kind: .sourceUnavailable, severity: "warning", stage: "heartland-ingest",
                                    reason: "Heartland unavailable: 503; refund \(record) waits in the ingest inbox and is retried "
                                        + "(attempt \(attempt), next in 4.0 s)")
            _ = try await store.record(alert, messageID: UUID().uuidString)
        }
        let other = AlertNotice(kind: .sourceUnavailable, severity: "warning", stage: "heartland-ingest", reason: "Heartland refused the credentials")
        _ = try await store.record(other, messageID: UUID().uuidString)
        #expect(try await store.alertGroups().map(\.count).sorted() == [1, 3])
    }

    @Test func reconciliationsAreStoredAndAMismatchRaisesAnAlert() async throws {
        let store = try store()
        let handler = AlerterHandler(store: store, webhook: nil)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let rules = try MappingRules.load(path: root.appendingPathComponent("Config/mapping.yaml").path)
        func journal(_ reference: String) throws -> JournalEntry {
            try JournalEntry.balanced(
                source: .settlement, reference: reference, idempotencyKey: "k-\(reference)", postingDate: try BusinessDate(year: 2026, month: 11, day: 26),
                description: "day", currency: .usd,
                lines: [JournalLine(account: AccountNumber("1100"), rule: "tenders.cash", description: "cash", side: .debit, amount: Money(minorUnits: 540, currency: .usd)),
                        JournalLine(account: AccountNumber("4000"), rule: "sales.revenue", description: "sales", side: .credit, amount: Money(minorUnits: 540, currency: .usd))])
        }
        let matched = Reconciler.reconcile(storeID: StoreID("S1"), expected: try journal("HL-S1-20261126-B1"), batch: nil, sage: SageReadBack(
            reference: "HL-S1-20261126-B1", lines: [PostedLine(account: AccountNumber("1100"), signedCents: 540), PostedLine(account: AccountNumber("4000"), signedCents: -540)]),
            rules: rules)
        let mismatched = Reconciler.reconcile(storeID: StoreID("S2"), expected: try journal("HL-S2-20261126-B2"), batch: nil, sage: SageReadBack(
            reference: "HL-S2-20261126-B2", lines: [PostedLine(account: AccountNumber("1100"), signedCents: 500), PostedLine(account: AccountNumber("4000"), signedCents: -540)]),
            rules: rules)
        #expect(matched.status == .matched && mismatched.status == .mismatched)
        _ = try await handler.handle(try message("audit.reconciliation.matched", matched, exchange: "bridge.audit"), logger: logger)
        _ = try await handler.handle(try message("audit.reconciliation.mismatched", mismatched, exchange: "bridge.audit"), logger: logger)
        #expect(try await store.reconciliations(businessDate: "2026-11-26").map(\.reference) == ["HL-S1-20261126-B1", "HL-S2-20261126-B2"])
        #expect(try await store.reconciliations(businessDate: "2026-11-27").isEmpty)
        let alerts = try await store.alertGroups()
        #expect(alerts.map(\.kind) == ["reconciliation_mismatch"])
        #expect(alerts.first?.reason.contains("-0.40") == true, "\(alerts)")
    }
}
