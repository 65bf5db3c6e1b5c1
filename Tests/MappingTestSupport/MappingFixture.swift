import Accounting
import Foundation
import HeartlandIngest
import Logging
import MappingEditor
import PipelineContracts
import SageConnector
import SageLoader
import SageSimulator
import SimulatorKit
import Transformer

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the mapping tests share (library, console and browser tests): a copy of `Config/mapping.yaml` in a temporary
/// folder, sage-pro-sim in-process with its seeded chart, heartland-ingest's inbox holding one closed batch (store
/// S-LA, 2026-11-26, a Visa sale with a tip and cash sales) whose journal is posted to Sage with the mapping as it is,
/// a version store, and the workbench over all of them.
public struct MappingFixture: Sendable {
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let user = "ADMIN"
    public static let password = "s3cret"
    /// The batch kept and posted at the start.
    public static let postedBatch = "BAT_LA_1126"

    public let folder: URL
    public let mappingPath: String
    public let versionsPath: String
    public let inboxPath: String
    public let sage: SageWebAPIClient
    public let connection: SageConnection
    let running: RunningSimulator
    public let versions: MappingVersions

    public var workbench: MappingWorkbench {
        MappingWorkbench(mappingPath: mappingPath, versions: versions, sage: sage, historyPath: inboxPath)
    }

