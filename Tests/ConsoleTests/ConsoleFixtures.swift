import Accounting
import Alerter
import Foundation
import FraudScoring
import Logging
import Messaging
@testable import OperationsConsole
import PipelineContracts
import XCTest

/// The repository root, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A console over fresh stores in a temporary folder, with an operator (`olivia`/`op-secret`), a viewer
/// (`victor`/`view-secret`), a mapper (`mia`/`map-secret`), an approver (`april`/`approve-secret`) and an admin (`ada`/`admin-secret`),
/// and an API token for each role (`op-token`, `view-token`, `approve-token`, `admin-token`, named
/// `ci-operator`, `dashboard`, `ci-approver`, `ci-admin`). Bcrypt at its lowest cost (4), so that the
/// many logins of the tests stay fast; the console reads any cost.
struct ConsoleFixture {
    let console: OperationsConsole
    let operations: OperationsStore
    let reviews: ReviewStore
    let reviewPath: String
    let folder: URL
    let tokensPath: String

    static let usersFile = [
        "# the console's users",
        ConsoleUsers.line(name: "olivia", role: .operator, password: "op-secret", cost: 4),
        ConsoleUsers.line(name: "victor", role: .viewer, password: "view-secret", cost: 4),
        ConsoleUsers.line(name: "april", role: .approver, password: "approve-secret", cost: 4),
        ConsoleUsers.line(name: "mia", role: .mapper, password: "map-secret", cost: 4),
        ConsoleUsers.line(name: "ada", role: .admin, password: "admin-secret", cost: 4),
    ].joined(separator: "\n")

    static let tokensFile = [
        "# API tokens",
        ConsoleTokens.line(name: "ci-operator", role: .operator, token: "op-token"),
        ConsoleTokens.line(name: "dashboard", role: .viewer, token: "view-token"),
        ConsoleTokens.line(name: "ci-approver", role: .approver, token: "approve-token"),
        ConsoleTokens.line(name: "ci-admin", role: .admin, token: "admin-token"),
    ].joined(separator: "\n") + "\n"

    /// Writes the tokens file into `folder`; returns its path.
    static func writeTokens(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("tokens").path
        try tokensFile.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func make(stages: [String] = ["sage-loader"], amqpURL: String? = nil, managementURL: String? = nil,
                     customerReviews: Bool = false, _ configure: (inout OperationsConsole.Configuration) throws -> Void = { _ in }) throws -> ConsoleFixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let usersPath = folder.appendingPathComponent("users").path
        try usersFile.write(toFile: usersPath, atomically: true, encoding: .utf8)
        let operations = try OperationsStore(path: folder.appendingPathComponent("operations.sqlite").path)
        let reviewPath = folder.appendingPathComponent("reviews.sqlite").path
        let reviews = try ReviewStore(path: reviewPath)
        var configuration = OperationsConsole.Configuration(
            users: try ConsoleUsers.load(file: usersPath, environment: [:]), stages: stages, operations: operations,
            reviewStorePath: reviewPath, amqpURL: amqpURL, managementURL: managementURL)
        if customerReviews { configuration.customerReviews = try CustomerReviewStore(sharingFileOf: operations) }
        let tokensPath = try writeTokens(in: folder)
        configuration.tokensFile = tokensPath
        try configure(&configuration)
        var logger = Logger(label: "console-test")
        logger.logLevel = .warning
        return ConsoleFixture(console: OperationsConsole(configuration: configuration, logger: logger), operations: operations,
                              reviews: reviews, reviewPath: reviewPath, folder: folder, tokensPath: tokensPath)
    }

    /// Logs in through the form; returns the cookie header and the session's CSRF token.
    func login(_ name: String, _ password: String) async throws -> (cookie: String, csrf: String) {
        let response = await console.respond(to: ConsoleRequest(method: "POST", path: "/login", form: ["name": name, "password": password]))
        XCTAssertEqual(response.status, 303, response.text)
        let setCookie = try XCTUnwrap(response.headers["Set-Cookie"])
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = await console.respond(to: ConsoleRequest(method: "GET", path: "/alerts", headers: ["cookie": cookie]))
        let csrf = try XCTUnwrap(Self.csrf(in: page.text), "no CSRF token on the alerts page")
        return (cookie, csrf)
    }

