import Accounting
import Alerter
import Foundation
import FraudScoring
import GRDB
import Messaging
@testable import OperationsConsole
import PipelineContracts
import XCTest

/// One fraud exception on its own page (`/reviews/exceptions/E<n>`, JSON under `/api`): the facts, every reason, and
/// the evidence read from the fraud-scorer's feature store, where events of another terminal, card or day must not
/// appear. Recorded through the scorer's own `FeatureStore.observe`, as the stage records them; no broker.
final class ExceptionPageTests: XCTestCase {
    struct Detail: Decodable {
        struct Exception: Decodable { var id, status, transactionId: String; var reasons: [String]; var cardToken: String? }
        struct Row: Decodable { var id, kind, terminal: String; var card, clerk, localTime: String?; var flagged: Bool }
        struct Group: Decodable { var id, title: String; var rows: [Row]; var truncated: Bool }
        struct Feature: Decodable { var name: String; var value: Double; var words: String }
        var exception: Exception
        var ruleFeatures: [Feature]
        var evidenceKind: String
        var transaction: Row?
        var storeHours: String?
        var minutesOutsideHours: Int?
        var findings: [String]
        var evidence: [Group]
        var evidenceMissing: String?
    }

    static let viewer = ["authorization": "Bearer view-token"]

    /// Card testing from the gateway feed: the terminal's tiny authorisations and declines within ±10 minutes, and
    /// nothing of another terminal, nothing large, nothing outside the window.
    func testCardTestingExceptionShowsTheTerminalsProbes() async throws {
        let probes = (1...5).map { i in
            Self.event("TRN_PROBE\(i)", i % 2 == 0 ? .sale : .decline, terminal: "DEV0001", card: "VISA:411111******000\(i)", cents: 51,
                       at: "2026-11-27T19:0\(i):00Z")
        }
        let fixture = try await ConsoleFixture.withEvents(probes + [
            Self.event("TRN_OTHERTERM", .decline, terminal: "DEV0002", card: "VISA:411111******0009", cents: 51, at: "2026-11-27T19:03:30Z"),
            Self.event("TRN_BIGSALE", .sale, terminal: "DEV0001", card: "VISA:411111******0008", cents: 12_500, at: "2026-11-27T19:04:30Z"),
            Self.event("TRN_LATERPROBE", .decline, terminal: "DEV0001", card: "VISA:411111******0007", cents: 51, at: "2026-11-27T21:05:00Z"),
            Self.event("TRN_NEXTDAY", .decline, terminal: "DEV0001", card: "VISA:411111******0006", cents: 51, at: "2026-11-28T19:05:00Z"),
        ])
        let burst = "card testing: 5 tiny authorisations, 3 declined, on terminal DEV0001 within 10 minutes"
        let rule = "rule line 4: review if :small_auth: and :terminal_small_auths_10m: >= 4 and :terminal_declines_10m: >= 2"
        let exception = try await fixture.raise(transaction: "TRN_PROBE5", reference: "gateway S01/DEV0001", cents: 51,
                                                summary: "decline TRN_PROBE5 $0.51 on VISA:411111******0005, keyed (store S01, terminal DEV0001, 13:05 local, status DECLINED)",
                                                reasons: [burst, rule], decidedBy: "line 4",
                                                features: ["small_auth": 1, "terminal_small_auths_10m": 5, "terminal_declines_10m": 3])

        let detail = try decodeJSON(Detail.self, await fixture.get("/api/reviews/exceptions/\(exception.label)", Self.viewer))
        XCTAssertEqual(detail.evidenceKind, "card_testing")
        XCTAssertEqual(detail.exception.reasons, [burst, rule])
        XCTAssertEqual(detail.transaction?.terminal, "DEV0001")
        XCTAssertEqual(detail.transaction?.localTime, "2026-11-27 13:05", "the store's clock, from the summary's local time")
        XCTAssertEqual(detail.evidence.map(\.id), ["evidence-probes"])
        let shown = detail.evidence.flatMap(\.rows).map(\.id)
        XCTAssertEqual(shown, ["TRN_PROBE1", "TRN_PROBE2", "TRN_PROBE3", "TRN_PROBE4", "TRN_PROBE5"])
        XCTAssertEqual(detail.evidence.first?.rows.filter(\.flagged).map(\.id), ["TRN_PROBE5"])
        XCTAssertTrue(detail.findings.first?.contains("3 of them declined") == true, "\(detail.findings)")
        XCTAssertEqual(detail.ruleFeatures.map(\.name), ["small_auth", "terminal_declines_10m", "terminal_small_auths_10m"])
        XCTAssertEqual(detail.ruleFeatures.last?.value, 5)

        let page = await fixture.get("/reviews/exceptions/\(exception.label)", try await fixture.session("victor", "view-secret"))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains(HTML.escape(burst)) && page.text.contains(HTML.escape(rule)), "every reason")
        XCTAssertTrue(page.text.contains("id=\"evidence-probes\""), page.text)
        XCTAssertTrue(page.text.contains("id=\"rule-features\"") && page.text.contains("5 tiny authorisations on this terminal within 10 minutes"),
                      "the feature values the rule looked at")
        for id in shown { XCTAssertTrue(page.text.contains(id), id) }
        for absent in ["TRN_OTHERTERM", "TRN_BIGSALE", "TRN_LATERPROBE", "TRN_NEXTDAY"] {
            XCTAssertFalse(page.text.contains(absent), "\(absent) is not evidence of this burst")
        }
        XCTAssertTrue(page.text.contains("VISA:411111******0005"), "first six and last four at most")
    }

    /// Any other sale: the card's transactions of its local day (at any terminal) and the terminal's, and nothing of
    /// another card and terminal, or of another day.
    func testSaleExceptionShowsTheCardsAndTheTerminalsDay() async throws {
        let card = "VISA:??????******4444"
        // 10:30 in New York is 15:30 UTC in November.
        let fixture = try await ConsoleFixture.withEvents([
            Self.event("TRN_FLAGGED", .sale, terminal: "101", card: card, clerk: "Ava", cents: 61_250, at: "2026-11-27T15:30:00Z", zone: "America/New_York"),
            Self.event("TRN_SAMECARD", .sale, terminal: "102", card: card, clerk: "Ben", cents: 4_000, at: "2026-11-27T18:00:00Z", zone: "America/New_York"),
            Self.event("TRN_SAMETERM", .sale, terminal: "101", card: "MC:??????******5454", clerk: "Ava", cents: 900, at: "2026-11-27T16:00:00Z",
                       zone: "America/New_York"),
            Self.event("TRN_NEITHER", .sale, terminal: "102", card: "MC:??????******5455", clerk: "Ben", cents: 700, at: "2026-11-27T16:10:00Z",
                       zone: "America/New_York"),
            // 02:00 UTC on the 28th is still the 27th in New York: the same local day.
            Self.event("TRN_LATEEVENING", .sale, terminal: "101", card: "MC:??????******5456", clerk: "Ava", cents: 800, at: "2026-11-28T02:00:00Z",
                       zone: "America/New_York"),
            Self.event("TRN_CARDNEXTDAY", .sale, terminal: "101", card: card, clerk: "Ava", cents: 5_000, at: "2026-11-28T15:00:00Z", zone: "America/New_York"),
            Self.event("TRN_CARDDAYBEFORE", .sale, terminal: "102", card: card, clerk: "Ben", cents: 5_000, at: "2026-11-26T23:00:00Z",
                       zone: "America/New_York"),
        ])
        let exception = try await fixture.raiseException(transaction: "TRN_FLAGGED", cents: 61_250, card: card)

        let detail = try decodeJSON(Detail.self, await fixture.get("/api/reviews/exceptions/\(exception.label)", Self.viewer))
        XCTAssertEqual(detail.evidenceKind, "card_and_terminal")
        XCTAssertEqual(detail.exception.reasons.count, 2)
        XCTAssertEqual(detail.transaction?.clerk, "Ava")
        XCTAssertEqual(detail.transaction?.localTime, "2026-11-27 10:30")
        XCTAssertEqual(detail.evidence.map(\.id), ["evidence-card", "evidence-terminal"])
        XCTAssertEqual(detail.evidence[0].rows.map(\.id), ["TRN_FLAGGED", "TRN_SAMECARD"])
        XCTAssertEqual(detail.evidence[1].rows.map(\.id), ["TRN_FLAGGED", "TRN_SAMETERM", "TRN_LATEEVENING"])
        XCTAssertEqual(detail.evidence[1].rows.last?.localTime, "2026-11-27 21:00")

        let html = await fixture.get("/reviews/exceptions/\(exception.label)", try await fixture.session("olivia", "op-secret"))
        XCTAssertEqual(html.status, 200, html.text)
        XCTAssertTrue(html.text.contains("rule line 3: review if :amount: &gt; 50000"), "the rule's text")
        XCTAssertTrue(html.text.contains("4 declines on this terminal within 10 minutes"), "the model's reason")
        XCTAssertTrue(html.text.contains("87/100") && html.text.contains("line 3") && html.text.contains("612.50"))
        for absent in ["TRN_NEITHER", "TRN_CARDNEXTDAY", "TRN_CARDDAYBEFORE"] {
            XCTAssertFalse(html.text.contains(absent), "\(absent) is another card and terminal, or another day")
        }
    }

    /// A voided ticket: the clerk's voids of the day, not another clerk's nor the next day's.
    func testVoidExceptionShowsTheClerksVoidsOfTheDay() async throws {
        func void(_ ticket: String, clerk: String, at: String) -> ScoredEvent {
            Self.event("ticket:\(ticket):void", .void, terminal: "101", card: nil, clerk: clerk, cents: 1_200, at: at, tender: .cash)
        }
        let fixture = try await ConsoleFixture.withEvents([
            void("T1", clerk: "Bob", at: "2026-11-27T15:00:00Z"), void("T2", clerk: "Bob", at: "2026-11-27T16:00:00Z"),
            void("T3", clerk: "Bob", at: "2026-11-27T20:02:00Z"), void("T4", clerk: "Carl", at: "2026-11-27T17:00:00Z"),
            void("T5", clerk: "Bob", at: "2026-11-28T16:00:00Z"),
        ])
        let exception = try await fixture.raise(transaction: "ticket:T3:void", reference: "ticket S01-20261127-3", cents: 1_200,
                                                summary: "void of ticket S01-20261127-3 $12.00 cash by clerk Bob (store S01, station 101, 14:02 local)",
                                                reasons: ["3 voids by this clerk this shift (model)"], decidedBy: nil)
        let detail = try decodeJSON(Detail.self, await fixture.get("/api/reviews/exceptions/\(exception.label)", Self.viewer))
        XCTAssertEqual(detail.evidenceKind, "clerk_voids")
        XCTAssertEqual(detail.evidence.flatMap(\.rows).map(\.id), ["ticket:T1:void", "ticket:T2:void", "ticket:T3:void"])
    }

    /// Out of hours: the store's hours (as the fraud-scorer has them) and how far outside, then the card's and terminal's day.
    func testOutOfHoursExceptionShowsTheStoresHours() async throws {
        let fixture = try await ConsoleFixture.withEvents([
            Self.event("TRN_NIGHT", .sale, terminal: "101", card: "AMEX:??????******1005", clerk: "Ava", cents: 9_900, at: "2026-11-28T05:30:00Z"),
        ]) { $0.storeHours = StoreHoursFile(stores: [StoreID("S01"): StoreHours(opening: 7 * 60, closing: 22 * 60)]) }
        let exception = try await fixture.raise(transaction: "TRN_NIGHT", reference: "HL-S01-20261127-BAT_N", cents: 9_900,
                                                summary: "sale TRN_NIGHT $99.00 on AMEX:??????******1005 (ticket S01-9, 23:30 local, station 101, clerk Ava)",
                                                reasons: ["sold 90 minutes outside the store's hours (model)"], decidedBy: nil)
        let detail = try decodeJSON(Detail.self, await fixture.get("/api/reviews/exceptions/\(exception.label)", Self.viewer))
        XCTAssertEqual(detail.evidenceKind, "outside_hours")
        XCTAssertEqual(detail.storeHours, "07:00-22:00")
        XCTAssertEqual(detail.minutesOutsideHours, 90)
        XCTAssertEqual(detail.evidence.map(\.id), ["evidence-card", "evidence-terminal"])
        let page = await fixture.get("/reviews/exceptions/\(exception.label)", try await fixture.session("victor", "view-secret"))
        XCTAssertTrue(page.text.contains("id=\"store-hours\"") && page.text.contains("07:00-22:00"), page.text)
    }

    /// A held refund has its own review page (`/reviews/ID`): the sale it returns as Heartland has it, and from the
    /// feature store every refund of that sale and the card's and terminal's day; not a refund of another sale.
    func testHeldRefundReviewShowsItsSaleAndTheRefundsOfThatSale() async throws {
        func refund(_ id: String, of ticket: String, terminal: String, card: String, at: String) -> ScoredEvent {
            var event = Self.event(id, .refund, terminal: terminal, card: card, clerk: "Ava", cents: 3_000, at: at)
            event.originalSale = ScoredEvent.OriginalSale(id: "ticket:\(ticket)", amountCents: 5_000, cardToken: CardToken(card),
                                                          tenderMix: TenderMix(cardCents: 5_000))
            return event
        }
        let fixture = try await ConsoleFixture.withEvents([
            refund("REF_EARLIER", of: "77", terminal: "102", card: "VISA:??????******1111", at: "2026-11-25T16:00:00Z"),
            refund("REF_HELD", of: "77", terminal: "101", card: "VISA:??????******4444", at: "2026-11-27T16:00:00Z"),
            refund("REF_OTHERSALE", of: "78", terminal: "103", card: "MC:??????******5454", at: "2026-11-27T16:05:00Z"),
        ])
        var document = try ConsoleFixture.document(key: "heartland:refund:REF_HELD")
        document.refund = RefundFacts(
            transactionId: "REF_HELD", batchId: nil, dayReference: nil, returnTicketId: "90", returnTicketNumber: "S01-90", originalTicketId: "77",
            originalTicketNumber: "S01-77", originalCents: 5_000, earlierRefundedCents: 3_000, refundedCents: 3_000,
            refundCard: "VISA:??????******4444", saleCards: ["VISA:??????******1111"], saleCardCents: 5_000, saleCashCents: 0,
            saleGiftCardCents: 0, entryMode: "KEYED", terminal: "101", clerk: "Ava", occurredAt: "2026-11-27T16:00:00Z",
            timeZone: "America/Chicago", receivedAt: "2026-11-27T16:00:05Z",
            problems: ["refund 30.00 over what is left of sale S01-77 (20.00)", "refund to another card than the sale's"])
        let held = try await fixture.reviews.hold(document: try JSONEncoder().encode(document), idempotencyKey: "heartland:refund:REF_HELD",
                                                  reasons: document.refund?.problems ?? [])

        struct Review: Decodable {
            struct Refund: Decodable {
                var originalTicket, originalAmount, earlierRefunded: String?
                var transaction: Detail.Row?
                var findings: [String]
                var evidence: [Detail.Group]
            }
            var refund: Refund?
        }
        let detail = try decodeJSON(Review.self, await fixture.get("/api/reviews/\(held.id)", Self.viewer))
        let refund = try XCTUnwrap(detail.refund)
        XCTAssertEqual(refund.originalTicket, "S01-77")
        XCTAssertEqual(refund.originalAmount, "50.00")
        XCTAssertEqual(refund.earlierRefunded, "30.00")
        XCTAssertEqual(refund.transaction?.localTime, "2026-11-27 10:00")
        XCTAssertEqual(refund.evidence.map(\.id), ["evidence-sale", "evidence-refunds", "evidence-card", "evidence-terminal"])
        XCTAssertEqual(refund.evidence[1].rows.map(\.id), ["REF_EARLIER", "REF_HELD"])
        XCTAssertTrue(refund.findings.first?.contains("ticket:77 is not in the feature store") == true, "\(refund.findings)")

        let page = await fixture.get("/reviews/\(held.id)", try await fixture.session("olivia", "op-secret"))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains("id=\"refund-facts\"") && page.text.contains("S01-77") && page.text.contains("REF_EARLIER"), page.text)
        XCTAssertFalse(page.text.contains("REF_OTHERSALE"), "a refund of another sale is not evidence")
        XCTAssertTrue(page.text.contains("id=\"approve\"") == false && page.text.contains("id=\"reject\""), "the decision form stays")
    }

    /// An id that names no exception is a 404 page saying so; the lists link each exception to its page; a viewer sees
    /// the page without the form and is refused the action; an operator gets the form, which comes back to the page.
    func testUnknownIdIs404AndAViewerCannotAcknowledge() async throws {
        let fixture = try await ConsoleFixture.withEvents([])
        let exception = try await fixture.raiseException(transaction: "TRN_NOTRECORDED")
        let viewerSession = try await fixture.session("victor", "view-secret")

        for missing in ["E999", "X1", "999999999999999999999"] {
            let page = await fixture.get("/reviews/exceptions/\(missing)", viewerSession)
            XCTAssertEqual(page.status, 404, "\(missing): \(page.text)")
            XCTAssertTrue(page.text.contains("id=\"error\"") && page.text.contains("no fraud exception"), page.text)
            let json = await fixture.get("/api/reviews/exceptions/\(missing)", Self.viewer)
            XCTAssertEqual(json.status, 404, json.text)
        }

        for list in ["/reviews", "/reviews/exceptions"] {
            let page = await fixture.get(list, viewerSession)
            XCTAssertTrue(page.text.contains("<a href=\"/reviews/exceptions/\(exception.label)\">\(exception.label)</a>"), "\(list) links the exception")
        }

        let viewerPage = await fixture.get("/reviews/exceptions/\(exception.label)", viewerSession)
        XCTAssertEqual(viewerPage.status, 200, viewerPage.text)
        XCTAssertTrue(viewerPage.text.contains("TRN_NOTRECORDED"))
        XCTAssertTrue(viewerPage.text.contains("id=\"evidence-missing\"") && viewerPage.text.contains("not in the fraud-scorer"),
                      "says why there is no evidence")
        XCTAssertFalse(viewerPage.text.contains("Acknowledge</button>"), "a viewer is not offered the action")
        XCTAssertFalse(viewerPage.text.contains("name=\"why\""))
        let csrf = try XCTUnwrap(ConsoleFixture.csrf(in: viewerPage.text))
        let refused = await fixture.post("/reviews/exceptions/\(exception.label)/acknowledge", viewerSession,
                                         form: ["csrf": csrf, "why": "looks fine", "back": "exception"])
        XCTAssertEqual(refused.status, 403, refused.text)
        let stillOpen = try await fixture.reviews.exception(id: exception.id)
        XCTAssertEqual(stillOpen.status, .open)

        let operatorPage = await fixture.get("/reviews/exceptions/\(exception.label)", try await fixture.session("olivia", "op-secret"))
        XCTAssertTrue(operatorPage.text.contains("action=\"/reviews/exceptions/\(exception.label)/acknowledge\""), operatorPage.text)
        XCTAssertTrue(operatorPage.text.contains("<input type=\"hidden\" name=\"back\" value=\"exception\">"), "comes back to the page")

        _ = try await fixture.reviews.acknowledge(exception: exception.id, by: "ana", why: "seen in bridgectl")
        try await fixture.operations.record(AuditNotice(event: .exceptionAcknowledged, stage: "fraud-scorer", detail: "acknowledged by ana",
                                                        idempotencyKey: exception.key, actor: "ana"), messageID: UUID().uuidString, correlationID: nil)
        let acknowledged = await fixture.get("/reviews/exceptions/\(exception.label)", viewerSession)
        XCTAssertTrue(acknowledged.text.contains("<b id=\"exception-status\">acknowledged</b> by ana"), acknowledged.text)
        XCTAssertTrue(acknowledged.text.contains("id=\"history\"") && acknowledged.text.contains("exception_acknowledged"), "the audit records")

        let noStore = try ConsoleFixture.make()
        let withoutFeatures = try decodeJSON(Detail.self, await noStore.get("/api/reviews/exceptions/\(try await noStore.raiseException().label)", Self.viewer))
        XCTAssertTrue(withoutFeatures.evidenceMissing?.contains("BRIDGE_FEATURE_STORE") == true, "\(withoutFeatures)")

        // A feature store that cannot be read costs the evidence, not the page or its form.
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("features-\(UUID().uuidString).sqlite").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        let broken = try ConsoleFixture.make { $0.featureStorePath = garbage }
        let brokenException = try await broken.raiseException()
        let brokenPage = await broken.get("/reviews/exceptions/\(brokenException.label)", try await broken.session("olivia", "op-secret"))
        XCTAssertEqual(brokenPage.status, 200, brokenPage.text)
        XCTAssertTrue(brokenPage.text.contains("id=\"evidence-missing\"") && brokenPage.text.contains("id=\"ack-\(brokenException.label)\""),
                      brokenPage.text)
    }

    /// Text from the feed (a clerk's name, a summary, a reason) is escaped, and a card number that slipped into one is masked.
    func testHostileTextIsEscapedAndCardNumbersMasked() async throws {
        let hostile = "<script>alert(1)</script>"
        let fixture = try await ConsoleFixture.withEvents([
            Self.event("TRN_HOSTILE", .sale, terminal: "<img src=x onerror=alert(2)>", card: "VISA:4111111111111111", clerk: "\"><b>Eve",
                       cents: 70_000, at: "2026-11-27T15:30:00Z"),
        ])
        let exception = try await fixture.raise(transaction: "TRN_HOSTILE", reference: "HL-S01-\(hostile)", cents: 70_000,
                                                summary: "sale TRN_HOSTILE $700.00 on 4111111111111111 \(hostile) (ticket S01-1, 09:30 local)",
                                                reasons: ["rule line 1: review if :clerk: = \"\(hostile)\""], decidedBy: "line 1")
        let page = await fixture.get("/reviews/exceptions/\(exception.label)", try await fixture.session("olivia", "op-secret"))
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertFalse(page.text.contains("<script>alert"), page.text)
        XCTAssertFalse(page.text.contains("<img src=x"))
        XCTAssertFalse(page.text.contains("\"><b>Eve"))
        XCTAssertTrue(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertFalse(page.text.contains("4111111111111111"), "no card number in full")
        XCTAssertTrue(page.text.contains("411111******1111"))
        let json = await fixture.get("/api/reviews/exceptions/\(exception.label)", Self.viewer)
        XCTAssertFalse(json.text.contains("4111111111111111"), json.text)
    }

    /// A review store written before exceptions kept their rule's feature values gains the column when the console opens
    /// it; an old exception's page says that none were kept, and a new one keeps its values.
    func testAnOlderReviewStoreGainsTheFeatureValues() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("old-reviews.sqlite").path
        let old = try DatabaseQueue(path: path)
        try await old.write { db in
            try db.execute(sql: """
                CREATE TABLE fraud_exception (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, reference TEXT NOT NULL, transaction_id TEXT NOT NULL,
                    store TEXT NOT NULL, amount_cents INTEGER NOT NULL, summary TEXT NOT NULL, risk_score INTEGER NOT NULL, decided_by TEXT,
                    reasons TEXT NOT NULL, status TEXT NOT NULL, raised_at REAL NOT NULL, acknowledged_by TEXT, acknowledged_why TEXT,
                    acknowledged_at REAL);
                INSERT INTO fraud_exception (key, reference, transaction_id, store, amount_cents, summary, risk_score, reasons, status, raised_at)
                VALUES ('k1', 'HL-1', 'TRN_OLD', 'S01', 100, 'sale TRN_OLD', 80, '["rule line 1: review if :amount: > 50"]', 'open', 0);
                """)
        }
        try old.close()
        let fixture = try ConsoleFixture.make { $0.reviewStorePath = path }
        let page = await fixture.get("/reviews/exceptions/E1", Self.viewer)
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.text.contains("TRN_OLD") && page.text.contains("No feature values were kept"), page.text)

        let store = try ReviewStore(path: path)
        let new = try await store.recordExceptions([FraudException.Raised(
            key: "k2", reference: "HL-2", transactionId: "TRN_NEW", store: "S01", amountCents: 100, summary: "sale TRN_NEW", riskScore: 80,
            decidedBy: "line 1", reasons: ["rule line 1: review if :amount: > 50"], features: ["amount": 100])])
        let detail = try decodeJSON(Detail.self, await fixture.get("/api/reviews/exceptions/\(new[0].label)", Self.viewer))
        XCTAssertEqual(detail.ruleFeatures.map(\.name), ["amount"])
        XCTAssertEqual(detail.ruleFeatures.first?.words, "amount $1.00")
    }

    // MARK: fixtures

    static func event(_ id: String, _ kind: ScoredEvent.Kind, terminal: String, card: String?, clerk: String? = nil, cents: Int64, at: String,
                      zone: String = "America/Chicago", tender: ScoredEvent.Tender = .card) -> ScoredEvent {
        ScoredEvent(id: id, kind: kind, store: StoreID("S01"), terminal: terminal, clerk: clerk, tender: tender, cardToken: card.map(CardToken.init),
                    entryMode: card == nil ? .none : .keyed, amountCents: cents, occurredAt: try! Date(at, strategy: .iso8601), timeZone: zone)
    }
}

