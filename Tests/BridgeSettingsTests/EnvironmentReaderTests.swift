import BridgeSettings
import Foundation
import Testing

/// The one settings reader: a value, a secret from `NAME_FILE`, both set refused, blank is unset, a missing one named.
@Suite struct EnvironmentReaderTests {
    /// A file holding `text`, removed after `body`.
    static func withFile<T>(_ text: String, _ body: (String) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reader-\(UUID().uuidString)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url.path)
    }

    static func message(_ body: () throws(SettingsError) -> some Any) -> String? {
        do { _ = try body() } catch { return error.description }
        return nil
    }

    @Test func aValueIsTrimmedAndBlankIsUnset() {
        let reader = EnvironmentReader(["A": "  value \n", "BLANK": " \t\r\n", "EMPTY": ""])
        #expect(reader.value("A") == "value")
        #expect(reader.value("BLANK") == nil)
        #expect(reader.value("EMPTY") == nil)
        #expect(reader.value("UNSET") == nil)
    }

    @Test func aSecretComesFromTheVariableOrFromTheFileItsFileVariableNames() throws {
        #expect(try EnvironmentReader(["TOKEN": " from-variable "]).secret("TOKEN") == "from-variable")
        try Self.withFile("from-file\r\n") { (path: String) throws in
            #expect(try EnvironmentReader(["TOKEN_FILE": path]).secret("TOKEN") == "from-file")
            #expect(try EnvironmentReader(["TOKEN_FILE": " \(path)\n"]).requiredSecret("TOKEN") == "from-file", "the path is trimmed too")
        }
        #expect(try EnvironmentReader([:]).secret("TOKEN") == nil)
        #expect(try EnvironmentReader(["TOKEN": "  ", "TOKEN_FILE": ""]).secret("TOKEN") == nil, "blank in both is unset")
    }

    @Test func bothTheVariableAndItsFileIsAClearError() throws {
        try Self.withFile("from-file") { (path: String) throws in
            let reader = EnvironmentReader(["TOKEN": "from-variable", "TOKEN_FILE": path])
            let message = try #require(Self.message { () throws(SettingsError) in try reader.secret("TOKEN") })
            #expect(message.contains("TOKEN") && message.contains("TOKEN_FILE") && message.contains("both"))
        }
    }

    @Test func anUnreadableOrBlankFileIsAnErrorNamingIt() throws {
        let missing = "/nonexistent/\(UUID().uuidString)"
        let unreadable = try #require(Self.message { () throws(SettingsError) in try EnvironmentReader(["TOKEN_FILE": missing]).secret("TOKEN") })
        #expect(unreadable.contains("TOKEN_FILE") && unreadable.contains(missing))
        try Self.withFile(" \n\n") { (path: String) throws in
            let blank = try #require(Self.message { () throws(SettingsError) in try EnvironmentReader(["TOKEN_FILE": path]).secret("TOKEN") })
            #expect(blank.contains("TOKEN_FILE") && blank.contains("empty"))
        }
    }

    @Test func aMissingRequiredValueIsAnErrorNamingTheVariable() {
        let reader = EnvironmentReader(["SAGE_USER": "   "])
        #expect(Self.message { () throws(SettingsError) in try reader.required("SAGE_USER", for: "SAGE_MODE=http") }
            == "SAGE_USER is required for SAGE_MODE=http")
        #expect(Self.message { () throws(SettingsError) in try reader.required("SAGE_URL") } == "SAGE_URL is required")
        #expect(Self.message { () throws(SettingsError) in try reader.requiredSecret("SAGE_PASSWORD") }
            == "SAGE_PASSWORD (or SAGE_PASSWORD_FILE) is required")
        #expect(Self.message { () throws(SettingsError) in try EnvironmentReader(["SAGE_USER": " ADMIN "]).required("SAGE_USER") } == nil)
    }

    @Test func numbersAndURLsAreCheckedAndNamed() throws {
        let reader = EnvironmentReader(["SIZE": " 250 ", "BIG": "9000", "WORD": "many", "URL": "https://sage.example.com", "FTP": "ftp://x",
                                        "PLAIN": "http://sage.example.com", "BRIDGE_REQUIRE_TLS": "1"])
        #expect(try reader.integer("SIZE", in: 1...5000, default: 2000) == 250)
        #expect(try reader.integer("UNSET", in: 1...5000, default: 2000) == 2000)
        #expect(Self.message { () throws(SettingsError) in try reader.integer("BIG", in: 1...5000, default: 1) }?.contains("BIG") == true)
        #expect(Self.message { () throws(SettingsError) in try reader.integer("WORD", in: 1...Int.max, default: 1) }?.contains("'many'") == true)
        #expect(try reader.httpURL("URL")?.host == "sage.example.com")
        #expect(try reader.httpURL("UNSET") == nil)
        #expect(Self.message { () throws(SettingsError) in try reader.httpURL("FTP") }?.contains("FTP") == true)
        #expect(Self.message { () throws(SettingsError) in try reader.httpURL("PLAIN") } != nil, "plain http refused where TLS is required")
    }

    @Test func secondsAndChoicesAreCheckedAndNamed() throws {
        let reader = EnvironmentReader(["PAUSE": " 0.5 ", "ZERO": "0", "NEGATIVE": "-2", "WORD": "soon", "INFINITE": "inf",
                                        "ORDER": "LISTED", "BAD_ORDER": "first"])
        #expect(try reader.seconds("PAUSE") == 0.5)
        #expect(try reader.seconds("UNSET") == nil)
        #expect(try reader.seconds("ZERO", zeroAllowed: true) == 0)
        #expect(Self.message { () throws(SettingsError) in try reader.seconds("ZERO") } == "ZERO must be a number of seconds greater than 0, not '0'")
        #expect(Self.message { () throws(SettingsError) in try reader.seconds("NEGATIVE", zeroAllowed: true) }
            == "NEGATIVE must be a number of seconds of at least 0, not '-2'")
        #expect(Self.message { () throws(SettingsError) in try reader.seconds("WORD") }?.contains("'soon'") == true)
        #expect(Self.message { () throws(SettingsError) in try reader.seconds("INFINITE") } != nil)
        #expect(try reader.choice("ORDER", of: Order.self) == .listed, "in any case")
        #expect(try reader.choice("UNSET", of: Order.self) == nil)
        #expect(Self.message { () throws(SettingsError) in try reader.choice("BAD_ORDER", of: Order.self) }
            == "BAD_ORDER must be one of random, listed, not 'first'")
        #expect(try reader.integer("UNSET", in: 1...5) == nil)
    }

    enum Order: String, CaseIterable { case random, listed }

    /// What `EnvironmentReader.current` reads: the process's environment, or the one a test sets around its work.
    @Test func theCurrentReaderIsTheProcessEnvironmentUnlessATaskSetsAnother() {
        #expect(EnvironmentReader.current.value("PATH") == ProcessInfo.processInfo.environment["PATH"].flatMap(EnvironmentReader.trimmed))
        EnvironmentReader.$current.withValue(EnvironmentReader(["ONLY": "here"])) {
            #expect(EnvironmentReader.current.value("ONLY") == "here")
            #expect(EnvironmentReader.current.value("PATH") == nil)
        }
    }
}
