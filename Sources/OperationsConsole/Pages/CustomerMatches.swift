import AMQP
import Alerter
import Foundation
import Messaging
import PipelineContracts

/// Uncertain customer matches of the two-way sync (`/matches`): the customer and its candidates side
/// by side with the evidence. "Same person" links them in both loaders; "different people" makes the
/// loaders create the customer. The decision goes to both loaders (`*.customer.decision`), then
/// every command held for the item is released carrying it (`x-customer-decision`), so the loader
/// that receives a command applies the decision first whatever order the two arrive in.
extension OperationsConsole {
    func customerReviewStore() throws -> CustomerReviewStore {
        guard let store = configuration.customerReviews else {
            throw ConsoleError.unavailable("the console has no customer review store (the alerter opens it in its operations store)")
        }
        return store
    }

    func customerMatches(status: String) async throws -> [CustomerReviewStore.Item] {
        guard ["open", "decided", "all"].contains(status) else { throw ConsoleError.badRequest("status must be open, decided or all") }
        return try await customerReviewStore().items(status: status == "all" ? nil : status)
    }

    func customerMatch(_ id: String) async throws -> CustomerReviewStore.Item {
        do { return try await customerReviewStore().item(id) } catch let error as CustomerReviewStore.ReviewError {
            throw ConsoleError.notFound(error.description)
        }
    }

    /// Records the decision once, then tells both loaders and releases the held commands.
    func decide(match id: String, verdict: MatchVerdict, heartland: String?, sage: String?, actor: String, why: String?) async throws -> String {
        let store = try customerReviewStore()
        let item = try await customerMatch(id)
        let pairs = try Self.pairs(item, verdict: verdict, heartland: heartland, sage: sage)
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        do { _ = try await store.decide(id, verdict: verdict, by: actor, why: why) } catch let error as CustomerReviewStore.ReviewError {
            throw error.isNotFound ? ConsoleError.notFound(error.description) : ConsoleError.conflict(error.description)
        }
        let decision = CustomerMatchDecision(reviewId: id, verdict: verdict, pairs: pairs, by: actor, why: why)
        let messages: [OutgoingMessage]
        do { messages = try Self.release(decision, held: item.held) } catch {
            try await store.reopen(id)
            throw error
        }
        do {
            try await session.publish(messages)
        } catch {
            try await store.reopen(id)
            throw ConsoleError(status: 502, description: "the decision on \(id) could not be sent (\(error)); it is open again, decide again")
        }
        let described = pairs.map { "Heartland \($0.heartland) and Sage \($0.sage)" }.joined(separator: ", ")
        await audit(event: verdict == .same ? .customerMatchSame : .customerMatchDifferent, stage: "console",
                    detail: "\(described): \(verdict == .same ? "the same person, linked" : "different people, each created on the other side")"
                        + (why.map { " (\($0))" } ?? "") + "; \(item.held.count) held command(s) released",
                    actor: actor, idempotencyKey: "customer-review:\(id)", session: session)
        await session.close()
        logger.notice("customer match decided", metadata: ["review": .string(id), "verdict": .string(verdict.rawValue), "actor": .string(actor)])
        return verdict == .same ? "linked \(described); released \(item.held.count) held command(s)"
            : "\(described) are different people; released \(item.held.count) held command(s)"
    }

    /// `same`: the one Heartland and the one Sage record (or the two the person picked); `different`: every pair across the sides.
    static func pairs(_ item: CustomerReviewStore.Item, verdict: MatchVerdict, heartland: String?, sage: String?) throws -> [CustomerMatchDecision.Pair] {
        let heartlands = item.records.filter { $0.side == "heartland" }.map(\.number)
        let sages = item.records.filter { $0.side == "sage" }.map(\.number)
        switch verdict {
        case .different:
            return heartlands.flatMap { h in sages.map { CustomerMatchDecision.Pair(heartland: h, sage: $0) } }
        case .same:
            let h = heartland.flatMap { $0.isEmpty ? nil : $0 } ?? (heartlands.count == 1 ? heartlands[0] : nil)
            let s = sage.flatMap { $0.isEmpty ? nil : $0 } ?? (sages.count == 1 ? sages[0] : nil)
            guard let h, let s, heartlands.contains(h), sages.contains(s) else {
                throw ConsoleError.badRequest("which records are the same person? Pick one Heartland (heartland) and one Sage (sage) record of \(item.reviewId)")
            }
            return [.init(heartland: h, sage: s)]
        }
    }

    /// The decision to each loader, then each held command again with the decision in a header.
    static func release(_ decision: CustomerMatchDecision, held: [HeldCommand]) throws -> [OutgoingMessage] {
        let key = "customer-decision:\(decision.reviewId):\(decision.verdict.rawValue)"
        var messages = try ["sage.customer.decision", "heartland.customer.decision"].map { route in
            try OutboundMessage(exchange: "bridge.commands", routingKey: route, json: decision, idempotencyKey: key, schema: CustomerMatchDecision.schema)
                .amqpMessage(correlationID: key, messageID: MessageID.derived(key, route), traceparent: nil)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = String(decoding: try encoder.encode(decision), as: UTF8.self)
        for command in held {
            let output = OutboundMessage(exchange: "bridge.commands", routingKey: command.routingKey, body: Array(command.body.utf8),
                                         idempotencyKey: command.idempotencyKey, headers: [CustomerMatchDecision.header: .string(header)])
            messages.append(output.amqpMessage(correlationID: command.correlationId ?? command.messageId,
                                               messageID: MessageID.derived("released", command.messageId, decision.reviewId), traceparent: nil))
        }
        return messages
    }
}

extension CustomerReviewStore.ReviewError {
    var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}
