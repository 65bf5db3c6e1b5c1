import Accounting
import Alerter
import Foundation
import PipelineContracts
import XCTest

/// The console's Quarantine page (issue 14): tickets set aside, with store, field, reason and amounts; a corrected one
/// shows where it posted.
final class QuarantinePageTests: XCTestCase {
    func testSetAsideTicketsAreListedAndAPostedOneShowsItsSupplementaryJournal() async throws {
        let fixture = try ConsoleFixture.make()
        let store = BatchClosedEvent.Store(id: "S01", timeZone: "America/Chicago", currency: "USD")
        for (id, field) in [("31", "payments[0].tip_amount"), ("32", "completed_at")] {
            let document = QuarantinedDocument(
                store: store, documentId: id, number: "S01-\(id)", locationId: 1, batchId: "BAT_1", batchReference: "HL-S01-20261126-BAT_1",
                field: field, reason: "ticket \(id): field \(field): cannot be read", netByAccount: id == "31" ? ["1100": 1200, "4000": -1000] : nil,
                raw: RawJSON(Data(#"{"id": \#(id)}"#.utf8)), quarantinedAt: "2026-11-26T20:00:00Z")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let recorded = try await fixture.operations.recordQuarantine(QuarantinedDocumentRecord(
                json: String(decoding: try encoder.encode(document), as: UTF8.self)))
            XCTAssertTrue(recorded)
        }
        try await fixture.operations.resolveQuarantine(storeID: "S01", documentID: "32", reference: "HL-S01-20261126-BAT_1-T32")
        let token = ["authorization": "Bearer view-token"]

        let held = await fixture.get("/quarantine", token)
        XCTAssertEqual(held.status, 200)
        XCTAssertTrue(held.text.contains("payments[0].tip_amount") && held.text.contains("S01-31"), held.text)
        XCTAssertFalse(held.text.contains("S01-32"), "a posted ticket is not held")
        let all = await fixture.get("/quarantine", token, query: ["status": "all"])
        XCTAssertTrue(all.text.contains("HL-S01-20261126-BAT_1-T32"), all.text)
        let json = await fixture.get("/api/quarantine", token, query: ["status": "all"])
        XCTAssertTrue(json.text.contains("\"netByAccount\""), json.text)
        XCTAssertTrue(json.text.contains("postedAs") && json.text.contains("HL-S01-20261126-BAT_1-T32"), json.text)
    }
}
