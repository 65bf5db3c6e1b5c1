import Foundation
import Testing
@testable import FraudScoring

@Suite struct ReviewStoreTests {
    static func fileStore() throws -> (ReviewStore, String, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("review.sqlite").path
        return (try ReviewStore(path: path), path, folder)
    }

    @Test func holdListShowAndApproveReleasesOnce() throws {
        let (store, _, folder) = try Self.fileStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        let document = Data(#"{"journal":"J-1"}"#.utf8)
        let held = try store.hold(document: document, idempotencyKey: "heartland:batch:B1", reasons: ["refund with no original sale"])
        // A redelivered document is held once.
        let again = try store.hold(document: document, idempotencyKey: "heartland:batch:B1", reasons: ["other"])
        #expect(again.id == held.id)
        #expect(try store.list().count == 1)
        #expect(try store.list(status: .held).map(\.idempotencyKey) == ["heartland:batch:B1"])
        #expect(try store.show(id: held.id).reasons == ["refund with no original sale"])

        let released = try store.approve(id: held.id, by: "maria", why: "customer called, refund is genuine")
        #expect(released.document == document)
        #expect(released.status == .approved)
        #expect(released.decidedBy == "maria")
        #expect(throws: ReviewStore.ReviewError.alreadyDecided(id: held.id, status: .approved, by: "maria")) {
            try store.approve(id: held.id, by: "tom", why: "looks fine")
        }
        #expect(throws: ReviewStore.ReviewError.self) { try store.reject(id: held.id, by: "tom", why: "too late") }
        #expect(try store.list(status: .held).isEmpty)
        #expect(try store.show(id: held.id).decidedWhy == "customer called, refund is genuine")
    }

    @Test func rejectedDocumentsAreNeverReleased() throws {
        let store = try ReviewStore(path: nil)
        let held = try store.hold(document: Data("x".utf8), idempotencyKey: "k", reasons: [])
        #expect(throws: ReviewStore.ReviewError.missingDecider) { try store.reject(id: held.id, by: " ", why: "x") }
        _ = try store.reject(id: held.id, by: "maria", why: "card testing")
        #expect(throws: ReviewStore.ReviewError.self) { try store.approve(id: held.id, by: "tom", why: "oops") }
        #expect(throws: ReviewStore.ReviewError.notFound(id: 999)) { try store.show(id: 999) }
    }

    @Test func concurrentApprovalsReleaseExactlyOnce() async throws {
        let (store, path, folder) = try Self.fileStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A second handle on the same file, as a second `bridgectl` would have.
        let other = try ReviewStore(path: path)
        var ids: [Int64] = []
        for n in 0..<20 { ids.append(try store.hold(document: Data("doc\(n)".utf8), idempotencyKey: "key\(n)", reasons: []).id) }
        let releases = await withTaskGroup(of: Int.self) { group in
            for id in ids {
                for (handle, who) in [(store, "maria"), (other, "tom")] {
                    group.addTask {
                        (try? handle.approve(id: id, by: who, why: "checked")) == nil ? 0 : 1
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(releases == ids.count)
        #expect(try store.list(status: .approved).count == ids.count)
    }
}
