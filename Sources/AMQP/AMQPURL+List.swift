import Foundation
import Logging

extension AMQPURL {
    /// The nodes of a cluster as one setting: URLs separated by commas (`amqp://u:p@rmq1:5672/,amqp://u:p@rmq2:5672/`).
    /// A comma inside a password must be percent-encoded (`%2C`). One URL is a list of one.
    public static func list(_ raw: String) throws -> [AMQPURL] {
        let parts = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw AMQPError.invalidURL(raw, reason: "no broker URL in the list") }
        return try parts.map { try AMQPURL($0) }
    }
}

extension AMQPSession {
    /// Connects to the first node of `urls` that answers, in order; throws the last failure if none does.
    /// For short-lived tools (`bridgectl`, the console's pages); long-running owners use `BrokerConnector`.
    public static func connect(anyOf urls: [AMQPURL], name: String, logger: Logger) async throws -> AMQPSession {
        var lastError: any Error = AMQPError.connectFailed("no broker URL")
        for url in urls {
            do { return try await connect(url: url, name: name, logger: logger) } catch { lastError = error }
        }
        throw lastError
    }
}
