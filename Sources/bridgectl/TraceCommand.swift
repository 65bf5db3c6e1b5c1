import Alerter
import ArgumentParser
import BridgeSettings
import Foundation
import Messaging

/// `bridgectl trace <correlation-id>`: every hop, attempt and outcome of one source event, from the hop
/// records the stages publish and the alerter keeps.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Every hop, attempt and outcome of one source event (correlation id or idempotency key).")

    @Argument(help: "Correlation id (e.g. heartland:batch:BAT_…) or idempotency key.") var id: String
    @Option(help: "The alerter's trace store. Default: $BRIDGE_TRACE_DB or var/traces.sqlite.")
    var store: String = EnvironmentReader.current.value("BRIDGE_TRACE_DB") ?? "var/traces.sqlite"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard FileManager.default.fileExists(atPath: store) else {
            throw ValidationError("no trace store at \(store): is the alerter running with --trace-store, or pass --store")
        }
        let hops = try await TraceStore(path: store).hops(of: id)
        if json { print(try Output.json(hops)); return }
        guard !hops.isEmpty else {
            print("no hops recorded for \(id)")
            throw ExitCode(1)
        }
        print(Output.table(["AT", "STAGE", "ATTEMPT", "MS", "MESSAGE", "OUTCOME"], hops.map {
            [$0.at, $0.stage, String($0.attempt), String($0.durationMs), String($0.messageId.prefix(8)), $0.outcome]
        }))
    }
}
