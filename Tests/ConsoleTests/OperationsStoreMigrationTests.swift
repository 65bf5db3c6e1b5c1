import Alerter
import Foundation
import Messaging
import TestPrograms
import XCTest

/// The console's columns (`alert_group.acknowledged_at`, `audit_event.actor`) are added to an
/// operations store written by an earlier alerter, keeping what it holds.
final class OperationsStoreMigrationTests: XCTestCase {
    func testAnEarlierStoreGainsTheAcknowledgementAndActorColumns() async throws {
        let sqlite = "/usr/bin/sqlite3"
        guard FileManager.default.isExecutableFile(atPath: sqlite) else { throw XCTSkip("needs the sqlite3 command to write an earlier store") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("operations-v1-\(UUID().uuidString).sqlite").path
        let created = try await ChildProcess.run(URL(fileURLWithPath: sqlite), [path, """
            CREATE TABLE seen_message (message_id TEXT PRIMARY KEY);
            CREATE TABLE alert_group (fingerprint TEXT PRIMARY KEY, kind TEXT NOT NULL, stage TEXT NOT NULL, severity TEXT NOT NULL,
                reason TEXT NOT NULL, count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
                notified_count INTEGER NOT NULL DEFAULT 0, acknowledged_by TEXT);
            CREATE TABLE audit_event (message_id TEXT PRIMARY KEY, event TEXT NOT NULL, stage TEXT NOT NULL, detail TEXT NOT NULL,
                idempotency_key TEXT, correlation_id TEXT, at TEXT NOT NULL);
            CREATE TABLE reconciliation (reference TEXT PRIMARY KEY, store_id TEXT NOT NULL, business_date TEXT NOT NULL,
                status TEXT NOT NULL, report TEXT NOT NULL, recorded_at TEXT NOT NULL);
            INSERT INTO alert_group VALUES ('dead_lettered|sage-loader|x', 'dead_lettered', 'sage-loader', 'error', 'x', 3,
                '2026-11-26T10:00:00Z', '2026-11-26T11:00:00Z', 1, NULL);
            INSERT INTO audit_event VALUES ('m1', 'duplicate_skipped', 'sage-loader', 'old', NULL, NULL, '2026-11-26T10:00:00Z');
            """])
        XCTAssertEqual(created.status, 0, created.error)

        let store = try OperationsStore(path: path)
        let kept = try await store.alertGroups()
        XCTAssertEqual(kept.map(\.count), [3], "kept")
        let acknowledged = try await store.acknowledge(fingerprint: "dead_lettered|sage-loader|x", by: "olivia")
        XCTAssertTrue(acknowledged)
        let unknown = try await store.acknowledge(fingerprint: "no such group", by: "olivia")
        XCTAssertFalse(unknown)
        let groups = try await store.alertGroups()
        XCTAssertEqual(groups.first?.acknowledgedBy, "olivia")
        try await store.record(AuditNotice(event: .dlqReplayed, stage: "sage-loader", detail: "new", actor: "olivia"), messageID: "m2", correlationID: nil)
        let trail = try await store.auditTrail()
        XCTAssertEqual(trail.map(\.messageId), ["m2", "m1"], "newest first")
        XCTAssertEqual(trail.map(\.actor), ["olivia", nil])
        _ = try OperationsStore(path: path)  // opening again migrates nothing twice
    }
}
