import AMQP
import Foundation
import Messaging

/// A stage's parking lot grouped by reason, through `DeadLetterChannel` as `bridgectl dlq` uses it.
struct StageDeadLetters: Encodable, Sendable {
    struct Group: Encodable, Sendable {
        var errorClass: String
        var lastError: String
        var count: Int
        var messageIds: [String]
    }

    var stage: String
    var count: Int
    /// True when the page limit cut the list short.
    var truncated: Bool
    var groups: [Group]
    var messages: [DeadLetterSummary]
}

struct DeadLetterSummary: Encodable, Sendable {
    var messageId, correlationId, errorClass, lastError, routingKey: String
    var idempotencyKey, firstFailedAt, failedStage: String?
    var attempt, replayCount: Int

    init(_ m: DeadLetterChannel.ParkedMessage) {
        messageId = m.messageID; correlationId = m.correlationID; errorClass = m.errorClass; lastError = m.lastError
        routingKey = m.routingKey; idempotencyKey = m.idempotencyKey; firstFailedAt = m.firstFailedAt; failedStage = m.failedStage
        attempt = m.attempt; replayCount = m.replayCount
    }
}

struct DeadLetterDetail: Encodable, Sendable {
    var stage: String
    var summary: DeadLetterSummary
    var headers: [String: String]
    /// Card numbers masked.
    var body: String
}

extension OperationsConsole {
    func deadLetters() async throws -> [StageDeadLetters] {
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        var result: [StageDeadLetters] = []
        let limit = configuration.deadLetterPageLimit
        for stage in configuration.stages {
            let parked = try await DeadLetterChannel(stage: stage).list(session: session, limit: limit)
            var groups: [String: StageDeadLetters.Group] = [:]
            var order: [String] = []
            for message in parked {
                let key = "\(message.errorClass)\u{1F}\(message.lastError)"
                if groups[key] == nil { order.append(key) }
                groups[key, default: .init(errorClass: message.errorClass, lastError: message.lastError, count: 0, messageIds: [])].count += 1
                groups[key]?.messageIds.append(message.messageID)
            }
            result.append(StageDeadLetters(stage: stage, count: parked.count, truncated: parked.count == limit,
                                           groups: order.compactMap { groups[$0] }.sorted { $0.count > $1.count },
                                           messages: parked.map(DeadLetterSummary.init)))
        }
        await session.close()
        return result
    }

    func deadLetter(stage: String, messageID: String) async throws -> DeadLetterDetail {
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        let parked = try await DeadLetterChannel(stage: stage).list(session: session, limit: .max)
        await session.close()
        guard let message = parked.first(where: { $0.messageID == messageID }) else {
            throw ConsoleError.notFound("no message \(messageID) in \(stage).dlq (replayed or purged meanwhile?)")
        }
        let headers = Dictionary(message.delivery.properties.headers.map { ($0.key, $0.value.displayText) }, uniquingKeysWith: { $1 })
        return DeadLetterDetail(stage: stage, summary: DeadLetterSummary(message), headers: headers, body: CardMask.mask(message.body))
    }

    /// One message (`messageID`), one group (`errorClass` and `lastError` exactly), or every parked message.
    func replay(stage: String, messageID: String?, errorClass: String?, lastError: String?, actor: String) async throws -> Int {
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        let count = try await DeadLetterChannel(stage: stage).replay(session: session, limit: messageID == nil ? .max : 1, actor: actor) { parked in
            if let messageID { return parked.messageID == messageID }
            return (errorClass == nil || parked.errorClass == errorClass) && (lastError == nil || parked.lastError == lastError)
        }
        let what = messageID.map { "message \($0)" } ?? lastError.map { "the group \"\($0)\"" } ?? "everything"
        await audit(event: .dlqReplayed, stage: stage, detail: "replayed \(count) message(s) from \(stage).dlq (\(what))", actor: actor, session: session)
        await session.close()
        return count
    }

    func purge(stage: String, actor: String) async throws -> Int {
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        let count = try await DeadLetterChannel(stage: stage).purge(session: session)
        await audit(event: .dlqPurged, stage: stage, detail: "purged \(count) message(s) from \(stage).dlq", actor: actor, session: session)
        await session.close()
        return count
    }
}
