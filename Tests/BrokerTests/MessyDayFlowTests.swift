import Accounting
import Alerter
import BookOracle
import Foundation
import FraudScoring
import HeartlandIngest
import HeartlandSimulator
import PipelineContracts
import SageConnector
import TestPrograms
import XCTest

/// A messy day through every process (issue 14): several batches per store-day (one closing after midnight), late
/// tickets, gateway-only refunds and bad tickets of every kind. What Sage holds per store and business day, plus what
/// waits in fraud review, must equal `ExpectedBooks` over the valid documents; once every bad ticket is corrected in
/// Heartland and replayed with `bridgectl quarantine replay`, over all documents.
final class MessyDayFlowTests: XCTestCase {
    func testAMessyDayIsRightToTheCentInSageBeforeAndAfterCorrections() async throws {
        let flow = try await BridgeFlow.start(loaders: 2)
        let fixture = try StoreDayFixture.decode(try await flow.startHeartland(
            stores: 2, tickets: 80, pollSeconds: 1, generateArguments: ["--batches-per-day", "3", "--bad-percent", "4"]))
        try await flow.closeBatches()
        let bad = fixture.badDocuments.filter { $0.kind == .ticket }
        XCTAssertFalse(bad.isEmpty, "the day has bad tickets")
        try await waitUntilSettled(flow, fixture: fixture)
        try await eventually("every bad ticket is set aside") {
            let held = Set(try await OperationsStore(path: flow.operations).quarantined(status: .held).map { "\($0.document.storeID) \($0.document.documentID)" })
            return bad.allSatisfy { held.contains("\(Self.store($0.locationId)) \($0.id)") }
        }
        var valid = fixture
        let duplicated = Set(bad.filter { $0.defect == .duplicateId }.map { "\($0.locationId) \($0.id)" })
        valid.tickets.removeAll { duplicated.contains("\($0.locationId) \($0.id)") }
        try await expectBooks(flow, equal: valid, documents: .valid, "before corrections")

        // Corrected at the source, replayed by an operator.
        for document in bad where Set(bad.map(\.id)).contains(document.id) {
            try await flow.heartlandAdmin("PUT", "admin/raw/tickets/\(document.id)", document.corrected.text)
        }
        for key in Set(bad.map { "\(Self.store($0.locationId)) \($0.id)" }).sorted() {
            let parts = key.split(separator: " ").map(String.init)
            let replay = try WorkerProcess.start(executable: "bridgectl", arguments: [
                "quarantine", "replay", parts[0], parts[1], "--store", flow.operations, "--amqp-url", flow.broker.amqpURL,
            ], environment: ["HEARTLAND_URL": flow.heartlandURL!, "HEARTLAND_APP_ID": BridgeFlow.appID, "HEARTLAND_APP_KEY": BridgeFlow.appKey,
                             "HEARTLAND_RETAIL_TOKEN": BridgeFlow.retailToken])
            let status = try await replay.waitForExit()
            XCTAssertEqual(status, 0, replay.log)
        }
        try await eventually(timeout: .seconds(120), "every corrected ticket posted") {
            try await OperationsStore(path: flow.operations).quarantined(status: .held).isEmpty
        }
        try await waitUntilSettled(flow, fixture: fixture)
        try await expectBooks(flow, equal: fixture, documents: .corrected, "after corrections")
        let parked = try await flow.depth("sage-loader.dlq") + flow.depth("transformer.dlq") + flow.depth("fraud-scorer.dlq")
        XCTAssertEqual(parked, 0, "nothing dead-lettered")
    }

    static func store(_ location: Int64) -> String { String(format: "S%02d", location) }

    /// Every batch Heartland has closed forwarded, every refund too, and nothing in flight in the stages, on several
    /// checks in a row (a message between two stages is in one of the queues).
    func waitUntilSettled(_ flow: BridgeFlow, fixture: StoreDayFixture) async throws {
        let inbox = try IngestInbox(path: try XCTUnwrap(flow.inboxPath))
        let stages = ["transformer", "fraud-scorer", "sage-loader", "alerter"]
        let page = try JSONSerialization.jsonObject(with: try await flow.heartlandAdmin("GET", "ucp/batches?status=CLOSED&page_size=100", nil))
        let closed = Set(((page as? [String: Any])?["batches"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        XCTAssertGreaterThanOrEqual(closed.count, fixture.locations.count * 3, "three batches a day per store, at least")
        var quietRounds = 0
        try await eventually(timeout: .seconds(240), "the pipeline has settled") {
            let entries = try await inbox.entries()
            let published = Set(entries.filter { $0.kind == "batch" && $0.status == .published }.map(\.sourceID))
            var busy = entries.contains { $0.status == .pending } || !closed.isSubset(of: published)
            for stage in stages where !busy {
                for queue in [stage] + ["5s", "30s", "5m", "30m"].map({ "\(stage).delay.\($0)" }) {
                    if try await flow.depth(queue) > 0 { busy = true }
                }
            }
            quietRounds = busy ? 0 : quietRounds + 1
            return quietRounds >= 10
        }
    }

    /// Sage's net per account per store and business day (with the documents held in fraud review, which a person
    /// releases) against the oracle.
    func expectBooks(_ flow: BridgeFlow, equal fixture: StoreDayFixture, documents: ExpectedBooks.Documents, _ when: String) async throws {
        var books: [String: [String: Int64]] = [:]
        let locations = Dictionary(uniqueKeysWithValues: fixture.locations.map { ($0.publicId, $0.id) })
        for journal in try await flow.sage.journals(referencePrefix: "HL-S") {
            for entry in journal.entries {
                let store = String(entry.reference.split(separator: "-")[1])
                let date = try XCTUnwrap(entry.postingDate).iso
                for line in entry.lines { books["\(locations[store] ?? 0) \(date)", default: [:]][line.account, default: 0] += line.amountCents }
            }
        }
        for held in try await ReviewStore(path: flow.folder.appendingPathComponent("reviews.sqlite").path).list(status: .held) {
            let document = try JSONDecoder().decode(JournalDocument.self, from: held.document)
            let location = locations[document.storeID ?? ""] ?? 0
            for (account, cents) in document.journal.netByAccount {
                books["\(location) \(document.journal.postingDate.iso)", default: [:]][account.rawValue, default: 0] += cents
            }
        }
        var keys = Set(books.keys)
        for ticket in fixture.tickets { keys.insert("\(ticket.locationId) \(ticket.businessDay)") }
        for key in keys.sorted() {
            let parts = key.split(separator: " ")
            let expected = ExpectedBooks.messySettlement(fixture: fixture, locationID: Int64(parts[0]) ?? 0, businessDay: String(parts[1]),
                                                         documents: documents)
            XCTAssertEqual(books[key, default: [:]].filter { $0.value != 0 }, expected, "\(when): location \(key), Sage against the oracle")
        }
    }
}
