import ArgumentParser
import BrokerAdmin
import Foundation
import Messaging

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Per queue: ready, unacked, consumers and rates (management API).")
    @OptionGroup var broker: BrokerOptions
    @Flag(help: "Show every queue, not only the bridge's.") var all = false

    func run() async throws {
        let known = Set(try broker.loadTopology().queues.map(\.name))
        let queues = try await broker.management().queues().filter { all || known.contains($0.name) }.sorted { $0.name < $1.name }
        if broker.json {
            struct Row: Encodable { var queue: String; var ready: Int; var unacked: Int; var consumers: Int; var publishRate: Double; var deliverRate: Double; var ackRate: Double }
            print(try Output.json(queues.map {
                Row(queue: $0.name, ready: $0.messagesReady, unacked: $0.messagesUnacknowledged, consumers: $0.consumers,
                    publishRate: $0.publishRate, deliverRate: $0.deliverRate, ackRate: $0.ackRate)
            }))
            return
        }
        let rows = queues.map { q in
            [q.name, String(q.messagesReady), String(q.messagesUnacknowledged), String(q.consumers),
             String(format: "%.1f", q.publishRate), String(format: "%.1f", q.deliverRate), String(format: "%.1f", q.ackRate),
             q.name.hasSuffix(".dlq") && q.messagesReady > 0 ? "DEAD LETTERS" : ""]
        }
        print(Output.table(["QUEUE", "READY", "UNACKED", "CONSUMERS", "IN/s", "OUT/s", "ACK/s", ""], rows))
    }
}