extension ConsoleFixture {
    /// A console whose feature store holds `events`, recorded as the fraud-scorer records them.
    static func withEvents(_ events: [ScoredEvent], _ configure: (inout OperationsConsole.Configuration) throws -> Void = { _ in }) async throws
        -> ConsoleFixture {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("features-\(UUID().uuidString).sqlite").path
        let store = try FeatureStore(path: path)
        if !events.isEmpty { _ = try await store.observe(events) }
        return try make {
            $0.featureStorePath = path
            try configure(&$0)
        }
    }

    /// An exception as the fraud-scorer records it, for a transaction of the feature store.
    func raise(transaction: String, reference: String, cents: Int64, summary: String, reasons: [String], decidedBy: String?,
               features: [String: Double] = [:]) async throws -> FraudException {
        let recorded = try await reviews.recordExceptions([FraudException.Raised(
            key: "gateway:\(transaction)", reference: reference, transactionId: transaction, store: "S01", amountCents: cents, summary: summary,
            riskScore: 91, decidedBy: decidedBy, reasons: reasons, features: features)])
        return try XCTUnwrap(recorded.first)
    }

    /// A browser session's cookie header.
    func session(_ name: String, _ password: String) async throws -> [String: String] {
        ["cookie": try await login(name, password).cookie]
    }
}
