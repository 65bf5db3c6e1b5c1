import Foundation
import HeartlandConnector
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The queries a poller's catch-up relies on: changed tickets since a watermark, settled
/// transactions and closed batches of a day.
@Suite struct CatchUpTests {
    @Test func ticketsUpdatedSinceAWatermark() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 1, tickets: 40)
        let client = harness.client(retailPageSize: 7)
        let all = try await client.tickets(TicketQuery()).collect()
        let stamps = all.compactMap { $0.updatedAt.flatMap { try? Date($0, strategy: .iso8601) } }.sorted()
        #expect(stamps.count == all.count)
        let watermark = stamps[stamps.count / 2]
        let changed = try await client.tickets(TicketQuery(updatedSince: watermark)).collect()
        let expected = stamps.filter { $0 >= watermark }.count
        #expect(changed.count == expected)
        #expect(changed.count < all.count && !changed.isEmpty)
    }

    @Test func settledTransactionsAndClosedBatchesAfterClose() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.loadDay(stores: 2, tickets: 20)
        let client = harness.client(pageSize: 5)
        let open = try await client.batches(BatchQuery(status: .open, businessDay: "2026-11-27")).collect()
        #expect(open.count == 2)
        var request = URLRequest(url: harness.running.baseURL.appendingPathComponent("admin/batches/close"))
        request.httpMethod = "POST"
        request.httpBody = Data("{\"batch_id\":\"\(open[0].id)\"}".utf8)
        _ = try await URLSession.shared.data(for: request)
        let closed = try await client.batches(BatchQuery(status: .closed, businessDay: "2026-11-27")).collect()
        #expect(closed.map(\.id) == [open[0].id])
        #expect(closed[0].timeClosed != nil)
        let settled = try await client.transactions(TransactionQuery(batchId: open[0].id, settledOnly: true)).collect()
        let inBatch = try await client.batchDetail(id: open[0].id).transactions
        #expect(settled.count == inBatch.filter { $0.status != .reversed }.count)
        #expect(settled.allSatisfy { $0.status == .batched })
    }
}
