import AMQP
import ArgumentParser
import BrokerAdmin
import Foundation
import Logging
import Messaging

/// Where the broker is, for every subcommand.
struct BrokerOptions: ParsableArguments {
    @Option(name: .customLong("amqp-url"), help: "Broker URL, or the nodes of a cluster separated by commas. Default: $BRIDGE_AMQP_URL.")
    var amqpURL: String?

    @Option(name: .customLong("management-url"), help: "Management API, http://user:pass@host:15672. Default: $BRIDGE_MANAGEMENT_URL.")
    var managementURL: String?

    @Option(help: "Topology definitions file. Default: $BRIDGE_TOPOLOGY or Topology/definitions.json.")
    var topology: String?

    @Option(help: ArgumentHelp(
        "How long parked messages (S.dlq) are kept before the alerter records and drops them. Default: $\(Topology.parkedRetentionVariable), else the topology file's (30 days).",
        discussion: "Set by a policy, so it changes on existing queues; use the same value for `topology diff`. See docs/SECURITY.md."))
    var parkedRetentionSeconds: Int?

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    /// `--parked-retention-seconds`, else `$BRIDGE_PARKED_RETENTION_SECONDS`, else nil (the file's).
    var parkedRetention: Duration? {
        get throws {
            guard let text = parkedRetentionSeconds.map(String.init) ?? ProcessInfo.processInfo.environment[Topology.parkedRetentionVariable] else {
                return nil
            }
            guard let seconds = Int(text), seconds > 0 else {
                throw ValidationError("the parked-message retention must be a positive number of seconds, not '\(text)'")
            }
            return .seconds(seconds)
        }
    }

    func management() throws -> ManagementClient {
        guard let url = managementURL ?? ProcessInfo.processInfo.environment["BRIDGE_MANAGEMENT_URL"] else {
            throw ValidationError("no management URL: pass --management-url or set BRIDGE_MANAGEMENT_URL")
        }
        return try ManagementClient(url: url)
    }

    func session() async throws -> AMQPSession {
        guard let raw = amqpURL ?? ProcessInfo.processInfo.environment["BRIDGE_AMQP_URL"] else {
            throw ValidationError("no broker URL: pass --amqp-url or set BRIDGE_AMQP_URL")
        }
        var logger = Logger(label: "bridgectl")
        logger.logLevel = .error
        return try await AMQPSession.connect(anyOf: try AMQPURL.list(raw), name: "bridgectl", logger: logger)
    }

    /// The topology file, with the parked-message retention configured here if any.
    func loadTopology() throws -> Topology {
        let file = try Topology.load(from: topology ?? Topology.defaultPath())
        guard let retention = try parkedRetention else { return file }
        return file.keepingParkedMessages(for: retention)
    }
}

enum Output {
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            // Only trailing blanks go: an empty first cell (a group's continuation) keeps its column.
            String(zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .reversed().drop { $0 == " " }.reversed())
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
