import BridgeClock
import BrokerAdmin
import Foundation
import Messaging

/// Each stage's work queue, delay tiers and parking lot, from the management API.
struct PipelineOverview: Encodable, Sendable {
    struct Stage: Encodable, Sendable {
        var stage: String
        var ready, unacked, consumers: Int
        /// Messages per second into the work queue, delivered from it, acknowledged.
        var publishRate, deliverRate, ackRate: Double
        /// Waiting in the delay tiers (`S.delay.*`).
        var retrying: Int
        /// Parked in `S.dlq`.
        var deadLettered: Int
    }

    var at: String
    var stages: [Stage]
}

extension OperationsConsole {
    func pipelineOverview() async throws -> PipelineOverview {
        let queues: [QueueStatistics]
        do {
            queues = try await management().queues(vhost: configuration.vhost)
        } catch let error as ConsoleError {
            throw error
        } catch {
            throw ConsoleError.unavailable("\(error)")
        }
        let byName = Dictionary(queues.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let stages = configuration.stages.map { stage -> PipelineOverview.Stage in
            let work = byName[stage], dlq = byName["\(stage).dlq"]
            let retrying = queues.filter { RetryTier.isTier($0.name, of: stage) }.reduce(0) { $0 + $1.messagesReady + $1.messagesUnacknowledged }
            return .init(stage: stage, ready: work?.messagesReady ?? 0, unacked: work?.messagesUnacknowledged ?? 0, consumers: work?.consumers ?? 0,
                         publishRate: work?.publishRate ?? 0, deliverRate: work?.deliverRate ?? 0, ackRate: work?.ackRate ?? 0,
                         retrying: retrying, deadLettered: (dlq?.messagesReady ?? 0) + (dlq?.messagesUnacknowledged ?? 0))
        }
        return PipelineOverview(at: Timestamps.iso8601(Date()), stages: stages)
    }
}
