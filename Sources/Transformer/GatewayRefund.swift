import Accounting
import BridgeClock
import Foundation
import Logging
import Messaging
import PipelineContracts

/// A card refund keyed on the gateway (the virtual terminal) with no return ticket. The money has left
/// the merchant's account, so it posts at once, to the suspense account (ACCOUNTING.md), and goes to
/// the fraud scorer like every refund; an alert tells a person it awaits allocation and how to do it.
extension TransformerHandler {
    /// On every gateway-only refund's facts, so a reviewer sees why it sits in suspense.
    static let gatewayOnlyProblem = "gateway-only: no return ticket, merchandise and tax unknown"

    /// The suspense journal on its way to the fraud scorer, and the alert that it awaits allocation.
    func gatewayRefundOutcome(_ event: RefundCreatedEvent, logger: Logger) throws -> StageOutcome {
        guard let document = try refund(event) else {
            throw StageError.permanent("refund \(event.transactionId) of store \(event.store.id): no suspense journal could be built")
        }
        let journal = document.journal
        logger.info("gateway-only refund held in suspense", metadata: [
            "reference": .string(journal.reference), "transaction": .string(event.transactionId),
            "debits_cents": .stringConvertible(journal.totalDebits),
        ])
        return .publish([
            try OutboundMessage(exchange: scoringExchange, routingKey: document.routingKey, json: document,
                                idempotencyKey: journal.idempotencyKey, schema: JournalDocument.schema),
            try AwaitingAllocationAlert(journal: journal, transaction: event.transactionId, store: event.store.id,
                                        rules: try rules(for: event.store.id)).message(),
        ])
    }

    /// The suspense journal with what is known for the scorer: the refund's card, terminal and time, and
    /// its sale when GP-API names one (`parent_resource_id`); no return ticket, so no earlier returns.
    func gatewayOnlyRefund(_ event: RefundCreatedEvent, transaction: GatewayTransaction, timeZone: StoreTimeZone,
                           currency: CurrencyCode) throws -> JournalDocument {
        try Self.checkCurrency(of: event.refundTransaction, is: rules.currency, record: "gateway refund \(event.transactionId)")
        let store = StoreID(event.store.id)
        let journal = try GatewayRefundJournalBuilder(rules: try rules(for: store.rawValue)).buildSuspense(transaction, storeID: store, timeZone: timeZone,
                                                                                  currency: currency)
        // The sale is context for the fraud scorer: one Heartland serves malformed is treated as unknown, not fatal to the refund.
        let sale = event.saleTransaction.flatMap { try? GatewayTransaction.parse($0.data, currency: currency) }
        var facts = RefundFacts(
            transactionId: event.transactionId, batchId: transaction.batchId,
            dayReference: transaction.batchId.map {
                SettlementJournalBuilder.dayReference(storeID: store, date: journal.postingDate, batch: BatchID($0))
            },
            // No return ticket: empty, as the contract has no other way to say so.
            returnTicketId: "", returnTicketNumber: "",
            // The sale is the GP-API transaction the refund points at, not a Retail ticket.
            originalTicketId: sale?.id.rawValue, originalTicketNumber: sale?.id.rawValue, originalCents: sale?.amount.minorUnits,
            earlierRefundedCents: 0, refundedCents: transaction.amount.minorUnits, refundCard: transaction.card,
            saleCards: sale.map { [$0.card] } ?? [], saleCardCents: sale?.amount.minorUnits ?? 0, saleCashCents: 0, saleGiftCardCents: 0,
            entryMode: transaction.entryMode, terminal: transaction.terminal ?? "unknown", clerk: nil,
            occurredAt: Timestamps.iso8601(transaction.createdAt), timeZone: timeZone.identifier, receivedAt: event.receivedAt, problems: [])
        facts.problems = [Self.gatewayOnlyProblem]
            + (facts.isUnlinked ? ["no original sale: refund \(event.transactionId) points at no sale Heartland has"] : Self.problems(facts))
        return JournalDocument(journal: journal, storeID: event.store.id, batch: nil, refund: facts)
    }

    /// GP-API writes the transaction's own currency; a refund in another than the Sage company's never posts
    /// (the store's currency is checked against it when the journal is built).
    static func checkCurrency(of transaction: RawJSON, is expected: CurrencyCode, record: String) throws {
        struct Wire: Decodable { var currency: String? }
        guard let raw = try JSONDecoder().decode(Wire.self, from: transaction.data).currency else { return }
        let found = try CurrencyCode(raw)
        guard found == expected else { throw PostingError.currencyMismatch(record: record, found: found, expected: expected) }
    }
}

/// `alert.refund_awaiting_allocation.transformer`: a gateway-only refund sits in suspense until an
/// operator says how much of it was sales tax; the alert names the store, the transaction, the amount
/// and the command that allocates it.
struct AwaitingAllocationAlert {
    static let kind = AlertKind.refundAwaitingAllocation
    static let exchange = "bridge.alerts"

    let journal: JournalEntry
    let transaction: String
    let store: String
    let rules: MappingRules

    var amount: Money { Money(minorUnits: journal.totalDebits, currency: journal.currency) }

    var command: String {
        "bridgectl refunds allocate \(transaction) --store \(store) --date \(journal.postingDate.iso) "
            + "--amount \(Money.decimalString(amount.minorUnits)) --tax <sales tax refunded>"
    }

    var reason: String {
        let credited = journal.lines.filter { $0.side == .credit }.map(\.account.rawValue).joined(separator: ", ")
        return "refund \(transaction) of \(amount) at store \(store) on \(journal.postingDate.iso) was keyed on the gateway with no return "
            + "ticket: it goes to Sage as \(journal.reference), debiting suspense \(rules.refundSuspense.account) and crediting card clearing "
            + "\(credited), and awaits allocation to returns and sales tax. Once the store knows the tax refunded, run `\(command)`"
    }

    func message() throws -> OutboundMessage {
        let notice = AlertNotice(kind: Self.kind, severity: "warning", stage: "transformer", reason: reason,
                                 idempotencyKey: journal.idempotencyKey)
        return try OutboundMessage(exchange: Self.exchange, routingKey: Self.kind.routingKey("transformer"), json: notice)
    }
}
