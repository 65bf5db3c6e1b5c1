import Accounting
import Alerter
import Foundation
import FraudScoring
import SageConnector
import TestPrograms
import XCTest

/// The fraud-scorer in the pipeline: a batch far from its store's history is held, alerted and not
/// posted; `bridgectl review approve` releases it to the loaders exactly once, and the decision is in
/// the audit trail with who and why. A store without history is forwarded as usual.
final class FraudReviewFlowTests: XCTestCase {
    func testUnusualBatchIsHeldUntilApprovedThenPostedOnce() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-\(UUID().uuidString)")
        let historyPath = folder.appendingPathComponent("history.sqlite").path, reviewsPath = folder.appendingPathComponent("reviews.sqlite").path
        // Six earlier batches of about $5,000 for the store: a $21.60 day is far outside them.
        let history = try BatchHistory(path: historyPath)
        for day in 10...15 {
            _ = try await history.check(BatchSummary(store: StoreID("S-FRAUD"), batchId: "BAT_H\(day)", businessDay: "2026-11-\(day)",
                                                     salesCents: 500_000 + Int64(day) * 1_000, refundCents: 4_000, transactionCount: 180, cardMix: ["VISA": 1]))
        }
        let flow = try await BridgeFlow.start(scorerArguments: ["--review-store", reviewsPath, "--batch-history", historyPath])
        let unusual = try await flow.publishClosedBatch(store: "S-FRAUD")
        let ordinary = try await flow.publishClosedBatch()  // a store with no history yet: nothing to compare, forwarded

        try await eventually("the ordinary batch is posted") { try await flow.sage.findJournal(reference: ordinary) != nil }
        let reviews = try ReviewStore(path: reviewsPath)
        try await eventually("the unusual batch is held") { try await reviews.list(status: .held).count == 1 }
        let list = try await reviews.list(status: .held)
        let held = try XCTUnwrap(list.first)
        XCTAssertTrue(held.reasons.joined().contains("standard deviations"), "\(held.reasons)")
        try await eventually("an alert says it is held and why") {
            try await OperationsStore(path: flow.operations).alertGroups().contains { $0.kind == "review_required" && $0.reason.contains(unusual) }
        }
        let notPosted = try await flow.sage.findJournal(reference: unusual)
        XCTAssertNil(notPosted, "held means not posted")

        func decide(_ verb: String) throws -> WorkerProcess {
            try WorkerProcess.start(executable: "bridgectl", arguments: [
                "review", verb, String(held.id), "--store", reviewsPath, "--actor", "alice", "--why", "called the store: a quiet day",
                "--amqp-url", flow.broker.amqpURL])
        }
        let approve = try decide("approve")
        let approved = try await approve.waitForExit()
        XCTAssertEqual(approved, 0, approve.log)
        let again = try decide("approve")
        let secondStatus = try await again.waitForExit()
        XCTAssertNotEqual(secondStatus, 0, "a second approval is refused")
        XCTAssertTrue(again.log.contains("already"), again.log)

        try await eventually("posted after approval") { try await flow.sage.findJournal(reference: unusual) != nil }
        let entries = try await flow.sageEntries(reference: unusual)
        XCTAssertEqual(entries, 1)
        try await eventually("the decision is audited") {
            try await OperationsStore(path: flow.operations).auditEvents().contains { $0.event == "review_approved" && $0.detail.contains("quiet day") }
        }
    }
}
