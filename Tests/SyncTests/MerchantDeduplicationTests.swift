import Foundation
import HeartlandSimulator
import PipelineContracts
import SageConnector
import StableHash
import SyncContracts
import Synchronization
import Testing
@testable import Sync

/// Both loaders' twin search (the real `CustomerIndex`, links and matcher) run over a generated
/// merchant, each side's customers offered to the other in a seeded random order and every customer
/// the bridge creates coming back once, as the pollers do. Judged against who is who.
@Suite struct MerchantDeduplicationTests {
    /// The two sides as the loaders see them, with what the bridge did.
    final class Sides: Sendable {
        struct State {
            var records: [SyncSide: [String: SyncCustomer]] = [.sage: [:], .heartland: [:]]
            var person: [String: Int] = [:]  // "side:number" → person
            var clock = 0
        }
        let state = Mutex(State())

        func changed(_ side: SyncSide, since: String?) -> [SyncCustomer] {
            state.withLock { s in s.records[side]!.values.filter { since == nil || $0.version >= since! }.sorted { $0.number < $1.number } }
        }

        func add(_ record: SyncCustomer, person: Int) -> SyncCustomer {
            state.withLock { s in
                s.clock += 1
                var stamped = record
                stamped.version = String(format: "%08d", s.clock)
                s.records[record.side]![record.number] = stamped
                s.person["\(record.side.rawValue):\(record.number)"] = person
                return stamped
            }
        }

        func person(_ side: SyncSide, _ number: String) -> Int? { state.withLock { $0.person["\(side.rawValue):\(number)"] } }
        func record(_ side: SyncSide, _ number: String) -> SyncCustomer? { state.withLock { $0.records[side]![number] } }
        func all(_ side: SyncSide) -> [SyncCustomer] { state.withLock { Array($0.records[side]!.values) } }
    }

    struct Outcome {
        var duplicates = 0
        var falseMerges: [String] = []
        var heldClusters: Set<Int> = []
        var reviewItems: [String: Set<Int>] = [:]
        var clusters = 0
    }

    func run(seed: UInt64, clustersPerKind: Int) async throws -> (Outcome, NearDuplicateMerchant) {
        let merchant = NearDuplicateMerchant(seed: seed, clustersPerKind: clustersPerKind)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dedup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sides = Sides()
        var clusterOf: [String: Int] = [:]
        for record in merchant.records {
            let synced: SyncCustomer
            switch record.side {
            case .sage:
                synced = SageSweeper.record(SageCustomer(CustomerNumber: record.number, CustomerName: record.written, Email: record.email,
                                                         PhoneNumber: record.phone))
            case .heartland:
                synced = SyncCustomer(side: .heartland, id: record.number, number: record.number, firstName: record.firstName,
                                      lastName: record.lastName, email: record.email, phone: record.phone, active: true, version: "")
            }
            _ = sides.add(synced, person: record.person)
            clusterOf["\(record.side.rawValue):\(record.number)"] = record.cluster
        }
        func search(_ side: SyncSide, _ file: String) throws -> TwinSearch {
            let path = folder.appendingPathComponent(file).path
            return TwinSearch(index: try CustomerIndex(path: path, side: side), links: try CustomerLinks(path: path), matcher: CustomerMatcher()) { since in
                sides.changed(side, since: since)
            }
        }
        // sage-loader searches Sage for Heartland's customers; heartland-loader searches Heartland for Sage's.
        let searches: [SyncSide: TwinSearch] = [.sage: try search(.sage, "sage-loader.sqlite"), .heartland: try search(.heartland, "heartland-loader.sqlite")]
        var queue = sides.all(.sage) + sides.all(.heartland)
        var random = SeededRandom(seed: seed ^ 0x5EED)
        queue.sort { $0.number < $1.number }
        for i in stride(from: queue.count - 1, to: 0, by: -1) { queue.swapAt(i, Int(random.next() % UInt64(i + 1))) }

        var outcome = Outcome()
        outcome.clusters = Set(merchant.records.map(\.cluster)).count
        var offered = 0
        while !queue.isEmpty {
            offered += 1
            let incoming = queue.removeFirst()
            let target: SyncSide = incoming.side == .sage ? .heartland : .sage
            let person = sides.person(incoming.side, incoming.number)!
            let cluster = clusterOf["\(incoming.side.rawValue):\(incoming.number)"]!
            if sides.record(target, incoming.number) != nil { continue }  // a customer the bridge created: same number
            do {
                switch try await searches[target]!.find(incoming) {
                case .twin(let number, _, let because):
                    if sides.person(target, number) != person {
                        outcome.falseMerges.append("\(incoming.side.rawValue) \(incoming.number) → \(target.rawValue) \(number): \(because)")
                    }
                case .none:
                    var copy = incoming
                    copy.side = target
                    copy.id = incoming.number
                    let created = sides.add(copy, person: person)
                    clusterOf["\(target.rawValue):\(created.number)"] = cluster
                    queue.append(created)  // it comes back once, as the other side's poller sees it
                }
            } catch let hold as CustomerReviewHold {
                outcome.heldClusters.insert(cluster)
                outcome.reviewItems[hold.reviewId, default: []].insert(cluster)
            }
        }
        // Duplicates: a person with more records on a side than before the sync (or than one, if they had none).
        var original: [String: Int] = [:]
        for record in merchant.records { original["\(record.side.rawValue):\(record.person)", default: 0] += 1 }
        for side in [SyncSide.sage, .heartland] {
            var now: [Int: Int] = [:]
            for record in sides.all(side) { now[sides.person(side, record.number)!, default: 0] += 1 }
            for (person, count) in now { outcome.duplicates += max(0, count - max(original["\(side.rawValue):\(person)"] ?? 0, 1)) }
        }
        return (outcome, merchant)
    }

