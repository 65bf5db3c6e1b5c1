import AMQP
import Accounting
import Alerter
import Foundation
import Messaging
import PipelineContracts
import TestPrograms
import XCTest

/// Exactly once against a Sage that, like Sage 300, keeps no unique key on a journal's reference
/// (sage-pro-sim's default): only the loaders stand between a journal and a second post.
final class LoaderExactlyOnceTests: XCTestCase {
    /// A settlement journal of `store` as the fraud scorer hands it to the loaders.
    static func document(store: String, cents: Int64) throws -> JournalDocument {
        func line(_ account: String, _ side: JournalLine.Side, _ amount: Int64) -> JournalLine {
            JournalLine(account: AccountNumber(account), rule: "test", description: "test", side: side, amount: Money(minorUnits: amount, currency: .usd))
        }
        let entry = try JournalEntry.balanced(
            source: .settlement, reference: "HL-\(store)-20261126-BAT_1", idempotencyKey: "heartland:batch:\(store)-BAT_1",
            postingDate: try BusinessDate(year: 2026, month: 11, day: 26), description: "Store day \(store)", currency: .usd,
            lines: [line("1210", .debit, cents), line("4000", .credit, cents)])
        return JournalDocument(journal: entry, storeID: store, batch: nil, fraudAssessment: "allowed")
    }

    static func message(_ body: Data, key: String) -> OutgoingMessage {
        OutgoingMessage(exchange: "bridge.commands", routingKey: "sage.journal.settlement", properties: MessageProperties(
            messageID: MessageID.random(), correlationID: "exactly-once", type: "sage.journal.settlement",
            headers: [Header.idempotencyKey: .string(key)]), body: Array(body))
    }

