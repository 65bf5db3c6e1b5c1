import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import OperationsConsole
import TestPrograms
import XCTest

/// The `alerter` executable serves the console beside its stage when given a port, and says where
/// on stdout; without one it serves nothing (today's behaviour).
final class AlerterConsoleTests: XCTestCase {
    func testAlerterServesTheConsoleWhenGivenAPort() async throws {
        let broker = try await TestBroker.shared
        try await broker.importStandardTopology()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alerter-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let users = folder.appendingPathComponent("users").path
        try ConsoleFixture.usersFile.write(toFile: users, atomically: true, encoding: .utf8)
        let tokens = try ConsoleFixture.writeTokens(in: folder)
        let port = try WebDriver.freePort()
        let output = folder.appendingPathComponent("alerter.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let alerter = Process()
        alerter.executableURL = Self.binDirectory().appendingPathComponent("alerter")
        alerter.arguments = [
            "--amqp-url", broker.amqpURL, "--topology", repositoryRoot.appendingPathComponent("Topology/definitions.json").path,
            "--store", folder.appendingPathComponent("operations.sqlite").path, "--log-level", "warning",
            "--console-port", String(port), "--console-users-file", users, "--console-tokens-file", tokens,
            "--management-url", broker.managementURL,
            "--review-store", folder.appendingPathComponent("reviews.sqlite").path,
        ]
        alerter.standardOutput = handle
        alerter.standardError = handle
        try alerter.run()
        try? handle.close()
        defer { if alerter.isRunning { kill(alerter.processIdentifier, SIGKILL) } }
        func log() -> String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        try await eventually("the alerter says where the console listens") { log().contains("console listening on http://127.0.0.1:\(port)") }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/pipeline")!)
        request.setValue("Bearer view-token", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200, String(decoding: data, as: UTF8.self))
        let overview = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let stages = (overview?["stages"] as? [[String: Any]])?.compactMap { $0["stage"] as? String } ?? []
        XCTAssertEqual(Set(stages), ["transformer", "fraud-scorer", "sage-loader", "heartland-loader", "alerter"], "\(stages)")
        let (_, anonymous) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/api/alerts")!)
        XCTAssertEqual((anonymous as? HTTPURLResponse)?.statusCode, 401)

        kill(alerter.processIdentifier, SIGTERM)
        try await eventually("the alerter stops on SIGTERM") { !alerter.isRunning }
        XCTAssertEqual(alerter.terminationStatus, 0, log())
    }

    /// `BRIDGE_BIN_DIR` (scripts/test), else the folder the test bundle was built into.
    static func binDirectory() -> URL {
        if let dir = ProcessInfo.processInfo.environment["BRIDGE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
    }
}