    /// The audit trail without the requests written before each action (`console_action_requested`).
    func actionAudit() async throws -> [OperationsStore.AuditEntry] {
        try await operations.auditTrail().filter { $0.event != OperationsConsole.requestedEvent }
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    func get(_ path: String, _ headers: [String: String] = [:], query: [String: String] = [:]) async -> ConsoleResponse {
        await console.respond(to: ConsoleRequest(method: "GET", path: path, query: query, headers: headers))
    }

    func post(_ path: String, _ headers: [String: String] = [:], form: [String: String] = [:]) async -> ConsoleResponse {
        await console.respond(to: ConsoleRequest(method: "POST", path: path, headers: headers, form: form))
    }

    /// A held settlement document: cash 5.40 and Visa 12.80 in; revenue 15.00, tax 1.20, tips 2.00 out.
    @discardableResult
    func holdDocument(key: String = "heartland:batch:BAT_\(UUID().uuidString.prefix(8))") async throws -> ReviewStore.HeldDocument {
        try await reviews.hold(document: try JSONEncoder().encode(Self.document(key: key)), idempotencyKey: key,
                               reasons: ["sales 21.60 are 5.1 standard deviations below the store's history"])
    }

    /// A card sale of a posted batch that the rules sent to `review`, as the fraud-scorer records it
    /// (the summary as `SettlementSales.summary` writes it).
    @discardableResult
    func raiseException(transaction: String = "TRN_\(UUID().uuidString.prefix(8))", cents: Int64 = 61250,
                        card: String = "VISA:??????******4444") async throws -> FraudException {
        let key = "heartland:batch:BAT_EXC1"
        let recorded = try await reviews.recordExceptions([FraudException.Raised(
            key: "\(key)|\(transaction)", reference: "HL-S01-20261127-BAT_EXC1", transactionId: transaction, store: "S01", amountCents: cents,
            summary: "sale \(transaction) $\(Money.decimalString(cents)) on \(card) (ticket S01-7, 10:30 local, station 101, clerk Ava)",
            riskScore: 87, decidedBy: "line 3",
            reasons: ["rule line 3: review if :amount: > 50000", "4 declines on this terminal within 10 minutes (card testing?) (model)"])])
        return try XCTUnwrap(recorded.first)
    }

    static func document(key: String) throws -> JournalDocument {
        func line(_ account: String, _ rule: String, _ side: JournalLine.Side, _ cents: Int64) -> JournalLine {
            JournalLine(account: AccountNumber(account), rule: rule, description: rule, side: side, amount: Money(minorUnits: cents, currency: .usd))
        }
        let entry = try JournalEntry.balanced(
            source: .settlement, reference: "HL-S-FRAUD-20261126-\(key.suffix(8))", idempotencyKey: key,
            postingDate: try BusinessDate(year: 2026, month: 11, day: 26), description: "Store day", currency: .usd,
            lines: [line("1100", "tenders.cash", .debit, 540), line("1210", "tenders.card_brands.visa", .debit, 1280),
                    line("4000", "sales.revenue", .credit, 1500), line("2200", "sales.sales_tax", .credit, 120),
                    line("2210", "sales.tips", .credit, 200)])
        return JournalDocument(journal: entry, storeID: "S-FRAUD", batch: nil, fraudAssessment: "review")
    }

    /// A mismatched report for S-1's batch of 2026-11-26 (Visa clearing 0.40 short) and a matched one for S-2.
    func recordReconciliations() async throws {
        for json in [
            """
            {"storeID":"S-1","businessDate":"2026-11-26","batchID":"BAT_1","reference":"HL-S-1-20261126-BAT_1","status":"mismatched",
             "reason":"1 difference","lines":[
              {"check":"account","label":"Cash","account":"1100","expectedCents":540,"sageCents":540},
              {"check":"card_brand","label":"VISA","account":"1210","expectedCents":1280,"sageCents":1240}]}
            """,
            """
            {"storeID":"S-2","businessDate":"2026-11-26","batchID":"BAT_2","reference":"HL-S-2-20261126-BAT_2","status":"matched",
             "lines":[{"check":"account","label":"Cash","account":"1100","expectedCents":100,"sageCents":100}]}
            """,
        ] {
            try await operations.record(try JSONDecoder().decode(ReconciliationReport.self, from: Data(json.utf8)))
        }
    }

    func recordAlert(reason: String = "GL account 4010 does not exist in Sage") async throws -> OperationsStore.AlertGroup {
        try await operations.record(AlertNotice(kind: .deadLettered, severity: "error", stage: "sage-loader", reason: reason),
                                    messageID: UUID().uuidString).group
    }
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ response: ConsoleResponse, file: StaticString = #filePath, line: UInt = #line) throws -> T {
    XCTAssertEqual(response.headers["Content-Type"], "application/json", response.text, file: file, line: line)
    return try JSONDecoder().decode(type, from: Data(response.body))
}

