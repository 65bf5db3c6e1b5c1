import Foundation
import Logging
import ServiceLifecycle
import SimulatorKit

/// Watches a folder for GL import files, as a database-level Sage installation would. Each file is
/// imported in one transaction (all or nothing) and then moved to `processed/` (with
/// `<name>.result.json`) or `rejected/` (with `<name>.reason.txt`). Files starting with `.` or
/// ending in `.tmp`/`.part` are ignored, so writers should write under such a name and rename.
public struct GLImportWatcher: Service {
    public enum Outcome: Sendable, Equatable {
        case processed(batchNumber: String)
        case rejected(reason: String)
    }

    let directory: URL
    let ledger: GLJournalLedger
    let pollInterval: Duration
    let logger: Logger

    public init(directory: URL, ledger: GLJournalLedger, pollInterval: Duration = .milliseconds(200), logger: Logger) {
        self.directory = directory
        self.ledger = ledger
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        try prepareFolders()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for file in pendingFiles() { _ = await importFile(file) }
            try? await Task.sleep(for: pollInterval)
        }
    }

    func prepareFolders() throws {
        for sub in ["processed", "rejected"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
    }

    func pendingFiles() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { name in
            let lower = name.lowercased()
            return !name.hasPrefix(".") && (lower.hasSuffix(".json") || lower.hasSuffix(".csv"))
        }.map { directory.appendingPathComponent($0) }
    }

    /// Imports one file and moves it; returns what happened.
    @discardableResult
    public func importFile(_ file: URL) async -> Outcome {
        let name = file.lastPathComponent
        let outcome: Outcome
        do {
            let body = try GLImportFile.batchBody(fileName: name, data: try Data(contentsOf: file))
            let batch = try await ledger.createBatch(body, enteredBy: "IMPORT")
            outcome = .processed(batchNumber: batch["BatchNumber"]?.stringValue ?? "")
        } catch let error as SageError {
            outcome = .rejected(reason: "\(error.code): \(error.message)")
        } catch {
            outcome = .rejected(reason: "General: \(error)")
        }
        do {
            try prepareFolders()
            switch outcome {
            case .processed(let batchNumber):
                let target = try move(file, to: "processed")
                try JSONValue.object(["BatchNumber": .string(batchNumber), "File": .string(name)]).serialized()
                    .write(to: target.appendingPathExtension("result.json"))
                logger.info("imported GL file", metadata: ["file": "\(name)", "batch": "\(batchNumber)"])
            case .rejected(let reason):
                let target = try move(file, to: "rejected")
                try Data((reason + "\n").utf8).write(to: URL(fileURLWithPath: target.path + ".reason.txt"))
                logger.info("rejected GL file", metadata: ["file": "\(name)", "reason": "\(reason)"])
            }
        } catch {
            logger.error("could not move import file", metadata: ["file": "\(name)", "error": "\(error)"])
        }
        return outcome
    }

    private func move(_ file: URL, to folder: String) throws -> URL {
        var target = directory.appendingPathComponent(folder).appendingPathComponent(file.lastPathComponent)
        if FileManager.default.fileExists(atPath: target.path) {
            target = directory.appendingPathComponent(folder)
                .appendingPathComponent("\(Int(Date().timeIntervalSince1970 * 1000))-\(file.lastPathComponent)")
        }
        try FileManager.default.moveItem(at: file, to: target)
        return target
    }
}
