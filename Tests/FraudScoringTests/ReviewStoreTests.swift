import Foundation
import Testing
@testable import FraudScoring

@Suite struct ReviewStoreTests {
    static func fileStore() throws -> (ReviewStore, String, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("review.sqlite").path
        return (try ReviewStore(path: path), path, folder)
    }

    @Test func holdListShowAndApproveReleasesOnce() async throws {
        let (store, _, folder) = try Self.fileStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        let document = Data(#"{"journal":"J-1"}"#.utf8)
        let held = try await store.hold(document: document, idempotencyKey: "heartland:batch:B1", reasons: ["refund with no original sale"])
        // A redelivered document is held once.
        let again = try await store.hold(document: document, idempotencyKey: "heartland:batch:B1", reasons: ["other"])
        #expect(again.id == held.id)
        #expect(try await store.list().count == 1)
        #expect(try await store.list(status: .held).map(\.idempotencyKey) == ["heartland:batch:B1"])
        #expect(try await store.show(id: held.id).reasons == ["refund with no original sale"])

        let released = try await store.approve(id: held.id, by: "maria", why: "customer called, refund is genuine")
        #expect(released.document == document)
        #expect(released.status == .approved)
        #expect(released.decidedBy == "maria")
        await #expect(throws: ReviewStore.ReviewError.alreadyDecided(id: held.id, status: .approved, by: "maria")) {
            try await store.approve(id: held.id, by: "tom", why: "looks fine")
        }
        await #expect(throws: ReviewStore.ReviewError.self) { try await store.reject(id: held.id, by: "tom", why: "too late") }
        #expect(try await store.list(status: .held).isEmpty)
        #expect(try await store.show(id: held.id).decidedWhy == "customer called, refund is genuine")
    }

    @Test func rejectedDocumentsAreNeverReleased() async throws {
        let store = try ReviewStore(path: nil)
        let held = try await store.hold(document: Data("x".utf8), idempotencyKey: "k", reasons: [])
        await #expect(throws: ReviewStore.ReviewError.missingDecider) { try await store.reject(id: held.id, by: " ", why: "x") }
        _ = try await store.reject(id: held.id, by: "maria", why: "card testing")
        await #expect(throws: ReviewStore.ReviewError.self) { try await store.approve(id: held.id, by: "tom", why: "oops") }
        await #expect(throws: ReviewStore.ReviewError.notFound(id: 999)) { try await store.show(id: 999) }
    }

    @Test func concurrentApprovalsReleaseExactlyOnce() async throws {
        let (store, path, folder) = try Self.fileStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A second handle on the same file, as a second `bridgectl` would have.
        let other = try ReviewStore(path: path)
        var ids: [Int64] = []
        for n in 0..<20 { await ids.append(try store.hold(document: Data("doc\(n)".utf8), idempotencyKey: "key\(n)", reasons: []).id) }
        let releases = await withTaskGroup(of: Int.self) { group in
            for id in ids {
                for (handle, who) in [(store, "maria"), (other, "tom")] {
                    group.addTask {
                        await (try? handle.approve(id: id, by: who, why: "checked")) == nil ? 0 : 1
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(releases == ids.count)
        #expect(try await store.list(status: .approved).count == ids.count)
    }
}
