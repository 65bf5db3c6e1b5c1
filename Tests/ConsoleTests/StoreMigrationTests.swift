import Alerter
import Foundation
import FraudScoring
import GRDB
import HeartlandIngest
import Messaging
import Sync
import Testing

/// The files as the stores wrote them before they had a `DatabaseMigrator` (tables made with `CREATE TABLE IF NOT
/// EXISTS`, columns added later by hand, no `grdb_migrations`) open, keep what they hold, are recorded as migrated,
/// and take new writes. Each earlier schema is written out here as the earlier code executed it (commit 94c617b), not
/// taken from the stores, so that a change to a released migration fails here. (`OperationsStoreMigrationTests`: an
/// operations store from before the console's columns.)
@Suite struct StoreMigrationTests {
    /// A new file holding `sql`, as a store of the earlier code left it.
    static func earlier(_ sql: String, name: String = "before-migrator") async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).sqlite").path
        let queue = try DatabaseQueue(path: path)
        try await queue.write { try $0.execute(sql: sql) }
        try queue.close()
        return path
    }

    /// The migrations a file records, in name order.
    static func migrations(_ path: String) async throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try await queue.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
    }

    // MARK: alerter

    /// What `OperationsStore.init` executed on a new file before its migrator (commit 94c617b), with a row in each table read here.
    static let operationsBeforeMigrator = """
        CREATE TABLE IF NOT EXISTS seen_message (message_id TEXT PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS alert_group (
            fingerprint TEXT PRIMARY KEY, kind TEXT NOT NULL, stage TEXT NOT NULL, severity TEXT NOT NULL,
            reason TEXT NOT NULL, count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            notified_count INTEGER NOT NULL DEFAULT 0, acknowledged_by TEXT);
        CREATE TABLE IF NOT EXISTS audit_event (
            message_id TEXT PRIMARY KEY, event TEXT NOT NULL, stage TEXT NOT NULL, detail TEXT NOT NULL,
            idempotency_key TEXT, correlation_id TEXT, at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS reconciliation (
            reference TEXT PRIMARY KEY, store_id TEXT NOT NULL, business_date TEXT NOT NULL, status TEXT NOT NULL,
            report TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS refund_reconciliation (
            reference TEXT PRIMARY KEY, part_of TEXT, report TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_event_key ON audit_event (idempotency_key);
        CREATE TABLE IF NOT EXISTS quarantine (
            store_id TEXT NOT NULL, document_id TEXT NOT NULL, status TEXT NOT NULL, document TEXT NOT NULL,
            quarantined_at TEXT NOT NULL, times INTEGER NOT NULL DEFAULT 1, resolved_reference TEXT, resolved_at TEXT,
            PRIMARY KEY (store_id, document_id));
        ALTER TABLE alert_group ADD COLUMN acknowledged_at TEXT;
        ALTER TABLE audit_event ADD COLUMN actor TEXT;
        INSERT INTO alert_group (fingerprint, kind, stage, severity, reason, count, first_seen, last_seen, notified_count)
            VALUES ('dead_lettered|sage-loader|x', 'dead_lettered', 'sage-loader', 'error', 'x', 3, '2026-11-26T10:00:00Z', '2026-11-26T11:00:00Z', 1);
        INSERT INTO audit_event (message_id, event, stage, detail, at, actor)
            VALUES ('m1', 'dlq_replayed', 'sage-loader', 'old', '2026-11-26T10:00:00Z', 'olivia');
        """

    @Test func anOperationsFileOfTheHandRolledSchemaOpensAndIsUsed() async throws {
        let path = try await Self.earlier(Self.operationsBeforeMigrator, name: "operations-before-migrator")
        let store = try OperationsStore(path: path)
        let reviews = try CustomerReviewStore(sharingFileOf: store)
        #expect(try await Self.migrations(path) == ["customer-review-v1", "operations-v1", "operations-v2-console-actors"])

        #expect(try await store.alertGroups().map(\.count) == [3], "kept")
        #expect(try await store.auditTrail().map(\.actor) == ["olivia"], "kept")
        #expect(try await store.acknowledge(fingerprint: "dead_lettered|sage-loader|x", by: "ada"))
        let group = try #require(try await store.alertGroups().first)
        #expect(group.acknowledgedBy == "ada")
        #expect(group.acknowledgedAt != nil)
        #expect(try await reviews.items().isEmpty, "the customer reviews' table is made in the same file, on the same pool")

        _ = try OperationsStore(path: path)  // opening again runs nothing again
        #expect(try await Self.migrations(path).count == 3)
    }

    /// Processes that open one new file at the same moment (the alerter, `bridgectl report`, a test) both succeed:
    /// the one SQLite refuses the switch to WAL opens again, and the one that records a migration second reads
    /// what is left again instead of failing. Forty rounds: with five, a refused WAL switch was seen once in a CI run.
    @Test func storesOpenedAtOnceOnANewFileAllOpen() async throws {
        for _ in 0..<40 {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("operations-race-\(UUID().uuidString).sqlite").path
            let opened = await withTaskGroup(of: String.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        // A process of its own would open its own pool: each opening here has one, on a thread of its own.
                        await withCheckedContinuation { continuation in
                            Thread.detachNewThread {
                                do { _ = try OperationsStore(path: path); continuation.resume(returning: "opened") } catch {
                                    continuation.resume(returning: "\(error)")
                                }
                            }
                        }
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(opened == Array(repeating: "opened", count: 6))
            #expect(try await Self.migrations(path) == ["operations-v1", "operations-v2-console-actors"])
        }
    }

    @Test func aTraceFileOfTheHandRolledSchemaOpensAndIsUsed() async throws {
        let path = try await Self.earlier("""
            CREATE TABLE IF NOT EXISTS hop (
                message_id TEXT NOT NULL, stage TEXT NOT NULL, attempt INTEGER NOT NULL, correlation_id TEXT NOT NULL,
                idempotency_key TEXT, routing_key TEXT NOT NULL, outcome TEXT NOT NULL, duration_ms INTEGER NOT NULL,
                at TEXT NOT NULL, recorded_at REAL NOT NULL, PRIMARY KEY (message_id, stage, attempt, outcome));
            CREATE INDEX IF NOT EXISTS hop_correlation ON hop (correlation_id, at);
            CREATE INDEX IF NOT EXISTS hop_recorded ON hop (recorded_at);
            INSERT INTO hop VALUES ('m1', 'transformer', 1, 'c1', NULL, 'heartland.batch.closed', 'published 1', 12,
                '2027-01-15T08:00:00Z', 1800000000);
            """, name: "traces-before-migrator")
        let store = try TraceStore(path: path, retention: .infinity)
        #expect(try await Self.migrations(path) == ["trace-v1"])
        #expect(try await store.hops(of: "c1").map(\.stage) == ["transformer"])
    }

    // MARK: fraud-scorer

    /// What `ReviewStore` executed on a new file before its migrator (commit 94c617b), with a hold and an exception.
    static let reviewsBeforeMigrator = """
        CREATE TABLE IF NOT EXISTS held_document (
            id INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT NOT NULL UNIQUE, document BLOB NOT NULL, reasons TEXT NOT NULL,
            status TEXT NOT NULL, held_at REAL NOT NULL, decided_by TEXT, decided_why TEXT, decided_at REAL);
        CREATE TABLE IF NOT EXISTS fraud_exception (
            id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, reference TEXT NOT NULL, transaction_id TEXT NOT NULL,
            store TEXT NOT NULL, amount_cents INTEGER NOT NULL, summary TEXT NOT NULL, risk_score INTEGER NOT NULL, decided_by TEXT,
            reasons TEXT NOT NULL, status TEXT NOT NULL, raised_at REAL NOT NULL, acknowledged_by TEXT, acknowledged_why TEXT,
            acknowledged_at REAL);
        CREATE INDEX IF NOT EXISTS fraud_exception_status ON fraud_exception(status, id);
        ALTER TABLE fraud_exception ADD COLUMN features TEXT;
        INSERT INTO held_document (idempotency_key, document, reasons, status, held_at) VALUES ('heartland:batch:B1', X'7B7D', '["unusual total"]', 'held', 1800000000);
        INSERT INTO fraud_exception (key, reference, transaction_id, store, amount_cents, summary, risk_score, reasons, status, raised_at, features)
            VALUES ('exception:T1', 'T1', 'T1', 'S01', 1200, 'keyed sale', 80, '["keyed"]', 'open', 1800000000, '{"keyed":1}');
        """

    @Test func aReviewFileOfTheHandRolledSchemaOpensAndIsUsed() async throws {
        let path = try await Self.earlier(Self.reviewsBeforeMigrator)
        let store = try ReviewStore(path: path)
        #expect(try await Self.migrations(path) == ["review-v1", "review-v2-exception-features"])
        #expect(try await store.list().map(\.idempotencyKey) == ["heartland:batch:B1"], "kept")
        #expect(try await store.exceptions().map(\.features) == [["keyed": 1]], "kept")
        let raised = FraudException.Raised(key: "exception:T2", reference: "T2", transactionId: "T2", store: "S01", amountCents: 900,
                                           summary: "tiny authorisations", riskScore: 70, decidedBy: "tiny-auths", reasons: ["tiny"],
                                           features: ["tiny_auths": 4])
        try await store.recordExceptions([raised])
        #expect(try await store.exception(key: "exception:T2")?.features == ["tiny_auths": 4])
    }

    /// The console opens the review store from a process that is serving: the same migrations, through the async API.
    @Test func theConsolesOpeningMigratesTheSameFile() async throws {
        let path = try await Self.earlier(Self.reviewsBeforeMigrator)
        let store = try await ReviewStore.open(path: path)
        #expect(try await Self.migrations(path) == ["review-v1", "review-v2-exception-features"])
        #expect(try await store.exceptions().count == 1)
        _ = try ReviewStore(path: path)  // and the fraud-scorer's opening after it runs nothing again
    }

    @Test func featureAndBatchFilesOfTheHandRolledSchemaOpenAndAreUsed() async throws {
        let features = try await Self.earlier("""
            CREATE TABLE IF NOT EXISTS event (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, store TEXT NOT NULL, terminal TEXT NOT NULL, clerk TEXT, card TEXT,
                tender TEXT NOT NULL, keyed INTEGER NOT NULL, small INTEGER NOT NULL, amount INTEGER NOT NULL, at REAL NOT NULL,
                local_day TEXT NOT NULL, original_id TEXT);
            CREATE INDEX IF NOT EXISTS event_card ON event(card, at) WHERE card IS NOT NULL;
            CREATE INDEX IF NOT EXISTS event_terminal ON event(terminal, at);
            CREATE INDEX IF NOT EXISTS event_clerk ON event(store, clerk, at);
            CREATE INDEX IF NOT EXISTS event_shift ON event(store, clerk, local_day, kind);
            CREATE INDEX IF NOT EXISTS event_original ON event(original_id) WHERE original_id IS NOT NULL;
            CREATE INDEX IF NOT EXISTS event_at ON event(at);
            CREATE TABLE IF NOT EXISTS baseline (scope TEXT PRIMARY KEY, n INTEGER NOT NULL, mean REAL NOT NULL, variance REAL NOT NULL);
            INSERT INTO event VALUES ('T1', 'refund', 'S01', 'R1', NULL, NULL, 'cash', 0, 0, 1200, 1800000000, '2027-01-15', NULL);
            """)
        let store = try FeatureStore(path: features)
        #expect(try await Self.migrations(features) == ["feature-store-v1"])
        #expect(try await store.recordedKinds() == ["T1": .refund])
        #expect(try await EventHistory.open(path: features).event(id: "T1")?.amountCents == 1200, "the console's read-only view")

        let batches = try await Self.earlier("""
            CREATE TABLE IF NOT EXISTS batch_summary (batch_id TEXT PRIMARY KEY, store TEXT NOT NULL, business_day TEXT NOT NULL, summary TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS batch_summary_store ON batch_summary(store, business_day);
            """)
        _ = try BatchHistory(path: batches)
        #expect(try await Self.migrations(batches) == ["batch-history-v1"])
    }

    // MARK: the loaders' ledger, the ingests' sync state

    @Test func aLedgerOfTheHandRolledSchemaOpensOnOnePoolAndIsUsed() async throws {
        let path = try await Self.earlier("""
            CREATE TABLE IF NOT EXISTS processed (idempotency_key TEXT PRIMARY KEY, message_id TEXT NOT NULL, result TEXT, processed_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS notices_confirmed (idempotency_key TEXT PRIMARY KEY, confirmed_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS customer_link (
                heartland_number TEXT PRIMARY KEY, sage_number TEXT NOT NULL, because TEXT NOT NULL, linked_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS record_version (record TEXT PRIMARY KEY, version TEXT NOT NULL, applied_at TEXT NOT NULL);
            INSERT INTO processed VALUES ('heartland:batch:B1', 'm1', 'GL batch 7', '2027-01-15T08:00:00Z');
            INSERT INTO customer_link VALUES ('H1', 'S1', 'same e-mail', '2027-01-15T08:00:00Z');
            INSERT INTO record_version VALUES ('customer:H1', '2027-01-15T08:00:00Z', '2027-01-15T08:00:00Z');
            """)
        let file = try SQLiteFile.pool(path: path)
        // The index first: a ledger of the earlier code already records its migration (`customer-index-v1`) beside the others' tables.
        let index = try CustomerIndex(database: file, side: .sage)
        let ledger = try IdempotencyStore(database: file)
        let links = try CustomerLinks(database: file)
        let versions = try RecordVersions(database: file)
        #expect(try await Self.migrations(path) == ["customer-index-v1", "customer-link-v1", "idempotency-v1", "record-version-v1"])

        #expect(try await ledger.result(for: "heartland:batch:B1") == "GL batch 7", "kept")
        #expect(try await !ledger.record(key: "heartland:batch:B1", messageID: "m2"), "still a duplicate")
        try await ledger.confirmNotices(key: "heartland:batch:B1")
        #expect(try await ledger.noticesConfirmed(key: "heartland:batch:B1"))
        #expect(try await links.sage(forHeartland: "H1") == "S1", "kept")
        try await versions.advance("customer:H1", to: "2027-01-14T08:00:00Z")
        #expect(try await versions.newest("customer:H1") == "2027-01-15T08:00:00Z", "an older version does not overwrite the kept one")
        #expect(try await index.count() == 0)

        _ = try IdempotencyStore(database: file)  // opening again runs nothing again
        #expect(try await Self.migrations(path).count == 4)
    }

    @Test func aSyncStateOfTheHandRolledSchemaOpensAndIsUsed() async throws {
        let path = try await Self.earlier("""
            CREATE TABLE IF NOT EXISTS sync_watermark (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS sync_record (
                entity TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, version TEXT NOT NULL,
                published_at TEXT NOT NULL, PRIMARY KEY (entity, key));
            INSERT INTO sync_watermark VALUES ('sage.customers', '2027-01-15T08:00:00Z');
            """)
        let state = try SyncState(path: path)
        #expect(try await Self.migrations(path) == ["sync-state-v1"])
        #expect(try await state.watermark("sage.customers") == "2027-01-15T08:00:00Z", "kept")
        try await state.commit(records: [(entity: "customer", key: "S1", fingerprint: "f1", version: "v1")], watermarks: ["sage.customers": "2027-01-16T08:00:00Z"])
        #expect(try await state.fingerprint("customer", "S1") == "f1")
        #expect(try await state.watermark("sage.customers") == "2027-01-16T08:00:00Z")
    }

    // MARK: heartland-ingest

    @Test func anInboxOfTheHandRolledSchemaOpensAndIsUsed() async throws {
        let path = try await Self.earlier("""
            CREATE TABLE IF NOT EXISTS inbox (
                idempotency_key TEXT PRIMARY KEY, kind TEXT NOT NULL, source_id TEXT NOT NULL, first_seen_by TEXT NOT NULL,
                sightings INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
                last_error TEXT, message_id TEXT, received_at TEXT NOT NULL, published_at TEXT);
            CREATE INDEX IF NOT EXISTS inbox_due ON inbox (status, next_attempt_at);
            CREATE TABLE IF NOT EXISTS poll_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS document_claim (
                store TEXT NOT NULL, document_id TEXT NOT NULL, batch_id TEXT NOT NULL, claimed_at TEXT NOT NULL, PRIMARY KEY (store, document_id));
            CREATE TABLE IF NOT EXISTS batch_event (batch_id TEXT PRIMARY KEY, body BLOB NOT NULL, built_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS feed_event (idempotency_key TEXT PRIMARY KEY, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS payroll_event (run_id TEXT PRIMARY KEY, body BLOB NOT NULL, built_at TEXT NOT NULL);
            INSERT INTO inbox (idempotency_key, kind, source_id, first_seen_by, status, next_attempt_at, received_at)
                VALUES ('heartland:batch:B1', 'batch', 'B1', 'webhook', 'published', 0, '2027-01-15T08:00:00Z');
            INSERT INTO batch_event VALUES ('B1', X'7B7D', '2027-01-15T08:00:00Z');
            """, name: "inbox-before-migrator")
        let inbox = try IngestInbox(path: path)
        #expect(try await Self.migrations(path) == ["ingest-inbox-v1", "ingest-inbox-v2-batch-event-body-last"])
        #expect(try await !inbox.accept(key: "heartland:batch:B1", kind: "batch", sourceID: "B1", seenBy: "poller"), "a repeat sighting of a kept record")
        #expect(try await inbox.batchEvent("B1") == Data("{}".utf8), "kept")
        #expect(try KeptEvents.open(path: path) === KeptEvents.open(path: path), "one read-only pool per file and process")
    }
}
