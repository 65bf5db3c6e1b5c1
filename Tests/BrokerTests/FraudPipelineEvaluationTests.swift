import Alerter
import FraudScoring
import Foundation
import TestPrograms
import XCTest

/// Issue 20: the fraud evaluation through the running pipeline, small (`scripts/evaluate-fraud-pipeline` is the full
/// one). A generated day of one store with every pattern injected (`fraud-lab pipeline prepare`) is served by
/// heartland-sim; heartland-ingest's gateway feed and refund poller, the transformer, the fraud scorer with the shipped
/// model, a sage-loader and the alerter are processes. Once every transaction, void and refund is scored and the batch
/// has posted, `fraud-lab pipeline report`'s table must equal what this test counts itself from the labels, the
/// review store and the feature store.
final class FraudPipelineEvaluationTests: XCTestCase {
    func testADayWithEveryPatternInjectedRunsThroughThePipelineAndTheReportCountsWhatWasFlagged() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        let (reviewsPath, featuresPath, labels, expected) = (path("reviews.sqlite"), path("features.sqlite"), path("labels.jsonl"), path("expected.json"))
        let config = repositoryRoot.appendingPathComponent("Config")
        let flow = try await BridgeFlow.start(scorerArguments: [
            "--review-store", reviewsPath, "--batch-history", path("history.sqlite"), "--feature-store", featuresPath,
            "--model", config.appendingPathComponent("fraud-model.json").path, "--store-hours", config.appendingPathComponent("store-hours.yaml").path])
        // The feed reaches back over the whole generated day; the poller finds the day's card refunds.
        try await flow.startHeartland(stores: 1, seed: 11, tickets: 100, pollSeconds: 2, ingestArguments: ["--gateway-feed-catch-up", "345600"]) { db, day in
            let prepare = try WorkerProcess.start(executable: "fraud-lab", arguments: [
                "pipeline", "prepare", "--seed", "11", "--day", day, "--stores", "1", "--tickets-per-store", "100", "--incidents-per-day", "2",
                "--db", db, "--labels", labels, "--expected", expected])
            let status = try await prepare.waitForExit(timeout: .seconds(120))
            XCTAssertEqual(status, 0, prepare.log)
        }
        let labelled = try HistoryFile.read(path: labels)
        let mustBeScored = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: expected))) as? [String: Any])?["scored"]
            as? [String])
        XCTAssertTrue(Set(labelled.filter { $0.fraud != nil }.map(\.event.id)).isSubset(of: mustBeScored), "every injected fraud event is to be scored")

        // Everything scored (gateway feed, refund poller), then the batch closes and posts.
        let features = try FeatureStore(path: featuresPath)
        try await eventually(timeout: .seconds(150), "the fraud scorer has seen every transaction, void and refund") {
            for id in mustBeScored where !(try await features.isRecorded(id)) { return false }
            return true
        }
        try await flow.closeBatches()
        let operations = try OperationsStore(path: flow.operations)
        // Posted and reconciled; what the report still misses are the refunds held for review, which wait for a person.
        try await eventually(timeout: .seconds(120), "the day's batch posted and reconciled") {
            try await operations.reconciliations(businessDate: flow.day).contains { report in
                report.lines.allSatisfy { $0.sageCents != nil } && (report.status != .incomplete || (report.refunds ?? []).allSatisfy {
                    $0.status == .posted || ($0.detail ?? "").hasPrefix("held for fraud review")
                })
            }
        }
        for stage in ["transformer", "fraud-scorer", "sage-loader", "alerter"] {
            try await eventually("\(stage) has nothing left") { try await flow.settled(stage) }
        }

        let report = try WorkerProcess.start(executable: "fraud-lab", arguments: [
            "pipeline", "report", "--labels", labels, "--expected", expected, "--review-store", reviewsPath, "--feature-store", featuresPath])
        let status = try await report.waitForExit(timeout: .seconds(60))
        XCTAssertEqual(status, 0, report.log)
        print(report.log)
        var table: [String: [String]] = [:]
        for line in report.log.split(separator: "\n") where line.hasPrefix("| ") && !line.hasPrefix("| pattern") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            table[cells[0]] = cells
        }

        // The same counts, made here: flagged = an exception or a held refund in the review store; clean = every event in
        // the feature store that was not injected.
        let reviews = try ReviewStore(path: reviewsPath)
        let exceptions = try await reviews.exceptions()
        var flagged = Set(exceptions.map(\.transactionId))
        let held = try await reviews.list()
        for document in held {
            let json = try JSONSerialization.jsonObject(with: document.document) as? [String: Any]
            let refund = try XCTUnwrap(json?["refund"] as? [String: Any], "only refunds are held (no batch-level history, no block rule)")
            flagged.insert(try XCTUnwrap(refund["transactionId"] as? String))
        }
        XCTAssertTrue(exceptions.allSatisfy { !$0.reasons.isEmpty } && held.allSatisfy { !$0.reasons.isEmpty }, "every flag says why")
        XCTAssertTrue(report.log.contains("every flag carries reasons: yes"), report.log)
        let injected = Set(labelled.map(\.event.id))
        var injectedScored = 0
        for id in injected where try await features.isRecorded(id) { injectedScored += 1 }
        let clean = try await features.eventCount() - injectedScored
        let cleanFlagged = flagged.subtracting(injected).count
        XCTAssertGreaterThan(clean, 40, "the day's card sales, refunds, declines and voids were scored")
        func expectRow(_ name: String, _ fraud: [LabelledEvent], file: StaticString = #filePath, line: UInt = #line) throws {
            let row = try XCTUnwrap(table[name], "row \(name) in\n\(report.log)", file: file, line: line)
            let caught = fraud.filter { flagged.contains($0.event.id) }
            let incidents = Set(fraud.compactMap(\.incident))
            let incidentsCaught = Set(caught.compactMap(\.incident))
            XCTAssertEqual(Array(row[1...2]), ["\(fraud.count)", "\(caught.count)"], "\(name): labelled, flagged", file: file, line: line)
            XCTAssertEqual(Array(row[5...6]), ["\(clean)", "\(cleanFlagged)"], "\(name): clean scored, false positives", file: file, line: line)
            XCTAssertEqual(row[8], "\(incidentsCaught.count)/\(incidents.count)", "\(name): incidents", file: file, line: line)
        }
        for pattern in FraudPattern.allCases {
            let fraud = labelled.filter { $0.fraud == pattern }
            XCTAssertFalse(fraud.isEmpty, "\(pattern.rawValue) injected")
            try expectRow(pattern.rawValue, fraud)
        }
        try expectRow("all patterns together", labelled.filter { $0.fraud != nil })
        // The pipeline's default rules review every unlinked refund, refund over its sale and refund to another card, so
        // those are all caught if the day reached the scorer as Heartland would serve it (return tickets, links, cards).
        for pattern in [FraudPattern.unlinkedRefund, .overRefund, .refundToDifferentCard] {
            XCTAssertEqual(table[pattern.rawValue]?[3], "100.0 %", "\(pattern.rawValue) recall")
        }
        XCTAssertTrue(report.log.contains("labelled fraud never scored: 0"), report.log)
    }
}
