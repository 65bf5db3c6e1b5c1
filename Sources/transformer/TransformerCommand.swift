import Accounting
import ArgumentParser
import BridgeSettings
import Foundation
import Messaging
import PipelineContracts
import Transformer
import WorkerRuntime

@main
struct TransformerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transformer", abstract: "Turn Heartland events into balanced Sage journals with the mapping file.",
        subcommands: [Bench.self])

    @OptionGroup var worker: WorkerOptions
    @Option(help: "Mapping file, read again when it changes. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
    var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"

    func run() async throws {
        Worker.bootstrap("transformer", options: worker)
        // Read again whenever the file changes (a save from the console's mapping page): no restart needed.
        let source = try MappingFileSource(path: mapping)
        try await Worker.run(stage: "transformer", handler: TransformerHandler(mapping: source), options: worker)
    }

    /// What the stage spends on one batch event, phase by phase, with no broker: a benchmark (scripts/bench-transformer).
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the stage's work on a kept batch event (heartland-ingest's batch_event body), phase by phase; prints figures.")

        @Option(help: "A batch_closed.v1 message body (heartland-ingest keeps one per batch in its database's batch_event table).")
        var event: String
        @Option(help: "Mapping file.") var mapping: String = "Config/mapping.yaml"
        @Option(name: .customLong("repeat"), help: "Times to handle the event; the figures are the median and the fastest.") var runs: Int = 5

        func run() async throws {
            FreedMemory.configure()  // as every worker does at start-up
            // As the stage reads a delivery: its bytes where they are (read straight into them, not through a `Data` as large).
            let body = try Self.bytes(ofFile: event)
            let handler = TransformerHandler(rules: try MappingFileSource(path: mapping).current())
            var phases: [String: [Double]] = [:]
            let clock = ContinuousClock()
            var memory: [String] = []
            func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
                let started = clock.now
                let value = try body()
                phases[phase, default: []].append((clock.now - started).seconds)
                if memory.count < 4 { memory.append("\(phase) \(Self.residentMB("VmRSS")) MB (peak so far \(Self.residentMB("VmHWM")))") }
                return value
            }
            for _ in 0..<max(1, runs) {
                let started = clock.now
                let batch = try timed("decode the message") { try BatchClosedEvent(bytes: body) }
                // As in the stage, the records are let go once the journals are built, before the outputs are encoded.
                let built = try { () throws -> BatchTransform in
                    let records = try timed("read the tickets") {
                        try TransformerHandler.ticketRecords(of: batch, currency: CurrencyCode(batch.store.currency))
                    }
                    return try timed("build the journals") { try handler.settlement(batch: batch, tickets: records) }
                }()
                FreedMemory.release()  // as the stage does once the records are let go
                _ = try timed("encode the outputs") {
                    try built.documents.map { try $0.encodedBody() }
                }
                phases["whole", default: []].append((clock.now - started).seconds)
            }
            print("transformer bench: \(event), \(body.count) bytes, \(runs) run(s), \(ProcessInfo.processInfo.activeProcessorCount) cores")
            for phase in ["decode the message", "read the tickets", "build the journals", "encode the outputs", "whole"] {
                let times = (phases[phase] ?? []).sorted()
                guard !times.isEmpty else { continue }
                print(String(format: "  %-20@ median %.3f s, fastest %.3f s", phase, times[times.count / 2], times[0]))
            }
            print("  resident after each phase of the first run (the event read: \(body.count / 1_000_000) MB): " + memory.joined(separator: ", ")
                  + "; peak \(Self.residentMB("VmHWM")) MB")
        }

        /// The file's bytes, read into an array of its size.
        static func bytes(ofFile path: String) throws -> [UInt8] {
            let size = try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            guard let file = fopen(path, "rb") else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
            defer { fclose(file) }
            return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in count = fread(buffer.baseAddress, 1, size, file) }
        }

        /// A `/proc/self/status` figure (VmRSS, VmHWM) in MB; 0 where there is none.
        static func residentMB(_ field: String) -> Int {
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
            return (line?.split(separator: " ").dropFirst().first).flatMap { Int($0) }.map { $0 / 1024 } ?? 0
        }
    }
}
