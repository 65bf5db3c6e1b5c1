import Accounting
import Foundation
import FraudScoring
import Messaging
import PipelineContracts

/// A held refund's evidence on its review page (`/reviews/ID`, the review's own id): the sale it returns as Heartland
/// has it (the refund's facts travel in the held document), then, from the fraud-scorer's feature store, the sale if
/// recorded under the id the refund links to, every refund of that sale, and the card's and the terminal's day.
struct RefundEvidence: Encodable, Sendable {
    var transactionId, returnTicket: String
    var originalTicket: String?
    var originalAmount: String?
    var earlierRefunded, refunded: String
    /// Masked: first six and last four at most.
    var refundCard: String?
    var saleCards: [String]
    /// How the sale was paid: `card 12.00, cash 3.00, gift card 0.00`.
    var saleTenders: String
    var problems: [String]
    /// The refund as the feature store recorded it (local time, terminal, clerk); nil when it is not there.
    var transaction: EvidenceRow?
    var findings: [String]
    var evidence: [EvidenceGroup]
    var evidenceMissing: String?
}

extension OperationsConsole {
    func refundEvidence(_ facts: RefundFacts) async -> RefundEvidence {
        var evidence = RefundEvidence(
            transactionId: facts.transactionId, returnTicket: facts.returnTicketNumber,
            originalTicket: facts.originalTicketNumber ?? facts.originalTicketId, originalAmount: facts.originalCents.map(Money.decimalString),
            earlierRefunded: Money.decimalString(facts.earlierRefundedCents), refunded: Money.decimalString(facts.refundedCents),
            refundCard: facts.refundCard.map(CardMask.mask), saleCards: facts.saleCards.map(CardMask.mask),
            saleTenders: "card \(Money.decimalString(facts.saleCardCents)), cash \(Money.decimalString(facts.saleCashCents)), "
                + "gift card \(Money.decimalString(facts.saleGiftCardCents))",
            problems: facts.problems, findings: [], evidence: [])
        let missing = await withRecordedEvent(facts.transactionId) { event, events in
            let offset = TimeZone(identifier: facts.timeZone).map { $0.secondsFromGMT(for: event.at) / 60 }
            evidence.transaction = EvidenceRow(event, flaggedId: event.id, utcOffsetMinutes: offset)
            (evidence.findings, evidence.evidence) = try await saleAndRefunds(event, events: events) { slice in
                slice.events.map { EvidenceRow($0, flaggedId: event.id, utcOffsetMinutes: offset) }
            }
        }
        evidence.evidenceMissing = missing
        return evidence
    }
}