    /// Four loaders; every journal delivered three times within milliseconds; Sage answering 200 ms late, one
    /// request in ten a 503 and a burst of 429s; one loader SIGKILLed twice while posts are on their way.
    /// Every journal is in Sage exactly once (entries counted per reference) and every reconciliation arrives.
    func testEveryJournalPostsOnceWithFourLoadersTripleDeliveryFaultsAndKilledLoaders() async throws {
        let flow = try await BridgeFlow.start(loaders: 4, loaderEnvironment: ["SAGE_TIMEOUT_SECONDS": "5"],
                                              retryDelays: [.seconds(1), .seconds(2), .seconds(5), .seconds(10)])
        try await flow.sageFaults(#"{"latency_ms": 200, "error_rate": 0.1, "error_status": 503, "rate_limit_burst": 6, "retry_after_seconds": 1}"#)
        let run = "XO\(UInt32.random(in: 0...UInt32.max))"
        let stores = (1...30).map { String(format: "\(run)-%02d", $0) }
        let session = try await flow.broker.session("exactly-once")
        for (index, store) in stores.enumerated() {
            let document = try Self.document(store: store, cents: Int64(1_000 + index))
            let body = try JSONEncoder().encode(document)
            // Three copies in one publish: they reach the loaders a few milliseconds apart.
            try await session.publish((0..<3).map { _ in Self.message(body, key: document.journal.idempotencyKey) })
        }
        await session.close()
        let references = stores.map { "HL-\($0)-20261126-BAT_1" }

        // Entries of this run in Sage, in one request (which the faults may fail: then "not yet").
        func inSage() async -> Int { (try? await flow.sageEntries(filter: "startswith(DocumentNumber,'HL-\(run)-')")) ?? 0 }
        // Killed twice while posts are in flight (each answer takes 200 ms), and started again.
        for (kill, after) in [(1, 3), (2, 12)] {
            try await eventually(timeout: .seconds(120), "\(after) journals in Sage before kill \(kill)") { await inSage() >= after }
            let victim = flow.processes["sage-loader-1"]!
            victim.signal(SIGKILL)
            _ = try await victim.waitForExit()
            try flow.restartLoader(1)
        }
        try await eventually(timeout: .seconds(240), "every journal in Sage") { await inSage() >= references.count }
        try await flow.sageFaults(nil)
        // Each reference exactly once: copies posted by racing deliveries are deleted, journals still waiting post.
        try await eventually(timeout: .seconds(240), "every journal in Sage exactly once") {
            for reference in references where try await flow.sageEntries(reference: reference) != 1 { return false }
            return true
        }
        try await eventually(timeout: .seconds(120), "every copy handled: nothing waiting, nothing in a handler") { try await flow.settled("sage-loader") }
        for reference in references {
            let entries = try await flow.sageEntries(reference: reference)
            XCTAssertEqual(entries, 1, "\(reference) is in Sage exactly once")
        }
        try await eventually(timeout: .seconds(180), "every reconciliation arrived") {
            let reconciled = Set(try await OperationsStore(path: flow.operations).reconciliations().map(\.reference))
            return reconciled.isSuperset(of: references)
        }
        let parked = try await flow.depth("sage-loader.dlq")
        XCTAssertEqual(parked, 0, "nothing parked")
    }

    /// Journals no loader may post, written by hand: unbalanced, a negative amount, Int64.min, an account the
    /// mapping does not know, a date years away. Each is parked with its reason; the loader keeps running and
    /// posts the good journal that follows.
    func testBadJournalsAreParkedWithReasonsAndTheLoaderKeepsRunning() async throws {
        let flow = try await BridgeFlow.start()
        let good = try Self.document(store: "GOOD-\(UInt32.random(in: 0...UInt32.max))", cents: 1_234)
        let template = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(good)) as? [String: Any])
        func variant(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> (String, Data) {
            var journal = template["journal"] as! [String: Any]
            journal["reference"] = "HL-BAD-\(name)"
            journal["idempotencyKey"] = "heartland:batch:bad-\(name)-\(UUID().uuidString)"
            change(&journal)
            var document = template
            document["journal"] = journal
            return (journal["idempotencyKey"] as! String, try JSONSerialization.data(withJSONObject: document))
        }
        func setAmount(_ journal: inout [String: Any], line: Int, _ minorUnits: Any) {
            var lines = journal["lines"] as! [[String: Any]]
            var amount = lines[line]["amount"] as! [String: Any]
            amount["minorUnits"] = minorUnits
            lines[line]["amount"] = amount
            journal["lines"] = lines
        }
        let bad = [
            try variant("unbalanced") { setAmount(&$0, line: 0, 1_235) },
            try variant("negative") { setAmount(&$0, line: 0, -1_234); setAmount(&$0, line: 1, -1_234) },
            try variant("int64min") { setAmount(&$0, line: 0, Int64.min); setAmount(&$0, line: 1, Int64.min) },
            try variant("account") { journal in
                var lines = journal["lines"] as! [[String: Any]]
                lines[1]["account"] = "9999"
                journal["lines"] = lines
            },
            try variant("date") { $0["postingDate"] = "2019-01-01" },
        ]
        let session = try await flow.broker.session("bad-journals")
        for (key, body) in bad { try await session.publish([Self.message(body, key: key)]) }
        try await session.publish([Self.message(try JSONEncoder().encode(good), key: good.journal.idempotencyKey)])
        await session.close()

        try await eventually(timeout: .seconds(60), "the good journal posts after the bad ones") {
            try await flow.sage.findJournal(reference: good.journal.reference) != nil
        }
        try await eventually(timeout: .seconds(30), "every bad journal parked") { try await flow.depth("sage-loader.dlq") == bad.count }
        let admin = try await flow.broker.session("dlq-reader")
        let parked = try await DeadLetterChannel(stage: "sage-loader").list(session: admin, limit: 20)
        await admin.close()
        let reasons = parked.map(\.lastError)
        for expected in ["does not balance", "non-positive amount", "non-positive amount", "9999", "posting date 2019-01-01"] {
            XCTAssertTrue(reasons.contains { $0.contains(expected) }, "a reason names '\(expected)': \(reasons)")
        }
        XCTAssertTrue(flow.processes["sage-loader-1"]!.isRunning, "the loader is still running")
        for name in ["unbalanced", "negative", "int64min", "account", "date"] {
            let found = try await flow.sage.findJournal(reference: "HL-BAD-\(name)")
            XCTAssertNil(found, "\(name) never reached Sage")
        }
    }
}
