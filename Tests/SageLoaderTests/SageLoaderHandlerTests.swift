import AMQP
import Accounting
import Foundation
import Logging
import Messaging
import PipelineContracts
import SageConnector
import SageSimulator
import SimulatorKit
import Testing
@testable import SageLoader

/// The loader against the real Sage simulator (in-process, port 0, temporary SQLite).
@Suite struct SageLoaderHandlerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The standard mapping, whose chart also lists 4010 (which Sage lacks: the missing-account case).
    static let rules: MappingRules = {
        var rules = try! MappingRules.load(path: root.appendingPathComponent("Config/mapping.yaml").path)
        rules.accounts["4010"] = "Other revenue"
        return rules
    }()
    static let logger: Logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()

    struct Sage {
        let simulator: SageSimulator
        let running: RunningSimulator
        let folder: URL
        var client: SageWebAPIClient {
            SageWebAPIClient(connection: SageConnection(server: running.baseURL, company: "SAMINC",
                                                        credentials: SageCredentials(user: "ADMIN", password: "pw"), timeout: .seconds(5)),
                             logger: logger)
        }
        /// A loader as one replica runs it, with its own ledger.
        func handler(ledger name: String = "ledger", client: (any SageClient)? = nil) throws -> SageLoaderHandler {
            SageLoaderHandler(client: client ?? self.client, ledger: try IdempotencyStore(path: folder.appendingPathComponent("\(name).sqlite").path),
                              rules: rules, company: "SAMINC")
        }
    }

    /// What the stage runner does once the broker has confirmed an outcome's messages.
    static func confirmed(_ outcome: StageOutcome) async throws -> StageOutcome {
        for step in outcome.onConfirmed { try await step() }
        return outcome.base
    }

    /// The real client, except that its first read-back (the look-up right after a post) fails as a timeout
    /// would, after the post went through.
    final class ReadBackFailsOnce: SageClient, @unchecked Sendable {
        let real: any SageClient
        private var posted = false, failed = false
        init(_ real: any SageClient) { self.real = real }
        func post(_ batch: SageJournalBatch) async throws -> SagePostingReceipt {
            defer { posted = true }
            return try await real.post(batch)
        }
        func findJournal(reference: String) async throws -> SagePostedJournal? { try await real.findJournal(reference: reference) }
        func readJournal(batchNumber: SageBatchNumber) async throws -> SagePostedJournal { try await real.readJournal(batchNumber: batchNumber) }
        func postedJournals(reference: String) async throws -> [SagePostedJournal] {
            if posted && !failed { failed = true; throw SageError.unavailable(.timeout) }
            return try await real.postedJournals(reference: reference)
        }
        func deleteBatch(_ batchNumber: SageBatchNumber) async throws { try await real.deleteBatch(batchNumber) }
        func accountExists(_ account: String) async throws -> Bool { try await real.accountExists(account) }
    }

    static func withSage(_ body: (Sage) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sage-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var options = SageSimulator.Options()
        options.user = "ADMIN"
        options.password = "pw"
        options.server.databasePath = folder.appendingPathComponent("sage.sqlite").path
        let simulator = try SageSimulator(options: options, logger: logger)
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: logger)
        try await body(Sage(simulator: simulator, running: running, folder: folder))
        await running.stop()
    }

    /// Cash 5.40 and Visa 12.80 in; revenue 15.00, tax 1.20, tips 2.00 out; `account` replaces 4000 to test a missing account.
    static func document(reference: String, revenueAccount: String = "4000") throws -> JournalDocument {
        func line(_ account: String, _ rule: String, _ side: JournalLine.Side, _ cents: Int64) -> JournalLine {
            JournalLine(account: AccountNumber(account), rule: rule, description: rule, side: side, amount: Money(minorUnits: cents, currency: .usd))
        }
        let entry = try JournalEntry.balanced(
            source: .settlement, reference: reference, idempotencyKey: "heartland:batch:\(reference)",
            postingDate: try BusinessDate(year: 2026, month: 11, day: 26), description: "Store day", currency: .usd,
            lines: [line("1100", "tenders.cash", .debit, 540), line("1210", "tenders.card_brands.visa", .debit, 1280),
                    line(revenueAccount, "sales.revenue", .credit, 1500), line("2200", "sales.sales_tax", .credit, 120),
                    line("2210", "sales.tips", .credit, 200)])
        return JournalDocument(journal: entry, storeID: "S-LA", batch: nil, fraudAssessment: "not_assessed")
    }

    static func message(_ document: JournalDocument, id: String = UUID().uuidString, redelivered: Bool = false) throws -> InboundMessage {
        InboundMessage(Delivery(redelivered: redelivered, routingKey: document.routingKey, properties: MessageProperties(
            messageID: id, type: document.routingKey, headers: [Header.idempotencyKey: .string(document.journal.idempotencyKey)]),
            body: Array(try JSONEncoder().encode(document))))
    }

    @Test func postsOnceReadsBackAndReconciles() async throws {
        try await Self.withSage { sage in
            let document = try Self.document(reference: "HL-S-LA-20261126-B1")
            let outcome = try await Self.confirmed(try await sage.handler().handle(try Self.message(document), logger: Self.logger))
            guard case .publish(let notices) = outcome else { Issue.record("expected notices"); return }
            #expect(notices.map(\.routingKey) == ["audit.posted.sage-loader", "audit.reconciliation.matched"])
            let report = try JSONDecoder().decode(ReconciliationReport.self, from: Data(notices[1].body))
            #expect(report.status == .matched)
            let held = try #require(try await sage.client.findJournal(reference: "HL-S-LA-20261126-B1"))
            #expect(held.netByAccount == ["1100": 540, "1210": 1280, "4000": -1500, "2200": -120, "2210": -200])
        }
    }

    @Test func aSecondDeliveryOrASecondReplicaIsADuplicateNotASecondPosting() async throws {
        try await Self.withSage { sage in
            let document = try Self.document(reference: "HL-S-LA-20261126-B2")
            _ = try await Self.confirmed(try await sage.handler().handle(try Self.message(document), logger: Self.logger))
            // Same process (local ledger) and another replica with an empty ledger (Sage is the authority).
            let again = try await Self.confirmed(try await sage.handler().handle(try Self.message(document), logger: Self.logger))
            let otherReplica = try await Self.confirmed(try await sage.handler(ledger: "replica-2").handle(try Self.message(document), logger: Self.logger))
            guard case .duplicate(let local, _) = again, case .duplicate(let remote, let resent) = otherReplica else {
                Issue.record("expected duplicates"); return
            }
            #expect(local.contains("local ledger"))
            #expect(remote.contains("Sage already holds"))
            // The replica cannot know whether the first poster's notices went out (it may have crashed before
            // its results were published): it sends them again, from Sage's copy.
            #expect(resent.map(\.routingKey) == ["audit.posted.sage-loader", "audit.reconciliation.matched"])
        }
    }

    /// A journal this loader handled to the end, redelivered because its connection to the broker was lost before the
    /// ack (a cluster node gone), is answered at once: none of this process's posts for it can be in doubt. The same
    /// redelivery on another replica (or on this loader restarted) waits the in-doubt window first.
    @Test(.timeLimit(.minutes(1))) func aRedeliveryOfAJournalHandledHereToTheEndDoesNotWaitTheInDoubtWindow() async throws {
        try await Self.withSage { sage in
            func loader(_ ledger: String, window: Duration) throws -> SageLoaderHandler {
                SageLoaderHandler(client: sage.client, ledger: try IdempotencyStore(path: sage.folder.appendingPathComponent("\(ledger).sqlite").path),
                                  rules: Self.rules, company: "SAMINC", inDoubtWindow: window)
            }
            let document = try Self.document(reference: "HL-S-LA-20261126-R1")
            let id = UUID().uuidString
            let here = try loader("ledger", window: .seconds(3_600))
            _ = try await Self.confirmed(try await here.handle(try Self.message(document, id: id), logger: Self.logger))
            let again = try await Self.confirmed(try await here.handle(try Self.message(document, id: id, redelivered: true), logger: Self.logger))
            guard case .duplicate = again else { Issue.record("expected a duplicate, got \(again)"); return }
            // A new handler for a changed mapping (sage-loader's JournalsWithMappingInForce) keeps what this process handled.
            let remade = try loader("ledger-2", window: .seconds(3_600)).remembering(handledBy: here)
            let afterMappingChange = try await Self.confirmed(try await remade.handle(try Self.message(document, id: id, redelivered: true),
                                                                                      logger: Self.logger))
            guard case .duplicate = afterMappingChange else { Issue.record("expected a duplicate, got \(afterMappingChange)"); return }

            let window = Duration.milliseconds(300)
            let elsewhere = try loader("replica-2", window: window)
            let started = ContinuousClock.now
            let there = try await Self.confirmed(try await elsewhere.handle(try Self.message(document, id: id, redelivered: true), logger: Self.logger))
            #expect(ContinuousClock.now - started >= window, "a replica that did not handle it waits for a post in doubt")
            guard case .duplicate = there else { Issue.record("expected a duplicate, got \(there)"); return }
            #expect(try await sage.client.postedJournals(reference: "HL-S-LA-20261126-R1").count == 1)
        }
    }

    /// The post succeeds and the read-back fails (or the process dies before the broker confirmed the notices):
    /// the retry finds the ledger entry, and because the notices were never confirmed it sends the `posted`
    /// audit and the reconciliation from Sage's copy instead of answering "already posted" with nothing.
    /// Once they are confirmed, a further copy is a plain duplicate.
    @Test func noticesLostAfterAPostAreDerivedFromSagesCopy() async throws {
        try await Self.withSage { sage in
            let document = try Self.document(reference: "HL-S-LA-20261126-B5")
            let handler = try sage.handler(client: ReadBackFailsOnce(sage.client))
            await #expect(throws: StageError.self) { try await handler.handle(try Self.message(document), logger: Self.logger) }
            #expect(try await sage.client.findJournal(reference: "HL-S-LA-20261126-B5") != nil, "posted before the read-back failed")

            let retried = try await handler.handle(try Self.message(document), logger: Self.logger)
            guard case .duplicate(let detail, let notices) = retried.base else { Issue.record("expected a duplicate with notices"); return }
            #expect(detail.contains("notices sent from Sage's copy"), "\(detail)")
            #expect(notices.map(\.routingKey) == ["audit.posted.sage-loader", "audit.reconciliation.matched"])
            let posted = try JSONDecoder().decode(AuditNotice.self, from: Data(notices[0].body))
            #expect(posted.event == "posted" && posted.detail.contains("confirmed from Sage's copy"))

            // The broker did not confirm them (a crash): the next copy derives them again.
            let afterCrash = try await Self.confirmed(try await handler.handle(try Self.message(document), logger: Self.logger))
            guard case .duplicate(_, let again) = afterCrash else { Issue.record("expected a duplicate"); return }
            #expect(again.count == 2)
            // Confirmed now: nothing more to say.
            let later = try await handler.handle(try Self.message(document), logger: Self.logger)
            guard case .duplicate(let plain, let none) = later else { Issue.record("expected a plain duplicate"); return }
            #expect(none.isEmpty && plain.contains("notices confirmed"), "\(plain)")
            #expect(try await sage.client.findJournal(reference: "HL-S-LA-20261126-B5")?.entries.count == 1)
        }
    }

    /// Two copies handled at the same moment (two replicas, or one batch): both pass the lookup, Sage refuses
    /// the second post, and that copy is a duplicate, not a failure to park.
    @Test func copiesPostedAtTheSameMomentPostOnceAndTheOtherIsADuplicate() async throws {
        try await Self.withSage { sage in
            let document = try Self.document(reference: "HL-S-LA-20261126-B4")
            let outcomes = try await withThrowingTaskGroup(of: StageOutcome.self) { group in
                for replica in 0..<4 {
                    // Sage has no unique key on references: the four may all post; the loaders keep the lowest batch.
                    let handler = try sage.handler(ledger: "replica-\(replica)")
                    let message = try Self.message(document)
                    group.addTask { try await handler.handle(message, logger: Self.logger) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let posted = outcomes.filter { if case .publish = $0.base { return true } else { return false } }
            #expect(posted.count == 1)
            #expect(outcomes.count == 4)
            #expect(try await sage.client.postedJournals(reference: "HL-S-LA-20261126-B4").count == 1, "one entry left in Sage")
        }
    }

    @Test func aMissingAccountIsPermanentNamesTheRuleAndPostsNothing() async throws {
        try await Self.withSage { sage in
            let document = try Self.document(reference: "HL-S-LA-20261126-B3", revenueAccount: "4010")
            do {
                _ = try await sage.handler().handle(try Self.message(document), logger: Self.logger)
                Issue.record("expected a permanent error")
            } catch let error as StageError {
                #expect(error.errorClass == .permanent)
                #expect(error.description.contains("GL account 4010 (mapping rule sales.revenue) does not exist in Sage company SAMINC"), "\(error)")
                #expect(error.description.contains("bridgectl dlq replay sage-loader"))
            }
            let posted = try await sage.client.findJournal(reference: "HL-S-LA-20261126-B3")
            #expect(posted == nil)
        }
    }
}
