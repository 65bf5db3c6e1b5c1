import Foundation
import TestPrograms
import XCTest

/// A headless Chromium driven through chromedriver's W3C WebDriver HTTP API (Debian's `chromium` and
/// `chromium-driver`). One chromedriver process and one browser session per instance. The HTTP calls
/// go through `WireHTTP`, because URLSession on Linux cannot read chromedriver's headers.
final class WebDriver: @unchecked Sendable {
    private let driver: Process
    private let base: String
    private let session: String
    private let profile: URL
    let log: URL

    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: chromedriverPath) && FileManager.default.isExecutableFile(atPath: chromiumPath)
    }
    static let chromedriverPath = "/usr/bin/chromedriver"
    static let chromiumPath = "/usr/bin/chromium"

    private init(driver: Process, base: String, session: String, profile: URL, log: URL) {
        self.driver = driver
        self.base = base
        self.session = session
        self.profile = profile
        self.log = log
    }

    /// Starts a browser, runs the scenario in it and quits; a failing scenario fails the test with the last page's
    /// `<main>`, and a browser that cannot start fails it too.
    static func run(file: StaticString = #filePath, line: UInt = #line, _ scenario: (WebDriver) async throws -> Void) async {
        let browser: WebDriver
        do {
            browser = try await start()
        } catch {
            XCTFail("could not start chromedriver and Chromium: \(error)", file: file, line: line)
            return
        }
        do {
            try await scenario(browser)
        } catch {
            let page = (try? await browser.source()) ?? ""
            let main = page.range(of: "<main>").map { String(page[$0.lowerBound...]) } ?? page
            XCTFail("browser scenario failed: \(error)\nlast page:\n\(main.prefix(3000))", file: file, line: line)
        }
        await browser.quit()
    }

    static func start() async throws -> WebDriver {
        let port = try freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chromedriver-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: chromedriverPath)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        driver.standardOutput = handle
        driver.standardError = handle
        try driver.run()
        try? handle.close()
        let base = "http://127.0.0.1:\(port)"
        do {
            var lastAnswer = "nothing"
            let deadline = ContinuousClock.now + .seconds(20)
            while true {
                do {
                    let status = try await call("GET", base + "/status")
                    if let value = status["value"] as? [String: Any], value["ready"] as? Bool == true || "\(value["ready"] ?? "")" == "1" { break }
                    lastAnswer = "\(status)"
                } catch {
                    lastAnswer = "\(error)"
                }
                guard ContinuousClock.now < deadline else { throw WebDriverError("chromedriver did not become ready: \(lastAnswer)") }
                try await Task.sleep(for: .milliseconds(100))
            }
            let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
            let created = try await call("POST", base + "/session", [
                "capabilities": ["alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": chromiumPath,
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(profile.path)"],
                    ],
                ] as [String: Any]],
            ])
            guard let value = created["value"] as? [String: Any], let session = value["sessionId"] as? String else {
                throw WebDriverError("no session from chromedriver: \(created)")
            }
            return WebDriver(driver: driver, base: base, session: session, profile: profile, log: log)
        } catch {
            kill(driver.processIdentifier, SIGKILL)
            throw error
        }
    }

    func quit() async {
        _ = try? await Self.call("DELETE", "\(base)/session/\(session)")
        // chromedriver does not always exit on SIGTERM.
        if driver.isRunning { kill(driver.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: profile)
    }

    // MARK: commands

    func go(_ url: String) async throws { _ = try await command("POST", "/url", ["url": url]) }

    func currentURL() async throws -> String { try await command("GET", "/url") as? String ?? "" }

    func source() async throws -> String { try await command("GET", "/source") as? String ?? "" }

    /// The first element matching a CSS selector, waiting for it to appear.
    func element(_ css: String, timeout: Duration = .seconds(15)) async throws -> String {
        var found: String?
        try await eventually(timeout: timeout, "element \(css) on the page") {
            found = try? await find(css)
            return found != nil
        }
        return found!
    }

    func find(_ css: String) async throws -> String {
        let value = try await command("POST", "/element", ["using": "css selector", "value": css])
        guard let element = (value as? [String: Any])?.values.first as? String else { throw WebDriverError("no element \(css)") }
        return element
    }

    func exists(_ css: String) async throws -> Bool {
        let value = try await command("POST", "/elements", ["using": "css selector", "value": css])
        return !((value as? [Any]) ?? []).isEmpty
    }

    func type(_ element: String, _ text: String) async throws {
        _ = try await command("POST", "/element/\(element)/value", ["text": text])
    }

    func click(_ element: String) async throws { _ = try await command("POST", "/element/\(element)/click", [:]) }

    /// The viewport as a PNG.
    func screenshot() async throws -> Data {
        guard let text = try await command("GET", "/screenshot") as? String, let png = Data(base64Encoded: text) else {
            throw WebDriverError("no screenshot from chromedriver")
        }
        return png
    }

    func setWindowSize(width: Int, height: Int) async throws { _ = try await command("POST", "/window/rect", ["width": width, "height": height]) }

    func text(_ element: String) async throws -> String { try await command("GET", "/element/\(element)/text") as? String ?? "" }

    /// Waits until the element's text satisfies `condition` (the page may still be loading).
    func waitForText(_ css: String, timeout: Duration = .seconds(15), _ what: String, _ condition: @escaping (String) -> Bool) async throws {
        try await eventually(timeout: timeout, what) {
            guard let element = try? await find(css), let text = try? await text(element) else { return false }
            return condition(text)
        }
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let answer = try await Self.call(method, "\(base)/session/\(session)\(path)", body)
        if let error = (answer["value"] as? [String: Any])?["error"] as? String {
            throw WebDriverError("\(method) \(path): \(error): \((answer["value"] as? [String: Any])?["message"] ?? "")")
        }
        return answer["value"]
    }

    private static func call(_ method: String, _ url: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        guard let components = URLComponents(string: url), let port = components.port else { throw WebDriverError("bad URL \(url)") }
        let data = try await WireHTTP.request(method, port: port, path: components.path,
                                              body: try body.map { try JSONSerialization.data(withJSONObject: $0) })
        return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// A port nothing listens on now (bound and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WebDriverError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw WebDriverError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct WebDriverError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