    public static func start() async throws -> MappingFixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let mappingPath = folder.appendingPathComponent("mapping.yaml").path
        try FileManager.default.copyItem(atPath: repositoryRoot.appendingPathComponent("Config/mapping.yaml").path, toPath: mappingPath)
        var options = SageSimulator.Options()
        options.user = user
        options.password = password
        options.server.databasePath = folder.appendingPathComponent("sage.sqlite").path
        var logger = Logger(label: "mapping-fixture")
        logger.logLevel = .error
        let simulator = try SageSimulator(options: options, logger: logger)
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: logger)
        let connection = SageConnection(server: running.baseURL, company: "SAMINC", credentials: SageCredentials(user: user, password: password),
                                        timeout: .seconds(30), pageSize: 100)
        let inboxPath = folder.appendingPathComponent("heartland-ingest.sqlite").path
        let versionsPath = folder.appendingPathComponent("mapping-versions.sqlite").path
        let fixture = MappingFixture(folder: folder, mappingPath: mappingPath, versionsPath: versionsPath, inboxPath: inboxPath,
                                     sage: SageWebAPIClient(connection: connection, logger: logger), connection: connection, running: running,
                                     versions: try MappingVersions(path: versionsPath))
        let day = storeDay(batch: postedBatch, date: "2026-11-26")
        try await fixture.keep(day)
        for journal in try fixture.journals(of: day, rules: try MappingRules.load(path: mappingPath)) { _ = try await fixture.post(journal) }
        return fixture
    }

    public func stop() async { await running.stop() }

    /// Keeps a batch event in heartland-ingest's inbox, as heartland-ingest does when it builds one.
    public func keep(_ event: BatchClosedEvent) async throws {
        let inbox = try IngestInbox(path: inboxPath)
        try await inbox.keepBatchEvent(event.batchId ?? "", body: try JSONEncoder().encode(event))
    }

    /// Keeps a pay run's event in the inbox, as heartland-ingest does when it publishes one; `stateTaxCode` names the state
    /// income tax (`SIT` is mapped; another code is not).
    public func keepPayRun(_ runID: String, stateTaxCode: String = "SIT") async throws {
        let json = """
            {"run_id": "\(runID)", "pay_group_id": "WEEKLY", "check_date": "11/27/2026", "status": "PROCESSED",
             "paychecks": [{"employee_id": "EMP0101", "employee_number": "0101", "name": "Ava Kim", "location_id": 1,
               "gross": 800, "net": 567.46,
               "earnings": [{"pay_code": "REG", "hours": 40, "amount": 800}],
               "taxes": [{"code": "FIT", "type": "EMPLOYEE", "amount": 73.1}, {"code": "\(stateTaxCode)", "type": "EMPLOYEE", "amount": 29.24},
                         {"code": "SS", "type": "EMPLOYEE", "amount": 49.6}, {"code": "MED", "type": "EMPLOYEE", "amount": 11.6},
                         {"code": "SS", "type": "EMPLOYER", "amount": 49.6}, {"code": "MED", "type": "EMPLOYER", "amount": 11.6},
                         {"code": "FUTA", "type": "EMPLOYER", "amount": 4.8}, {"code": "SUI", "type": "EMPLOYER", "amount": 21.6}],
               "deductions": [{"code": "401K", "description": "401(k) 3%", "pre_tax": true, "amount": 24},
                              {"code": "MED125", "description": "Medical plan", "pre_tax": true, "amount": 45}]}]}
            """
        let event = PayrollCompletedEvent(currency: "USD", runId: runID, payRun: RawJSON(Data(json.utf8)))
        try await IngestInbox(path: inboxPath).keepPayrollEvent(runID, body: try JSONEncoder().encode(event))
    }

    /// The journals the transformer's code builds from a batch with `rules`.
    public func journals(of event: BatchClosedEvent, rules: MappingRules) throws -> [JournalEntry] {
        try TransformerHandler(rules: rules).settlement(batch: event).documents.map(\.journal)
    }

    /// Posts a journal to Sage as sage-loader does (one batch, one entry).
    public func post(_ journal: JournalEntry) async throws -> SagePostingReceipt {
        try await sage.post(try SageBatchMapping.batch(for: journal))
    }

    /// A request to sage-pro-sim's Web API (`GL/GLAccounts`…), answered body.
    @discardableResult
    public func sageRequest(_ method: String, _ resource: String, _ body: String? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: resource, relativeTo: connection.companyURL)!.absoluteURL)
        request.httpMethod = method
        request.setValue("Basic " + Data("\(Self.user):\(Self.password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
            throw SageRequestFailed(description: "\(method) \(resource): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    public struct SageRequestFailed: Error, CustomStringConvertible { public var description: String }

    /// Adds an account to Sage's chart (and makes it inactive when asked).
    public func addAccount(_ number: String, _ name: String, active: Bool = true) async throws {
        try await sageRequest("POST", "GL/GLAccounts", #"{"AccountNumber":"\#(number)","Description":"\#(name)","AccountType":"BalanceSheet","NormalBalanceDRCR":"Debit"}"#)
        if !active { try await sageRequest("PATCH", "GL/GLAccounts('\(number)')", #"{"Status":"Inactive"}"#) }
    }

    /// A Los Angeles store's closed batch: a card sale of `brand` (12.80 with a 2.00 tip) and a cash sale (5.40).
    public static func storeDay(batch: String, date: String, brand: String = "VISA", store: String = "S-LA") -> BatchClosedEvent {
        let batchJSON = """
            {"id": "\(batch)", "batch_id": "\(batch)", "status": "CLOSED", "business_day": "\(date)", "currency": "USD",
             "sales": {"count": 1, "amount": "1280"}, "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "200", "fee_amount": "0",
             "brand_breakdown": [{"brand": "\(brand)", "count": 1, "amount": "1280", "sales": {"count": 1, "amount": "1280"},
               "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "200", "fee_amount": "0"}]}
            """
        let tickets = """
            [{"id": 1, "public_id": "\(batch)-1", "status": "complete", "completed_at": "\(date)T20:55:00Z",
              "lines": [{"id": 11, "type": "ItemLine", "description": "Lamp", "qty": 1, "unit_price": "10.00", "discount_amount": 0, "value": "10.00"},
                        {"id": 12, "type": "TaxLine", "description": "Sales Tax", "qty": 1, "unit_price": "0.80", "discount_amount": 0, "value": "0.80"}],
              "payments": [{"id": 13, "payment_type": "Credit Card", "amount": "12.80", "tip_amount": "2.00", "card_type": "\(brand)"}]},
             {"id": 2, "public_id": "\(batch)-2", "status": "complete", "completed_at": "\(date)T20:00:00Z",
              "lines": [{"id": 21, "type": "ItemLine", "description": "Candle", "qty": 1, "unit_price": "5.00", "discount_amount": 0, "value": "5.00"},
                        {"id": 22, "type": "TaxLine", "description": "Sales Tax", "qty": 1, "unit_price": "0.40", "discount_amount": 0, "value": "0.40"}],
              "payments": [{"id": 23, "payment_type": "Cash", "amount": "5.40", "tip_amount": 0}]}]
            """
        return BatchClosedEvent(store: .init(id: store, timeZone: "America/Los_Angeles", currency: "USD"), businessDate: date, batchId: batch,
                                batch: RawJSON(Data(batchJSON.utf8)), tickets: RawJSON(Data(tickets.utf8)))
    }
}
