import Foundation
import Logging
import SageConnector
import SageSimulator
import SimulatorKit

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `sage-pro-sim` running in-process on a free port, with a temporary SQLite file and import folder.
struct SageHarness {
    static let user = "ADMIN"
    static let password = "s3cret"

    let simulator: SageSimulator
    let running: RunningSimulator
    let folder: URL

    let importFolder: URL

    /// `importFolder`: the GL import folder to watch (default: a new one in the temporary folder).
    /// `uniqueReferences`: the simulator's opt-in 409 on a second entry with one reference (Sage 300 has none).
    static func start(importFiles: Bool = false, importFolder: URL? = nil, uniqueReferences: Bool = false) async throws -> SageHarness {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sage-connector-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var options = SageSimulator.Options()
        options.user = user
        options.password = password
        options.server.databasePath = folder.appendingPathComponent("sage.sqlite").path
        options.uniqueReferences = uniqueReferences
        let watched = importFolder ?? folder.appendingPathComponent("gl-import")
        if importFiles || importFolder != nil {
            options.importDirectory = watched.path
            options.importPollInterval = .milliseconds(20)
        }
        let simulator = try SageSimulator(options: options, logger: quietLogger)
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: quietLogger)
        return SageHarness(simulator: simulator, running: running, folder: folder, importFolder: watched)
    }

    func connection(password: String = SageHarness.password, timeout: Duration = .seconds(5), pageSize: Int = 100)
        -> SageConnection
    {
        SageConnection(
            server: running.baseURL, company: "SAMINC", credentials: SageCredentials(user: Self.user, password: password),
            timeout: timeout, pageSize: pageSize)
    }

    func webClient(password: String = SageHarness.password, timeout: Duration = .seconds(5), pageSize: Int = 100)
        -> SageWebAPIClient
    {
        SageWebAPIClient(connection: connection(password: password, timeout: timeout, pageSize: pageSize), logger: quietLogger)
    }

    func fileClient(deadline: Duration = .seconds(10)) -> SageImportFileClient {
        SageImportFileClient(
            configuration: .init(directory: importFolder, deadline: deadline, pollInterval: .milliseconds(20)),
            logger: quietLogger)
    }

    /// `POST /admin/faults` with a JSON object.
    func injectFaults(_ json: String) async throws {
        try await admin("POST", "/admin/faults", json)
    }

    func clearFaults() async throws { try await admin("DELETE", "/admin/faults", nil) }

    /// Creates a GL account through the API (how an operator repairs a missing mapping target).
    func createAccount(_ number: String) async throws {
        var request = URLRequest(url: connection().companyURL.appendingPathComponent("GL/GLAccounts"))
        request.httpMethod = "POST"
        request.setValue("Basic " + Data("\(Self.user):\(Self.password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"AccountNumber":"\#(number)","Description":"Created by a test","AccountType":"I"}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        precondition((response as! HTTPURLResponse).statusCode == 201, "account \(number) was not created")
    }

    /// `GET /admin/faults`: the plan with what remains of its bursts and downtime.
    func faultStatus() async throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try await admin("GET", "/admin/faults", nil)) as? [String: Any] ?? [:]
    }

    @discardableResult
    private func admin(_ method: String, _ path: String, _ json: String?) async throws -> Data {
        var request = URLRequest(url: URL(string: running.baseURL.absoluteString + path)!)
        request.httpMethod = method
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        precondition((response as! HTTPURLResponse).statusCode == 200, "\(method) \(path) failed")
        return data
    }

    func stop() async {
        await running.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Starts a simulator, runs `body`, and stops it whatever happens.
func withSage<T>(importFiles: Bool = false, uniqueReferences: Bool = false, _ body: (SageHarness) async throws -> T) async throws -> T {
    let sage = try await SageHarness.start(importFiles: importFiles, uniqueReferences: uniqueReferences)
    do {
        let result = try await body(sage)
        await sage.stop()
        return result
    } catch {
        await sage.stop()
        throw error
    }
}

var quietLogger: Logger {
    var logger = Logger(label: "sage-connector-tests")
    logger.logLevel = .critical
    return logger
}

/// A one-entry batch dated 2026-11-27 (inside the simulator's open periods).
func batch(_ reference: String, _ lines: [SageJournalLine], day: String = "2026-11-27") -> SageJournalBatch {
    SageJournalBatch(
        description: "Store day \(reference)",
        entries: [SageJournalEntry(reference: reference, postingDate: SageDate(iso: day)!, description: "Sales \(reference)", lines: lines)])
}

/// A small balanced settlement-like entry.
func balanced(_ reference: String) -> SageJournalBatch {
    batch(reference, [.debit("1100", 10_025, "cash"), .debit("1210", 2_000, "visa"), .credit("4000", 11_025, "sales"), .credit("2200", 1_000, "tax")])
}

/// The error `body` throws, as a `SageError` (nil if it succeeded or threw something else).
func sageError<T>(_ body: () async throws -> T) async -> SageConnector.SageError? {
    do {
        _ = try await body()
        return nil
    } catch let error as SageConnector.SageError {
        return error
    } catch {
        return nil
    }
}

extension SageWebAPIClient {
    /// How many entries Sage holds with this reference (the exactly-once check of the race tests).
    func findAll(reference: String) async throws -> Int {
        var request = URLRequest(url: URL(string: connection.companyURL.absoluteString
            + "GL/GLJournalHeaders?$count=true&$top=0&$filter=DocumentNumber%20eq%20'\(reference)'")!)
        request.setValue("Basic " + Data("\(SageHarness.user):\(SageHarness.password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        struct Count: Decodable { var count: Int; enum CodingKeys: String, CodingKey { case count = "@odata.count" } }
        return try JSONDecoder().decode(Count.self, from: data).count
    }
}
