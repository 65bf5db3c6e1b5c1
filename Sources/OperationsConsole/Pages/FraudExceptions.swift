import Accounting
import BridgeClock
import Foundation
import FraudScoring
import Messaging

/// Fraud exceptions: card sales the rules sent to `review` in batches that posted anyway (the money
/// had moved). Nothing is held; an analyst looks at each and acknowledges it once, exactly as
/// `bridgectl review acknowledge E<id>` does, with the notice built by `ReviewRelease`.
struct ExceptionRow: Encodable, Sendable {
    /// `E12`, as `bridgectl review` names it.
    var id: String
    var status: String
    var reference: String
    var transactionId: String
    var storeId: String
    var amount: String
    var amountCents: Int64
    var cardToken: String?
    var riskScore: Int
    var decidedBy: String?
    var reasons: [String]
    /// The sale in words: amount, card, ticket, local time, station, clerk.
    var sale: String
    var raisedAt: String
    var acknowledgedBy, acknowledgedWhy, acknowledgedAt: String?

    init(_ exception: FraudException) {
        id = exception.label
        status = exception.status.rawValue
        reference = exception.reference
        transactionId = exception.transactionId
        storeId = exception.store
        amount = Money.decimalString(exception.amountCents)
        amountCents = exception.amountCents
        cardToken = exception.cardToken.map(CardMask.mask)
        riskScore = exception.riskScore
        decidedBy = exception.decidedBy
        reasons = exception.reasons.map(CardMask.mask)
        sale = CardMask.mask(exception.summary)
        raisedAt = Timestamps.iso8601(exception.raisedAt)
        acknowledgedBy = exception.acknowledgedBy
        acknowledgedWhy = exception.acknowledgedWhy
        acknowledgedAt = exception.acknowledgedAt.map(Timestamps.iso8601)
    }
}

extension OperationsConsole {
    /// Oldest first, as the review store keeps them.
    func fraudExceptions(status: String) async throws -> [ExceptionRow] {
        let wanted = status == "all" ? nil : FraudException.Status(rawValue: status)
        guard status == "all" || wanted != nil else { throw ConsoleError.badRequest("status must be open, acknowledged or all") }
        return try await reviewStore().exceptions(status: wanted).map(ExceptionRow.init)
    }

    /// Acknowledges once. The exception is read first, so that a missing or already acknowledged one
    /// is answered without the broker; then, as for approvals, the broker is reached before the
    /// store changes, so that an unreachable broker does not leave it acknowledged without a notice.
    /// The review store lets only the first acknowledgement through if two race.
    func acknowledge(exception label: String, actor: String, why: String) async throws -> String {
        guard let id = FraudException.id(label) else { throw ConsoleError.notFound("no fraud exception \(label) (exceptions are E<number>)") }
        guard !why.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ConsoleError.badRequest("say why (the why field): it is recorded in the audit trail")
        }
        let store = try await reviewStore()
        let current = try await store.exception(id: id)
        guard current.status == .open else { throw FraudExceptionError.alreadyAcknowledged(id: id, by: current.acknowledgedBy) }
        let session = try await brokerSession()
        defer { Task { await session.close() } }
        let exception = try await store.acknowledge(exception: id, by: actor, why: why)
        let audit = try ReviewRelease.audit(acknowledged: exception, actor: actor, why: why, origin: "console")
        // In the trail at once: the acknowledgement stands even if the notice below cannot be sent.
        await recordPublishedAudit(audit)
        do {
            try await session.publish([audit])
        } catch {
            throw ConsoleError(status: 502, description: "exception \(exception.label) is acknowledged (in the audit trail) "
                               + "but its notice was not sent on bridge.audit (\(error))")
        }
        await session.close()
        logger.notice("fraud exception acknowledged", metadata: ["exception": .string(exception.label), "actor": .string(actor)])
        return "acknowledged exception \(exception.label) (\(exception.reference), \(exception.transactionId))"
    }
}
