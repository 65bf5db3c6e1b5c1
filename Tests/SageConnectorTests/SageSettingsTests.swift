import BridgeSettings
import Foundation
import SageConnector
import Testing

/// Building a client from the environment, the way `sage-loader`'s main does.
@Suite struct SageSettingsTests {
    @Test func httpModeReadsTheConnection() throws {
        let settings = try SageSettings(environment: [
            "SAGE_URL": "http://127.0.0.1:8080", "SAGE_COMPANY": "SAMLTD", "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "hunter2",
            "SAGE_TIMEOUT_SECONDS": "5",
        ])
        guard case .webAPI(let connection) = settings else {
            Issue.record("expected the Web API")
            return
        }
        #expect(connection.companyURL.absoluteString == "http://127.0.0.1:8080/Sage300WebApi/v1.0/-/SAMLTD/")
        #expect(connection.timeout == .seconds(5))
        #expect(connection.credentials.password == "hunter2")
        #expect(!"\(settings)".contains("hunter2"))
        #expect(connection.readRetries == 2)
    }

    @Test func readRetriesComeFromTheEnvironment() throws {
        let base = ["SAGE_URL": "http://127.0.0.1:8080", "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw"]
        guard case .webAPI(let connection) = try SageSettings(environment: base.merging(["SAGE_READ_RETRIES": "0"]) { $1 }) else {
            Issue.record("expected the Web API")
            return
        }
        #expect(connection.readRetries == 0)
        let refused = #expect(throws: SageSettings.Invalid.self) { try SageSettings(environment: base.merging(["SAGE_READ_RETRIES": "many"]) { $1 }) }
        #expect(refused?.description == "SAGE_READ_RETRIES must be a whole number in 0…10, not 'many'")
    }

    @Test func passwordCanComeFromAFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sage-password-\(UUID().uuidString)")
        try Data("from-file\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let settings = try SageSettings(environment: [
            "SAGE_URL": "http://sage.local", "SAGE_USER": "ADMIN", "SAGE_PASSWORD_FILE": file.path,
        ])
        guard case .webAPI(let connection) = settings else {
            Issue.record("expected the Web API")
            return
        }
        #expect(connection.credentials.password == "from-file")
        #expect(connection.company == "SAMINC")
    }

    @Test func fileModeAndMistakes() throws {
        let settings = try SageSettings(environment: ["SAGE_MODE": "file", "SAGE_IMPORT_DIR": "/var/sage/import"])
        guard case .importFile(let configuration) = settings else {
            Issue.record("expected file mode")
            return
        }
        #expect(configuration.directory.path == "/var/sage/import")
        #expect(throws: SageSettings.Invalid.self) { try SageSettings(environment: ["SAGE_URL": "http://sage.local"]) }
        #expect(throws: SageSettings.Invalid.self) { try SageSettings(environment: ["SAGE_MODE": "ftp"]) }
        #expect(throws: SageSettings.Invalid.self) { try SageSettings(environment: ["SAGE_MODE": "file"]) }
    }

    /// `BRIDGE_REQUIRE_TLS`: a plain-HTTP Sage beyond loopback is refused when the process starts, with the reason.
    @Test func plainHTTPSageIsRefusedWhenTLSIsRequired() throws {
        let base = ["SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw", "BRIDGE_REQUIRE_TLS": "1"]
        let refused = #expect(throws: SageSettings.Invalid.self) {
            try SageSettings(environment: base.merging(["SAGE_URL": "http://sage.example.com"]) { $1 })
        }
        #expect(refused?.description.contains("plain HTTP and BRIDGE_REQUIRE_TLS is on") == true)
        _ = try SageSettings(environment: base.merging(["SAGE_URL": "https://sage.example.com"]) { $1 })
        _ = try SageSettings(environment: base.merging(["SAGE_URL": "http://127.0.0.1:8080"]) { $1 })
    }

    /// The one settings reader's rules, as sage-loader meets them: a password in both places is refused, the company has
    /// one default in either mode, values are trimmed.
    @Test func bothPasswordsAreRefusedAndTheCompanyHasOneDefault() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sage-password-\(UUID().uuidString)")
        try Data("from-file\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let both = #expect(throws: SageSettings.Invalid.self) {
            try SageSettings(environment: ["SAGE_URL": "http://sage.local", "SAGE_USER": "ADMIN", "SAGE_PASSWORD": "pw", "SAGE_PASSWORD_FILE": file.path])
        }
        #expect(both?.description.contains("SAGE_PASSWORD_FILE") == true)
        #expect(SageSettings.company(.init(["SAGE_MODE": "file"])) == "SAMINC")
        #expect(SageSettings.company(.init(["SAGE_COMPANY": " SAMLTD\n"])) == "SAMLTD")
        let missing = #expect(throws: SageSettings.Invalid.self) { try SageSettings(environment: ["SAGE_URL": " http://sage.local ", "SAGE_USER": "ADMIN"]) }
        #expect(missing?.description == "SAGE_PASSWORD (or SAGE_PASSWORD_FILE) is required for SAGE_MODE=http")
    }
}
