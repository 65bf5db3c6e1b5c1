import AMQP
import Accounting
import Foundation
import Logging
import Messaging
import PipelineContracts
import Testing
@testable import Transformer

/// A card refund keyed on the virtual terminal, with no return ticket: it posts on its own to suspense,
/// goes to the fraud scorer with what is known, and an alert says it awaits allocation.
@Suite struct GatewayRefundTests {
    let logger = Logger(label: "test")
    let handler = TransformerHandler(rules: TransformerHandlerTests.rules)

    /// GP-API's refund at 07:30 UTC on the 27th: still the 26th in Los Angeles.
    static func transaction(id: String = "TRN_GW1", type: String = "REFUND", amount: String = "1234", currency: String = "USD",
                            parent: String = "") -> String {
        """
        {"id":"\(id)","time_created":"2026-11-27T07:30:00.000Z","type":"\(type)","status":"CAPTURED","amount":"\(amount)",
         "currency":"\(currency)","batch_id":"BAT_LA_1126","parent_resource_id":"\(parent)","system":{"tid":"VT01"},
         "payment_method":{"entry_mode":"MANUAL","card":{"brand":"VISA","masked_number_first6last4":"424242XXXXXX1111"}}}
        """
    }

    static let sale = """
        {"id":"TRN_S1","time_created":"2026-11-26T20:00:00Z","type":"SALE","status":"CAPTURED","amount":"2000","currency":"USD",
         "batch_id":"BAT_LA_1126","payment_method":{"entry_mode":"CHIP","card":{"brand":"VISA","masked_number_first6last4":"424242XXXXXX1111"}}}
        """

    func message(transaction: String = transaction(), sale: String? = nil, storeCurrency: String = "USD") throws -> InboundMessage {
        let event = RefundCreatedEvent(
            store: .init(id: "S-LA", timeZone: "America/Los_Angeles", currency: storeCurrency), transactionId: "TRN_GW1",
            refundTransaction: RawJSON(Data(transaction.utf8)), returnTicket: nil, originalTicket: nil,
            saleTransaction: sale.map { RawJSON(Data($0.utf8)) }, earlierReturns: RawJSON(Data("[]".utf8)),
            receivedAt: "2026-11-27T07:30:02Z")
        return InboundMessage(Delivery(routingKey: RefundCreatedEvent.routingKey, properties: MessageProperties(
            messageID: "m-gw", correlationID: event.idempotencyKey, type: RefundCreatedEvent.routingKey,
            headers: [Header.idempotencyKey: .string(event.idempotencyKey)]), body: Array(try JSONEncoder().encode(event))))
    }

    func outputs(_ message: InboundMessage) async throws -> (journal: OutboundMessage, document: JournalDocument, alert: OutboundMessage) {
        let outcome = try await handler.handle(message, logger: logger)
        guard case .publish(let outputs) = outcome, outputs.count == 2 else {
            throw StageError.permanent("expected the journal and the alert, got \(outcome)")
        }
        return (outputs[0], try JSONDecoder().decode(JournalDocument.self, from: Data(outputs[0].body)), outputs[1])
    }

    @Test func aRefundWithoutReturnTicketPostsToSuspenseOnTheStoresDay() async throws {
        let (output, document, _) = try await outputs(try message())
        #expect(output.exchange == "bridge.scoring")
        #expect(output.routingKey == "sage.journal.refund")
        #expect(output.schema == JournalDocument.schema)
        #expect(output.idempotencyKey == "heartland:gateway_refund:TRN_GW1")
        let journal = document.journal
        // By hand: 12.34 out of Visa clearing into suspense, on the 26th (23:30 in Los Angeles), not the UTC date.
        #expect(journal.netByAccount == ["2900": 1234, "1210": -1234])
        #expect(journal.lines.map(\.side) == [.credit, .debit])
        #expect(journal.sagePostingDate == "11/26/2026")
        #expect(journal.reference == "HL-S-LA-20261126-GTRN_GW1")
        #expect(journal.idempotencyKey == "heartland:gateway_refund:TRN_GW1")
        #expect(document.storeID == "S-LA")

        let facts = try #require(document.refund)
        #expect(facts.transactionId == "TRN_GW1" && facts.returnTicketId.isEmpty && facts.originalTicketId == nil)
        #expect(facts.refundedCents == 1234 && facts.refundCard == "VISA:424242******1111" && facts.entryMode == "MANUAL")
        #expect(facts.terminal == "VT01" && facts.timeZone == "America/Los_Angeles")
        #expect(facts.batchId == "BAT_LA_1126" && facts.dayReference == "HL-S-LA-20261126-BAT_LA_1126")
        #expect(facts.problems == [
            "gateway-only: no return ticket, merchandise and tax unknown",
            "no original sale: refund TRN_GW1 points at no sale Heartland has",
        ])
    }

    @Test func anAlertSaysItAwaitsAllocationAndHow() async throws {
        let (_, _, output) = try await outputs(try message())
        #expect(output.exchange == "bridge.alerts")
        #expect(output.routingKey == "alert.refund_awaiting_allocation.transformer")
        let alert = try JSONDecoder().decode(AlertNotice.self, from: Data(output.body))
        #expect(alert.kind == "refund_awaiting_allocation" && alert.stage == "transformer" && alert.severity == "warning")
        #expect(alert.idempotencyKey == "heartland:gateway_refund:TRN_GW1")
        for part in ["TRN_GW1", "store S-LA", "12.34 USD", "HL-S-LA-20261126-GTRN_GW1", "suspense 2900", "awaits allocation",
                     "bridgectl refunds allocate TRN_GW1 --store S-LA --date 2026-11-26 --amount 12.34 --tax"] {
            #expect(alert.reason.contains(part), "\(part) missing from: \(alert.reason)")
        }
    }

    @Test func theSaleGatewayNamesIsTheOriginal() async throws {
        let (_, document, _) = try await outputs(try message(transaction: Self.transaction(parent: "TRN_S1"), sale: Self.sale))
        let facts = try #require(document.refund)
        #expect(facts.originalTicketId == "TRN_S1" && facts.originalCents == 2000 && facts.saleCards == ["VISA:424242******1111"])
        #expect(facts.saleCardCents == 2000 && facts.earlierRefundedCents == 0)
        #expect(facts.problems == ["gateway-only: no return ticket, merchandise and tax unknown"], "its own sale, its own card, within the sale")
    }

    @Test(arguments: [
        (GatewayRefundTests.transaction(type: "SALE"), "USD", "not a REFUND"),
        (GatewayRefundTests.transaction(amount: "0"), "USD", "zero amount"),
        (GatewayRefundTests.transaction(), "EUR", "is in EUR but the Sage company posts in USD"),
        (GatewayRefundTests.transaction(), "DOLLARS", "DOLLARS"),
        (GatewayRefundTests.transaction(currency: "CAD"), "USD", "is in CAD but the Sage company posts in USD"),
    ])
    func whatCannotBeASuspenseRefundIsPermanent(transaction: String, storeCurrency: String, reason: String) async throws {
        do {
            _ = try await handler.handle(try message(transaction: transaction, storeCurrency: storeCurrency), logger: logger)
            Issue.record("expected a permanent error")
        } catch let error as StageError {
            #expect(error.errorClass == .permanent)
            #expect(error.description.contains("refund TRN_GW1 of store S-LA"), "\(error)")
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}