    @Test(arguments: [UInt64(16), 2024, 77])
    func nearDuplicatesResolveToTheirClusters(seed: UInt64) async throws {
        let (outcome, merchant) = try await run(seed: seed, clustersPerKind: 3)
        print("near-duplicate merchant seed \(seed): \(merchant.records.count) records in \(outcome.clusters) clusters; duplicates created "
              + "\(outcome.duplicates), false merges \(outcome.falseMerges.count), held \(outcome.heldClusters.count) "
              + "(\(Int((Double(outcome.heldClusters.count) / Double(outcome.clusters) * 100).rounded())) %), review items \(outcome.reviewItems.count)")
        #expect(outcome.duplicates == 0, "duplicates created (seed \(seed))")
        #expect(outcome.falseMerges.isEmpty, "false merges: \(outcome.falseMerges)")
        let share = Double(outcome.heldClusters.count) / Double(outcome.clusters)
        #expect(share <= 0.10, "held \(outcome.heldClusters.count) of \(outcome.clusters) clusters: \(outcome.heldClusters.map { merchant.kinds[$0]!.rawValue })")
        // Only the couples sharing an address are held, each as one review item whichever loader found it.
        let heldKinds = Set(outcome.heldClusters.map { merchant.kinds[$0]! })
        #expect(heldKinds.isSubset(of: [.coupleSharingEmail]), "\(heldKinds)")
        for (item, clusters) in outcome.reviewItems { #expect(clusters.count == 1, "\(item)") }
        #expect(outcome.reviewItems.count == outcome.heldClusters.count, "one review item per held cluster: \(outcome.reviewItems.keys.sorted())")
    }

    @Test func aDecisionReleasesTheHeldCustomer() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("decide-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sides = Sides()
        _ = sides.add(SageSweeper.record(SageCustomer(CustomerNumber: "1200", CustomerName: "Stone, Jane", Email: "b.stone@example.com")), person: 1)
        let path = folder.appendingPathComponent("ledger.sqlite").path
        let search = TwinSearch(index: try CustomerIndex(path: path, side: .sage), links: try CustomerLinks(path: path), matcher: CustomerMatcher()) {
            sides.changed(.sage, since: $0)
        }
        let bob = SyncCustomer(side: .heartland, id: "2", number: "C00002", firstName: "Bob", lastName: "Stone", email: " B.Stone@Example.com\t",
                               phone: nil, active: true, version: "1")
        do {
            _ = try await search.find(bob)
            Issue.record("a shared e-mail with another first name is held")
        } catch let hold as CustomerReviewHold {
            #expect(hold.reviewId == "heartland:C00002|sage:1200")
            #expect(hold.reason.contains("may already exist in Sage as 1200"))
            #expect(!hold.reason.contains("Heartland or Heartland"))
            #expect(hold.customer.email == "B.Stone@Example.com", "no tabs or padding in what people read")
        }
        try await search.apply(CustomerMatchDecision(reviewId: "heartland:C00002|sage:1200", verdict: .different,
                                                     pairs: [.init(heartland: "C00002", sage: "1200")], by: "olivia", why: nil))
        guard case .none = try await search.find(bob) else { Issue.record("different people: Bob is created"); return }
        try await search.apply(CustomerMatchDecision(reviewId: "heartland:C00002|sage:1200", verdict: .same,
                                                     pairs: [.init(heartland: "C00002", sage: "1200")], by: "olivia", why: nil))
        guard case .twin(let number, _, _) = try await search.find(bob) else { Issue.record("the same person: linked"); return }
        #expect(number == "1200")
    }
}
