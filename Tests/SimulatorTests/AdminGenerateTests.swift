import Foundation
@testable import HeartlandSimulator
import SimulatorKit
import Testing

/// `POST /admin/generate` writes a business day and, when its returns refund sales of the day before, that day's batch
/// (closed) with those sales. A day generated again is refused: saved over the earlier generation it kept that
/// generation's card transactions in the batch under the new tickets (the same ids), and the batch was posted short
/// (`scripts/compose-test`'s day 4 on 2026-12-06: 4.98 in Visa at one store).
@Suite struct AdminGenerateTests {
    @Test func aDayAlreadyGeneratedIsRefusedAndADayNotYetGeneratedIsNot() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        func generate(_ day: String, seed: Int) async throws -> HTTPResult {
            let body = #"{"day":"\#(day)","stores":1,"seed":\#(seed),"tickets_per_store":300}"#
            return try await sim.call("POST", "/admin/generate", body: Data(body.utf8))
        }
        let first = try await generate("2026-12-03", seed: 42)
        #expect(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
        try #require(first.json["batches"]?.int64Value == 2, "the day and, for its returns' sales, the day before")

        // 2026-12-02 was written by that generation as the day before (its returns' sales): generating it again is
        // refused, naming the batch.
        let again = try await generate("2026-12-02", seed: 45)
        #expect(again.status == 409)
        #expect(String(decoding: again.body, as: UTF8.self).contains("BAT_20261202_01"))
        // The same day again, too.
        #expect(try await generate("2026-12-03", seed: 42).status == 409)

        // A day no generation wrote (its day before neither).
        let earlier = try await generate("2026-12-01", seed: 45)
        #expect(earlier.status == 200, "\(String(decoding: earlier.body, as: UTF8.self))")
    }
}
