import AMQP
import ArgumentParser
import BridgeSettings
import Foundation
import Messaging

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect, replay or purge a stage's dead-letter queue (S.dlq).",
        subcommands: [List.self, Show.self, Replay.self, Purge.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parked messages, grouped by reason.")
        @OptionGroup var broker: BrokerOptions
        @Argument(help: "The stage, e.g. sage-loader.") var stage: String
        @Option(help: "At most this many messages.") var limit: Int = 1000
        @Option(name: .customLong("where"), help: ArgumentHelp(
            "Only messages where FIELD=VALUE (equal) or FIELD~TEXT (contains, any case); repeatable, all must hold.",
            discussion: "Fields: class, reason, key (idempotency key), correlation, type (routing key), attempt, stage."))
        var conditions: [String] = []

        func run() async throws {
            let filters = try conditions.map(ParkedFilter.init(parsing:))
            let session = try await broker.session()
            let parked = try await DeadLetterChannel(stage: stage).list(session: session, limit: limit)
                .filter { message in filters.allSatisfy { $0.matches(message) } }
            await session.close()
            if broker.json { print(try Output.json(parked.map(ParkedSummary.init))); return }
            if parked.isEmpty { print("\(stage).dlq is empty"); return }
            let groups = Dictionary(grouping: parked, by: { "\($0.errorClass): \($0.lastError)" })
            for (reason, messages) in groups.sorted(by: { $0.value.count > $1.value.count }) {
                print("\(messages.count) × \(reason)")
            }
            print("")
            print(Output.table(["MESSAGE ID", "IDEMPOTENCY KEY", "ATTEMPT", "CLASS", "FIRST FAILED", "REPLAYS", "LAST ERROR"], parked.map {
                [$0.messageID, $0.idempotencyKey ?? "", String($0.attempt), $0.errorClass, $0.firstFailedAt ?? "", String($0.replayCount),
                 String($0.lastError.prefix(80))]
            }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one parked message with its headers and body.")
        @OptionGroup var broker: BrokerOptions
        @Argument var stage: String
        @Argument(help: "Message id (from dlq list).") var messageID: String

        func run() async throws {
            let session = try await broker.session()
            let parked = try await DeadLetterChannel(stage: stage).list(session: session, limit: .max)
            await session.close()
            guard let message = parked.first(where: { $0.messageID == messageID }) else {
                throw ValidationError("no message \(messageID) in \(stage).dlq")
            }
            if broker.json { print(try Output.json(ParkedSummary(message))); return }
            let p = message.delivery.properties
            print("message_id:      \(message.messageID)")
            print("correlation_id:  \(message.correlationID)")
            print("type:            \(p.type ?? message.delivery.routingKey)")
            for (name, value) in p.headers.sorted(by: { $0.key < $1.key }) { print("\(name): \(value.displayText)") }
            print("")
            print(CardMask.mask(message.body))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move parked messages back to their stage (attempt count reset, replay recorded in headers).")
        @OptionGroup var broker: BrokerOptions
        @Argument var stage: String
        @Option(help: "Replay only this message id.") var messageID: String?
        @Option(help: "Replay only messages whose last error contains this text.") var reason: String?
        @Option(help: "At most this many.") var limit: Int = .max
        @Option(help: "Who is replaying (recorded on each message).") var actor: String = EnvironmentReader.current.value("USER") ?? "bridgectl"

        func run() async throws {
            let session = try await broker.session()
            let id = messageID, reason = reason
            let count = try await DeadLetterChannel(stage: stage).replay(session: session, limit: limit, actor: actor) { parked in
                (id == nil || parked.messageID == id) && (reason == nil || parked.lastError.contains(reason!))
            }
            await session.close()
            if broker.json { print(try Output.json(Moved(stage: stage, queue: "\(stage).dlq", replayed: count))); return }
            print("replayed \(count) message(s) from \(stage).dlq to \(stage)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every parked message of a stage (asks for --yes).")
        @OptionGroup var broker: BrokerOptions
        @Argument var stage: String
        @Flag(help: "Confirm the purge.") var yes = false

        func run() async throws {
            guard yes else { throw ValidationError("purging deletes the messages for good; add --yes to confirm") }
            let session = try await broker.session()
            let count = try await DeadLetterChannel(stage: stage).purge(session: session)
            await session.close()
            if broker.json { print(try Output.json(Moved(stage: stage, queue: "\(stage).dlq", purged: count))); return }
            print("purged \(count) message(s) from \(stage).dlq")
        }
    }
}

/// `--json` answer of replay and purge.
struct Moved: Encodable {
    var stage: String
    var queue: String
    var replayed: Int?
    var purged: Int?
}

struct ParkedSummary: Encodable {
    var messageId, correlationId, errorClass, lastError, routingKey, body: String
    var idempotencyKey, firstFailedAt, failedStage: String?
    var attempt, replayCount: Int

    init(_ m: DeadLetterChannel.ParkedMessage) {
        messageId = m.messageID; correlationId = m.correlationID; errorClass = m.errorClass; lastError = m.lastError
        routingKey = m.routingKey; body = CardMask.mask(m.body); idempotencyKey = m.idempotencyKey
        firstFailedAt = m.firstFailedAt; failedStage = m.failedStage; attempt = m.attempt; replayCount = m.replayCount
    }
}

/// `--where class=permanent`, `--where reason~4010`: a condition on a parked message.
struct ParkedFilter: Equatable {
    enum Comparison: Equatable { case equal, contains }
    static let fields = ["class", "reason", "key", "correlation", "type", "attempt", "stage"]

    let field: String
    let comparison: Comparison
    let value: String

    init(parsing text: String) throws {
        guard let index = text.firstIndex(where: { $0 == "=" || $0 == "~" }) else {
            throw ValidationError("--where \(text): expected FIELD=VALUE or FIELD~TEXT")
        }
        field = text[..<index].trimmingCharacters(in: .whitespaces).lowercased()
        comparison = text[index] == "=" ? .equal : .contains
        value = String(text[text.index(after: index)...])
        guard Self.fields.contains(field) else {
            throw ValidationError("--where \(text): unknown field '\(field)'; fields: \(Self.fields.joined(separator: ", "))")
        }
    }

    func matches(_ message: DeadLetterChannel.ParkedMessage) -> Bool {
        let actual: String = switch field {
        case "class": message.errorClass
        case "reason": message.lastError
        case "key": message.idempotencyKey ?? ""
        case "correlation": message.correlationID
        case "type": message.routingKey
        case "attempt": String(message.attempt)
        default: message.failedStage ?? ""
        }
        switch comparison {
        case .equal: return actual == value
        case .contains: return actual.range(of: value, options: .caseInsensitive) != nil
        }
    }
}
