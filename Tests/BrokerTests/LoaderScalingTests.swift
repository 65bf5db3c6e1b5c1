import Foundation
import TestPrograms
import XCTest

/// Scaling without Docker (issue 7): 1, 2 and 4 sage-loader processes against sage-pro-sim answering
/// every request 20 ms late, each journal delivered twice: every journal is in Sage exactly once,
/// nothing is parked, and with several loaders the work is shared. The throughput figures are in
/// `scripts/bench-loaders`, not here: this test checks correctness under scale-out, not speed.
final class LoaderScalingTests: XCTestCase {
    func testOneTwoAndFourLoadersPostEveryJournalOnceWithTwentyMillisecondsOfLatency() async throws {
        for loaders in [1, 2, 4] {
            try await run(loaders: loaders, journals: 24)
        }
    }

    private func run(loaders: Int, journals: Int) async throws {
        let flow = try await BridgeFlow.start(loaders: loaders)
        try await flow.sageFaults(#"{"latency_ms": 20}"#)
        var references: [String] = []
        for _ in 0..<journals { references.append(try await flow.publishClosedBatch(times: 2)) }  // every batch delivered twice
        try await eventually(timeout: .seconds(180), "\(loaders) loader(s): every journal in Sage") {
            for reference in references where try await flow.sage.findJournal(reference: reference) == nil { return false }
            return true
        }
        for reference in references {
            let entries = try await flow.sageEntries(reference: reference)
            XCTAssertEqual(entries, 1, "\(loaders) loader(s): \(reference) posted once")
        }
        try await eventually("\(loaders) loader(s): the queues drain") {
            try await flow.depth("sage-loader") + flow.depth("fraud-scorer") + flow.depth("transformer") == 0
        }
        let parked = try await flow.depth("sage-loader.dlq") + flow.depth("transformer.dlq") + flow.depth("fraud-scorer.dlq")
        XCTAssertEqual(parked, 0, "\(loaders) loader(s): nothing parked")
        if loaders > 1 {
            // Competing consumers: more than one loader posted something.
            let posting = (1...loaders).filter { index in
                flow.processes["sage-loader-\(index)"]?.log.contains("posted") == true
            }
            XCTAssertGreaterThan(posting.count, 1, "\(loaders) loaders: the work is shared (posted by loaders \(posting))")
        }
    }
}
