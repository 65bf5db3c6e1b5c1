import Accounting
import Alerter
import BookOracle
import Foundation
import HeartlandSimulator
import HeartlandIngest
import SageConnector
import TestPrograms
import XCTest

/// The whole path from heartland-sim to sage-pro-sim, every part a process: heartland-ingest
/// (webhooks and polling), transformer, fraud-scorer, sage-loader(s), alerter, on the standard
/// topology. The seed's error cases that start at Heartland are here.
final class IngestFlowTests: XCTestCase {
    static func reference(store: String, day: String, batch: String) -> String {
        "HL-\(store)-\(day.replacingOccurrences(of: "-", with: ""))-\(batch)"
    }

    /// Every batch.closed webhook delivered twice, the poller listing the same batches every second,
    /// two sage-loaders, one of them killed mid-run: each store's batch is in Sage exactly once, with
    /// the account totals an independent oracle (BookOracle) computes from the generated records, the
    /// ingest inbox published each once, and every reconciliation matched.
    func testStoreDayIsPostedExactlyOnceDespiteDuplicatesOverlapAndACrashedLoader() async throws {
        let flow = try await BridgeFlow.start(loaders: 2)
        let fixture = try StoreDayFixture.decode(try await flow.startHeartland(stores: 3, tickets: 120, duplicateRate: 1, pollSeconds: 1))
        let day = flow.day
        try await flow.closeBatches()
        let batches = try await flow.closedBatches(day: day)
        XCTAssertEqual(batches.count, 3)
        let references = batches.map { Self.reference(store: $0.store, day: day, batch: $0.id) }

        // A crash: the first loader dies without warning once anything is posted; what it held is redelivered.
        try await eventually(timeout: .seconds(60), "a first journal in Sage") {
            for reference in references where try await flow.sage.findJournal(reference: reference) != nil { return true }
            return false
        }
        flow.processes["sage-loader-1"]?.signal(SIGKILL)

        try await eventually(timeout: .seconds(90), "every batch in Sage") {
            for reference in references where try await flow.sage.findJournal(reference: reference) == nil { return false }
            return true
        }
        let inbox = try IngestInbox(path: flow.inboxPath!)
        // The day's batches (the poller's first sweep also finds the day before's, closed when generated).
        let closedToday = Set(batches.map(\.id))
        try await eventually("the poller has seen the batches too") {
            try await inbox.entries().filter { $0.kind == "batch" && closedToday.contains($0.sourceID) }.allSatisfy { $0.sightings >= 3 }
        }
        let entries = try await inbox.entries()
        XCTAssertEqual(entries.filter { batches.map(\.id).contains($0.sourceID) }.map(\.status), [.published, .published, .published])
        var reports: [ReconciliationReport] = []
        // Generous: the crashed loader's journal is redelivered and waits sage-loader's 35 s in-doubt window before it posts
        // (38 s for the whole test alone; 60 s ran out once in a full run on the loaded machine).
        try await eventually(timeout: .seconds(180), "all reconciled and matched (the card refunds posted on their own included)") {
            reports = try await OperationsStore(path: flow.operations).reconciliations(businessDate: day)
            return Set(reports.filter { $0.status == .matched }.map(\.reference)) == Set(references)
        }
        for (batch, reference) in zip(batches, references) {
            let entries = try await flow.sageEntries(reference: reference)
            XCTAssertEqual(entries, 1, "\(reference) posted once")
            // What Sage holds for the store day (its day journal and its card refunds, each posted once) against
            // the rules of ACCOUNTING.md applied by the test's own oracle to the generated records.
            let refunds = try XCTUnwrap(reports.first { $0.reference == reference }?.refunds?.map(\.reference) ?? [])
            XCTAssertFalse(refunds.isEmpty, "\(reference): the generated day has card refunds")
            var held: [String: Int64] = [:]
            for posted in [reference] + refunds {
                let count = try await flow.sageEntries(reference: posted)
                XCTAssertEqual(count, 1, "\(posted) posted once")
                for (account, cents) in try await flow.sage.findJournal(reference: posted)?.netByAccount ?? [:] { held[account, default: 0] += cents }
            }
            let location = try XCTUnwrap(fixture.locations.first { $0.publicId == batch.store }).id
            let expected = ExpectedBooks.settlement(fixture: fixture, locationID: location, businessDay: day)
            XCTAssertEqual(held.filter { $0.value != 0 }, expected, "\(reference): Sage against the oracle")
        }
        let parked = try await flow.depth("sage-loader.dlq") + flow.depth("transformer.dlq")
        XCTAssertEqual(parked, 0)
    }

