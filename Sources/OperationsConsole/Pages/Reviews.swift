import Accounting
import BridgeClock
import Foundation
import FraudScoring
import PipelineContracts

/// The fraud review queue: documents the fraud-scorer held. Approving releases the document to the
/// loaders exactly as `bridgectl review approve` does (`ReviewRelease`), once.
struct ReviewRow: Encodable, Sendable {
    var id: Int64
    var status: String
    var reference: String
    var storeId: String?
    var heldAt: String
    var reasons: [String]
    var decidedBy, decidedWhy, decidedAt: String?

    init(_ held: ReviewStore.HeldDocument, document: JournalDocument?) {
        id = held.id
        status = held.status.rawValue
        reference = document?.journal.reference ?? held.idempotencyKey
        storeId = document?.storeID
        heldAt = Timestamps.iso8601(held.heldAt)
        reasons = held.reasons
        decidedBy = held.decidedBy
        decidedWhy = held.decidedWhy
        decidedAt = held.decidedAt.map(Timestamps.iso8601)
    }
}

struct ReviewDetail: Encodable, Sendable {
    struct Line: Encodable, Sendable {
        var account, description, side, amount: String
    }

    var review: ReviewRow
    var description: String?
    var postingDate: String?
    var lines: [Line]
    /// A held refund's sale and related transactions; nil for other documents.
    var refund: RefundEvidence?
}

extension OperationsConsole {
    func reviews(status: String) async throws -> [ReviewRow] {
        let wanted = status == "all" ? nil : ReviewStore.Status(rawValue: status)
        guard status == "all" || wanted != nil else { throw ConsoleError.badRequest("status must be held, approved, rejected or all") }
        return try await reviewStore().list(status: wanted).map { ReviewRow($0, document: Self.document($0)) }
    }

    func review(id: Int64) async throws -> ReviewDetail {
        let held = try await reviewStore().show(id: id)
        let document = Self.document(held)
        let refund: RefundEvidence? = if let facts = document?.refund { await refundEvidence(facts) } else { nil }
        return ReviewDetail(review: ReviewRow(held, document: document), description: document?.journal.description,
                            postingDate: document?.journal.postingDate.iso,
                            lines: document?.journal.lines.map {
                                .init(account: $0.account.rawValue, description: $0.description, side: $0.side.rawValue,
                                      amount: Money.decimalString($0.amount.minorUnits))
                            } ?? [],
                            refund: refund)
    }

    /// Approves and releases to the loaders; the broker is reached first, so that an unreachable broker
    /// does not leave the document approved and unsent.
    func approve(id: Int64, actor: String, why: String) async throws -> String {
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        let held = try await reviewStore().approve(id: id, by: actor, why: why)
        let (release, document) = try ReviewRelease.release(held)
        let audit = try ReviewRelease.audit(.reviewApproved, held, document: document, actor: actor, why: why, origin: "console")
        do {
            try await session.publish([release, audit])
        } catch {
            throw ConsoleError(status: 502, description: "review \(held.id) is approved but sending it failed (\(error)); "
                               + "run `bridgectl review release \(held.id)` to send it again")
        }
        await session.close()
        await recordPublishedAudit(audit)
        logger.notice("review approved", metadata: ["review": .stringConvertible(id), "actor": .string(actor)])
        return "approved review \(held.id) (\(document.journal.reference)); released to the loaders"
    }

    func reject(id: Int64, actor: String, why: String) async throws -> String {
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        let held = try await reviewStore().reject(id: id, by: actor, why: why)
        let document = Self.document(held)
        let audit = try ReviewRelease.audit(.reviewRejected, held, document: document, actor: actor, why: why, origin: "console")
        try await session.publish([audit])
        await session.close()
        await recordPublishedAudit(audit)
        logger.notice("review rejected", metadata: ["review": .stringConvertible(id), "actor": .string(actor)])
        return "rejected review \(held.id) (\(document?.journal.reference ?? held.idempotencyKey)); it will not be posted"
    }

    static func document(_ held: ReviewStore.HeldDocument) -> JournalDocument? {
        try? JSONDecoder().decode(JournalDocument.self, from: held.document)
    }
}
