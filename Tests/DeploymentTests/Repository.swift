import TestPrograms
import Foundation
import Testing

/// The repository as the deployment tests see it: files, the package's products, the built
/// executables, and a way to run a command with a deadline.
enum Repository {
    static let root: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    static func text(_ path: String) throws -> String { try String(contentsOf: url(path), encoding: .utf8) }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: url(path).path) }

    /// Executable products declared in Package.swift.
    static func executableProducts() throws -> [String] {
        try matches(of: #"\.executable\(\s*name:\s*"([^"]+)""#, in: try text("Package.swift"))
    }

    /// Executables that are workers: their command takes the shared `WorkerOptions`.
    static func workerExecutables() throws -> [String] {
        try executableProducts().filter { product in
            let folder = url("Sources/\(product)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return files.contains { file in
                (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8))?.contains("WorkerOptions") == true
            }
        }
    }

    /// All Swift source text under Sources/, to check that a name the deployment uses is read by the code.
    static let sources: String = {
        let base = url("Sources")
        var text = ""
        for case let path as String in FileManager.default.enumerator(atPath: base.path) ?? .init() where path.hasSuffix(".swift") {
            text += (try? String(contentsOf: base.appendingPathComponent(path), encoding: .utf8)) ?? ""
            text += "\n"
        }
        return text
    }()

    /// Where the built executables are: $BRIDGE_BIN_DIR, else next to this test binary (the scratch
    /// path the tests were built with), else .build/debug.
    static func binDirectory() -> URL {
        if let dir = ProcessInfo.processInfo.environment["BRIDGE_BIN_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for candidate in [testBinary.deletingLastPathComponent(), testBinary.deletingLastPathComponent().deletingLastPathComponent()]
        where FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("bridgectl").path) {
            return candidate
        }
        return url(".build/debug")
    }

    static func matches(of pattern: String, in text: String, group: Int = 1) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: group), in: text).map { String(text[$0]) }
        }
    }
}

typealias CommandResult = ChildProcess.Result

enum Shell {
    /// Runs a program found on PATH (or at an absolute path) and awaits it with a deadline.
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:],
                    directory: URL = Repository.root, deadline seconds: Double = 60) async throws -> CommandResult {
        let executable = program.hasPrefix("/") ? URL(fileURLWithPath: program) : URL(fileURLWithPath: "/usr/bin/env")
        return try await ChildProcess.run(executable, program.hasPrefix("/") ? arguments : [program] + arguments, environment: environment,
                                          directory: directory, deadline: .seconds(seconds))
    }

    /// Whether a program is on PATH (looked up in the file system, not by running a shell).
    static func available(_ program: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { folder in
            FileManager.default.isExecutableFile(atPath: URL(fileURLWithPath: String(folder)).appendingPathComponent(program).path)
        }
    }
}

/// YAML files read through python3-yaml (installed with Debian's docker-compose), as JSON objects.
enum YAML {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ url: URL) async throws -> Any {
        let result = try await Shell.run("python3", ["-c", "import sys, yaml, json; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", url.path])
        guard result.succeeded else {
            throw Unreadable(description: "\(url.path) is not valid YAML (or python3-yaml is missing: scripts/install-deps): \(result.error)")
        }
        return try JSONSerialization.jsonObject(with: Data(result.output.utf8))
    }

    static func load(text: String) async throws -> Any {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("deployment-\(UUID().uuidString).yml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await load(file)
    }
}

extension Dictionary where Key == String, Value == Any {
    func object(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    func array(_ key: String) -> [Any] { self[key] as? [Any] ?? [] }
    func string(_ key: String) -> String? {
        switch self[key] {
        case let text as String: text
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }
}