    /// A pay run completed in Heartland (webhook) becomes one payroll journal in Sage: gross to wages,
    /// employer taxes to their expense, one liability line per tax and deduction code, net to the bank;
    /// the expected amounts are summed here from the generated records, apart from the product's code.
    func testCompletedPayRunBecomesOnePayrollJournal() async throws {
        let flow = try await BridgeFlow.start()
        let fixture = try StoreDayFixture.decode(try await flow.startHeartland(stores: 1, tickets: 5))
        let run = try XCTUnwrap(fixture.payRuns.first)
        try await flow.heartlandAdmin("POST", "admin/pay_runs/\(run.id)/complete", "{}")
        var held: [String: Int64]?
        try await eventually(timeout: .seconds(60), "the payroll journal is in Sage") {
            held = try await flow.sage.findJournal(reference: "HL-PAY-\(run.id)")?.netByAccount
            return held != nil
        }
        // ACCOUNTING.md's payroll rule over the generated paychecks (debit +, credit −).
        let liability = ["FIT": "2100", "SIT": "2110", "SS": "2120", "MED": "2120", "FUTA": "2130", "SUI": "2140"]
        var expected: [String: Int64] = [:]
        for check in run.paychecks {
            expected["6000", default: 0] += check.grossCents
            expected["1000", default: 0] -= check.netCents
            for tax in check.taxes {
                expected[try XCTUnwrap(liability[tax.code]), default: 0] -= tax.amountCents
                if tax.type == "EMPLOYER" { expected["6010", default: 0] += tax.amountCents }
            }
            for deduction in check.deductions { expected["2150", default: 0] -= deduction.amountCents }
        }
        XCTAssertEqual(held, expected.filter { $0.value != 0 })
        let entries = try await flow.sageEntries(reference: "HL-PAY-\(run.id)")
        XCTAssertEqual(entries, 1)
    }

