import Foundation

/// A program a test runs and waits for without blocking a thread of Swift's cooperative pool (two
/// threads on a 2-core machine: one blocked waiter stalls every in-process server of the test run).
/// The exit arrives through `Process.terminationHandler`, the deadline through `Task.sleep`.
public enum ChildProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
        public var succeeded: Bool { status == 0 }
    }

    public struct Timeout: Error, CustomStringConvertible {
        public var command: String
        public var description: String { "\(command) did not finish within the deadline" }
    }

    /// Runs a program to its end. Output goes to files, not pipes: a chatty program cannot block on a
    /// full pipe, and a daemon it leaves behind (the broker's epmd) cannot hold a pipe open.
    /// `environment` is added to this process's own, without the names in `unsetting`; `mergeOutput`
    /// sends standard error to `output` too.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], unsetting: Set<String> = [],
                           directory: URL? = nil, mergeOutput: Bool = false, deadline: Duration = .seconds(60)) async throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.filter { !unsetting.contains($0.key) }
        if let directory { process.currentDirectoryURL = directory }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = mergeOutput ? out : err
        process.standardInput = FileHandle.nullDevice
        let status = try await process.runToExit(deadline: deadline)
        return Result(status: status, output: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      error: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

extension Process {
    /// Starts the process and waits for its exit status. Past the deadline it is sent SIGTERM (SIGKILL
    /// 5 s later) and `ChildProcess.Timeout` is thrown once it has exited.
    public func runToExit(deadline: Duration = .seconds(60)) async throws -> Int32 {
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        terminationHandler = { process in
            exited.yield(process.terminationStatus)
            exited.finish()
        }
        try run()
        let pid = processIdentifier
        let timer = Task { () -> Bool in
            guard (try? await Task.sleep(for: deadline)) != nil else { return false }
            kill(pid, SIGTERM)
            if (try? await Task.sleep(for: .seconds(5))) != nil { kill(pid, SIGKILL) }
            return true
        }
        var status: Int32 = -1
        for await exit in exits { status = exit }
        timer.cancel()
        if Task.isCancelled {
            kill(pid, SIGTERM)
            throw CancellationError()
        }
        if await timer.value {
            throw ChildProcess.Timeout(command: ([executableURL?.path ?? "?"] + (arguments ?? [])).joined(separator: " "))
        }
        return status
    }
}