    /// The mapping lacks a tax code the pay run uses (SUI): the whole run waits in `transformer.dlq`, an
    /// alert names the code; with the mapping fixed and the transformer restarted, `bridgectl dlq replay
    /// transformer` posts it.
    func testUnmappedPayrollTaxCodeHoldsTheRunUntilTheMappingIsFixed() async throws {
        let fixed = repositoryRoot.appendingPathComponent("Config/mapping.yaml").path
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-no-sui-\(UUID().uuidString).yaml")
        let text = try String(contentsOfFile: fixed, encoding: .utf8)
        XCTAssertTrue(text.contains("    SUI: \"2140\""))
        try text.replacingOccurrences(of: "    SUI: \"2140\"", with: "").write(to: broken, atomically: true, encoding: .utf8)
        let flow = try await BridgeFlow.start(mapping: broken.path)
        let fixture = try StoreDayFixture.decode(try await flow.startHeartland(stores: 1, tickets: 5))
        let run = try XCTUnwrap(fixture.payRuns.first)
        try await flow.heartlandAdmin("POST", "admin/pay_runs/\(run.id)/complete", "{}")
        try await eventually(timeout: .seconds(60), "the run is parked") { try await flow.depth("transformer.dlq") == 1 }
        try await eventually("an alert names the code") {
            try await OperationsStore(path: flow.operations).alertGroups().contains { $0.stage == "transformer" && $0.reason.contains("SUI") }
        }
        let nothing = try await flow.sage.findJournal(reference: "HL-PAY-\(run.id)")
        XCTAssertNil(nothing)

        try await flow.restartTransformer(mapping: fixed)
        let replay = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "replay", "transformer", "--amqp-url", flow.broker.amqpURL])
        let replayed = try await replay.waitForExit()
        XCTAssertEqual(replayed, 0, replay.log)
        try await eventually(timeout: .seconds(60), "posted after the replay") {
            try await flow.sage.findJournal(reference: "HL-PAY-\(run.id)") != nil
        }
    }

    /// The same unmapped code, fixed by rewriting the transformer's mapping file in place (as the console's mapping page
    /// saves it): the running transformer reads it again, and the replay posts the run, with no restart.
    func testAMappingFixedInPlaceIsPickedUpWithoutRestartingTheTransformer() async throws {
        let fixed = try String(contentsOfFile: repositoryRoot.appendingPathComponent("Config/mapping.yaml").path, encoding: .utf8)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-in-place-\(UUID().uuidString).yaml")
        try fixed.replacingOccurrences(of: "    SUI: \"2140\"", with: "").write(to: file, atomically: true, encoding: .utf8)
        let flow = try await BridgeFlow.start(mapping: file.path)
        let fixture = try StoreDayFixture.decode(try await flow.startHeartland(stores: 1, tickets: 5))
        let run = try XCTUnwrap(fixture.payRuns.first)
        try await flow.heartlandAdmin("POST", "admin/pay_runs/\(run.id)/complete", "{}")
        try await eventually(timeout: .seconds(60), "the run is parked") { try await flow.depth("transformer.dlq") == 1 }

        try fixed.write(to: file, atomically: true, encoding: .utf8)
        let replay = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "replay", "transformer", "--amqp-url", flow.broker.amqpURL])
        let replayed = try await replay.waitForExit()
        XCTAssertEqual(replayed, 0, replay.log)
        try await eventually(timeout: .seconds(60), "posted after the replay, by the transformer started with the broken file") {
            try await flow.sage.findJournal(reference: "HL-PAY-\(run.id)") != nil
        }
    }

    /// Heartland answers 503 to everything when the batch closes: ingest keeps the batch in its inbox,
    /// retries with backoff and alerts; once Heartland is back the batch is posted, nothing lost.
    func testHeartlandDownIsRetriedAlertedAndNothingIsLost() async throws {
        let flow = try await BridgeFlow.start()
        try await flow.startHeartland(stores: 1, tickets: 40)
        let day = flow.day
        try await flow.heartlandFaults(#"{"error_rate": 1, "error_status": 503}"#)
        try await flow.closeBatches()  // admin calls and webhook deliveries are not faulted; Heartland's API is
        try await eventually("an alert says Heartland is unavailable") {
            try await OperationsStore(path: flow.operations).alertGroups().contains {
                $0.stage == "heartland-ingest" && $0.kind == "source_unavailable" && $0.reason.contains("503")
            }
        }
        let inbox = try IngestInbox(path: flow.inboxPath!)
        let waiting = try await inbox.entries()
        XCTAssertEqual(waiting.map(\.status), [.pending])

        try await flow.heartlandFaults(nil)
        let closed = try await flow.closedBatches(day: day)
        let batch = try XCTUnwrap(closed.first)
        let reference = Self.reference(store: batch.store, day: day, batch: batch.id)
        try await eventually(timeout: .seconds(60), "posted once Heartland is back") { try await flow.sage.findJournal(reference: reference) != nil }
        let recovered = try await inbox.entries()
        XCTAssertEqual(recovered.filter { $0.kind == "batch" }.map(\.status), [.published])
        // The batch's card refunds, found through it, are posted too.
        try await eventually(timeout: .seconds(60), "the batch's refunds published") { try await inbox.entries().allSatisfy { $0.status == .published } }
        try await eventually("the recovery is in the audit trail") {
            try await OperationsStore(path: flow.operations).auditEvents().contains { $0.event == "source_recovered" }
        }
    }
}
