import Accounting
import Foundation

/// `heartland.batch.closed` on `bridge.events` (schema `bridge.heartland.batch_closed.v1`): what
/// heartland-ingest publishes once a store's batch is closed. The batch and the tickets are Heartland's
/// own JSON, unchanged, so that validation and repair happen in one place (the transformer).
public struct BatchClosedEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.batch_closed.v1"
    public static let routingKey = "heartland.batch.closed"

    public struct Store: Codable, Sendable {
        public var id: String
        public var timeZone: String
        public var currency: String
        public init(id: String, timeZone: String, currency: String) {
            self.id = id
            self.timeZone = timeZone
            self.currency = currency
        }
        enum CodingKeys: String, CodingKey { case id, timeZone = "time_zone", currency }
    }

    public var schema: String
    public var store: Store
    /// Heartland's batch id (also inside `batch`), so that the key is known without parsing it.
    public var batchId: String?
    /// The store's business day, YYYY-MM-DD in its own time zone.
    public var businessDate: String
    /// GP-API batch JSON.
    public var batch: RawJSON
    /// Heartland Retail tickets assigned to the batch (its card tenders' tickets and the cash tickets completed
    /// before it closed that no earlier batch took): an array of tickets, or of ticket pages as served.
    public var tickets: RawJSON
    /// When the batch closed (RFC 3339), when known.
    public var closedAt: String?
    /// The Retail customers (as served, a JSON array) of the tickets charged to or paying down a house account, for their
    /// AR documents; nil when no ticket of the batch touches one.
    public var customers: RawJSON?

    public init(store: Store, businessDate: String, batchId: String? = nil, batch: RawJSON, tickets: RawJSON, closedAt: String? = nil,
                customers: RawJSON? = nil) {
        self.schema = Self.schema
        self.closedAt = closedAt
        self.customers = customers
        self.store = store
        self.batchId = batchId
        self.businessDate = businessDate
        self.batch = batch
        self.tickets = tickets
    }

    enum CodingKeys: String, CodingKey {
        case schema, store, batchId = "batch_id", businessDate = "business_date", batch, tickets, closedAt = "closed_at", customers
    }

    /// The idempotency key of the fact: one batch is one journal (the key heartland-ingest's inbox uses).
    public var idempotencyKey: String { batchId.map { "heartland:batch:\($0)" } ?? "heartland:batch:\(store.id):\(businessDate)" }
}

/// `heartland.payroll.completed` on `bridge.events` (schema `bridge.heartland.payroll_completed.v1`).
public struct PayrollCompletedEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.payroll_completed.v1"
    public static let routingKey = "heartland.payroll.completed"
    public var schema: String
    public var currency: String
    /// Heartland's pay run id (also inside `payRun`).
    public var runId: String?
    /// The pay run JSON as Heartland serves it: the run, or the payroll envelope holding it.
    public var payRun: RawJSON

    public init(currency: String, runId: String? = nil, payRun: RawJSON) {
        self.schema = Self.schema
        self.currency = currency
        self.runId = runId
        self.payRun = payRun
    }

    enum CodingKeys: String, CodingKey { case schema, currency, runId = "run_id", payRun = "pay_run" }

    /// One pay run is one journal (the key heartland-ingest's inbox and the payroll journal use).
    public var idempotencyKey: String? { runId.map { "heartland:pay_run:\($0)" } }
}

/// `heartland.refund.created` on `bridge.events` (schema `bridge.heartland.refund_created.v1`): one card
/// refund, published by heartland-ingest as soon as a `transaction.refunded` webhook (or the poller)
/// reports it, with everything needed to post it on its own and to judge it: the refund transaction,
/// the return ticket, the sale it returns (ticket and card transaction) and the earlier returns of
/// that sale, all as Heartland serves them.
public struct RefundCreatedEvent: Codable, Sendable {
    public static let schema = "bridge.heartland.refund_created.v1"
    public static let routingKey = "heartland.refund.created"

    public var schema: String
    public var store: BatchClosedEvent.Store
    /// GP-API's id of the refund transaction.
    public var transactionId: String
    /// GP-API transaction JSON of the refund.
    public var refundTransaction: RawJSON
    /// The Retail ticket whose card tender is this refund; nil when Heartland has none (a gateway-only refund).
    public var returnTicket: RawJSON?
    /// The sale the return ticket returns (`return_of_ticket_id`); nil when it names none or Heartland does not have it.
    public var originalTicket: RawJSON?
    /// GP-API transaction the refund points at (`parent_resource_id`); nil when none.
    public var saleTransaction: RawJSON?
    /// The other return tickets of the same sale completed before this one (JSON array, possibly empty).
    public var earlierReturns: RawJSON
    /// When the bridge first heard of the refund (RFC 3339), for the refund latency.
    public var receivedAt: String

    public init(store: BatchClosedEvent.Store, transactionId: String, refundTransaction: RawJSON, returnTicket: RawJSON?,
                originalTicket: RawJSON?, saleTransaction: RawJSON?, earlierReturns: RawJSON, receivedAt: String) {
        self.schema = Self.schema
        self.store = store
        self.transactionId = transactionId
        self.refundTransaction = refundTransaction
        self.returnTicket = returnTicket
        self.originalTicket = originalTicket
        self.saleTransaction = saleTransaction
        self.earlierReturns = earlierReturns
        self.receivedAt = receivedAt
    }

    enum CodingKeys: String, CodingKey {
        case schema, store, transactionId = "transaction_id", refundTransaction = "refund_transaction", returnTicket = "return_ticket"
        case originalTicket = "original_ticket", saleTransaction = "sale_transaction", earlierReturns = "earlier_returns"
        case receivedAt = "received_at"
    }

    /// The key heartland-ingest's inbox uses for the refund transaction.
    public var idempotencyKey: String { "heartland:transaction:\(transactionId)" }
}

/// What the transformer found out about a real-time refund, for the fraud scorer's decision, the
/// link to its sale and batch, and the refund latency.
public struct RefundFacts: Codable, Sendable, Hashable {
    public var transactionId: String
    /// The GP-API batch the refund settles in, and the day journal's reference for that batch.
    public var batchId: String?
    public var dayReference: String?
    public var returnTicketId: String
    public var returnTicketNumber: String
    /// The sale it returns; nil when the return names none (or Heartland does not have it).
    public var originalTicketId: String?
    public var originalTicketNumber: String?
    /// The sale's total (what was paid), and what earlier returns of it already gave back; cents.
    public var originalCents: Int64?
    public var earlierRefundedCents: Int64
    /// This refund's money given back, positive.
    public var refundedCents: Int64
    /// The card the refund went to and the card(s) the sale was paid with (`BRAND:first6******last4`).
    public var refundCard: String?
    public var saleCards: [String]
    /// How the sale was paid, in cents per tender.
    public var saleCardCents: Int64
    public var saleCashCents: Int64
    public var saleGiftCardCents: Int64
    public var entryMode: String?
    public var terminal: String
    public var clerk: String?
    /// When the return was completed (RFC 3339 UTC).
    public var occurredAt: String
    public var timeZone: String
    public var receivedAt: String
    /// What is wrong with it, in words (empty: a refund of its own sale, to its card, within what is left).
    public var problems: [String]

    public init(transactionId: String, batchId: String?, dayReference: String?, returnTicketId: String, returnTicketNumber: String,
                originalTicketId: String?, originalTicketNumber: String?, originalCents: Int64?, earlierRefundedCents: Int64,
                refundedCents: Int64, refundCard: String?, saleCards: [String], saleCardCents: Int64, saleCashCents: Int64,
                saleGiftCardCents: Int64, entryMode: String?, terminal: String, clerk: String?, occurredAt: String, timeZone: String,
                receivedAt: String, problems: [String]) {
        self.transactionId = transactionId
        self.batchId = batchId
        self.dayReference = dayReference
        self.returnTicketId = returnTicketId
        self.returnTicketNumber = returnTicketNumber
        self.originalTicketId = originalTicketId
        self.originalTicketNumber = originalTicketNumber
        self.originalCents = originalCents
        self.earlierRefundedCents = earlierRefundedCents
        self.refundedCents = refundedCents
        self.refundCard = refundCard
        self.saleCards = saleCards
        self.saleCardCents = saleCardCents
        self.saleCashCents = saleCashCents
        self.saleGiftCardCents = saleGiftCardCents
        self.entryMode = entryMode
        self.terminal = terminal
        self.clerk = clerk
        self.occurredAt = occurredAt
        self.timeZone = timeZone
        self.receivedAt = receivedAt
        self.problems = problems
    }

    /// No original sale to check against.
    public var isUnlinked: Bool { originalTicketId == nil }
    /// With the earlier returns, more than the sale took.
    public var exceedsOriginal: Bool { originalCents.map { earlierRefundedCents + refundedCents > $0 } ?? false }
    /// Refunded to a card the sale was not paid with.
    public var toAnotherCard: Bool { !isUnlinked && refundCard.map { !saleCards.contains($0) } ?? false }
}

/// A journal on its way to Sage (schema `bridge.journal.v1`), on `bridge.scoring` from the transformer
/// and on `bridge.commands` (key `sage.journal.<source>`) once the fraud scorer has passed it.
public struct JournalDocument: Codable, Sendable {
    public static let schema = "bridge.journal.v1"
    public var schema: String
    public var journal: JournalEntry
    /// The store a settlement journal belongs to (nil for payroll).
    public var storeID: String?
    /// Heartland's own batch totals, kept for the reconciliation after posting.
    public var batch: SettlementBatch?
    /// The fraud scorer's decision (`allowed`, `review`, `approved by …`, `not_applicable`).
    public var fraudAssessment: String?
    /// A settlement journal: the batch's card refunds posted on their own (not in this journal), for the reconciliation.
    public var refunds: [RealTimeRefund]?
    /// A refund journal: the facts about the refund.
    public var refund: RefundFacts?
    /// A settlement journal: the day's card tenders, one per transaction, for the fraud scorer's
    /// per-transaction check (nil from a transformer that predates it, and for other journals).
    public var cardActivity: CardActivity?
    /// A settlement journal that is not its batch's own (another business day of the batch, or a supplementary journal
    /// of a corrected ticket): the reference the batch's reconciliation is filed under.
    public var partOf: String?
    /// On the batch's own journal: the batch's tickets set aside (their batch reconciliation stays incomplete until
    /// each corrected version posts).
    public var quarantined: [QuarantinedDocument]?
    /// A supplementary journal: the set-aside document it posts once corrected.
    public var resolves: String?
    /// A settlement journal: the Heartland tickets it contains (ids); a ticket is in one journal only.
    public var documents: [String]?
    /// A settlement journal: the AR documents of its on-account tickets, which its reconciliation looks for in Sage AR.
    public var receivables: [ExpectedReceivable]?

    public init(journal: JournalEntry, storeID: String? = nil, batch: SettlementBatch?, fraudAssessment: String? = nil,
                refunds: [RealTimeRefund]? = nil, refund: RefundFacts? = nil, cardActivity: CardActivity? = nil,
                partOf: String? = nil, quarantined: [QuarantinedDocument]? = nil, resolves: String? = nil) {
        self.partOf = partOf
        self.quarantined = quarantined
        self.resolves = resolves
        self.schema = Self.schema
        self.journal = journal
        self.storeID = storeID
        self.batch = batch
        self.fraudAssessment = fraudAssessment
        self.refunds = refunds
        self.refund = refund
        self.cardActivity = cardActivity
    }

    public var routingKey: String { "sage.journal.\(journal.source.rawValue)" }
}

/// The card tenders of a store's business day as the tickets show them, one per card transaction:
/// what the fraud scorer judges each sale of a settlement batch on. No card number: the card is its
/// brand and last four digits, when the ticket gives them.
public struct CardActivity: Codable, Sendable, Hashable {
    public struct Transaction: Codable, Sendable, Hashable {
        public enum Kind: String, Codable, Sendable { case sale, refund }

        /// GP-API's transaction id (`gateway_transaction_id`), else `ticket:<ticket id>:payment:<payment id>`.
        public var transactionId: String
        public var kind: Kind
        public var ticketId: String
        public var ticketNumber: String
        /// As the ticket spells it (`VISA`, `Mastercard`, ...).
        public var brand: String
        /// `BRAND:??????******last4` when the ticket gives the last four digits; nil otherwise.
        public var cardToken: String?
        /// Money taken (a sale) or given back (a refund), positive, tip included; cents.
        public var amountCents: Int64
        public var tipCents: Int64
        /// When the ticket was completed (RFC 3339 UTC).
        public var completedAt: String
        /// The Retail station the ticket was rung up on, when the ticket says.
        public var terminal: String?
        /// The ticket's sales rep, when the ticket says.
        public var clerk: String?
        /// GP-API's entry mode (`CHIP`, `MANUAL`, ...) when the ticket's payment carries it.
        public var entryMode: String?
        /// A refund that posts (and is judged) on its own as it happens, not in this journal.
        public var postsOnItsOwn: Bool

        public init(transactionId: String, kind: Kind, ticketId: String, ticketNumber: String, brand: String, cardToken: String?,
                    amountCents: Int64, tipCents: Int64, completedAt: String, terminal: String?, clerk: String?, entryMode: String?,
                    postsOnItsOwn: Bool = false) {
            self.transactionId = transactionId
            self.kind = kind
            self.ticketId = ticketId
            self.ticketNumber = ticketNumber
            self.brand = brand
            self.cardToken = cardToken
            self.amountCents = amountCents
            self.tipCents = tipCents
            self.completedAt = completedAt
            self.terminal = terminal
            self.clerk = clerk
            self.entryMode = entryMode
            self.postsOnItsOwn = postsOnItsOwn
        }
    }

    /// The store's IANA time zone (opening hours are the store's own clock).
    public var timeZone: String
    public var transactions: [Transaction]

    public init(timeZone: String, transactions: [Transaction]) {
        self.timeZone = timeZone
        self.transactions = transactions
    }

    public var sales: [Transaction] { transactions.filter { $0.kind == .sale } }
}

/// Heartland's JSON carried through byte for byte, as a string: re-parsing it into numbers could
/// turn an amount like 12.30 into a binary double and lose a cent.
public struct RawJSON: Codable, Sendable, Equatable {
    /// The JSON. Where it was read as it stands escaped in a message's bytes (`escaped`), this unescapes it whole, a copy as
    /// large: readers of a large one (a batch event's tickets) read `escaped` instead.
    public var data: Data {
        get { escaped.map { $0.unescaped() ?? Data() } ?? text }
        set {
            text = newValue
            escaped = nil
        }
    }

    /// The JSON as it stands escaped in a message's bytes, when read from there (`BatchClosedEvent(bytes:)`); nil otherwise.
    public private(set) var escaped: EscapedJSON?

    private var text: Data

    public init(_ data: Data) { self.text = data }

    /// The JSON `escaped` holds, left where it stands.
    public init(escaped: EscapedJSON) {
        self.text = Data()
        self.escaped = escaped
    }

    public init(from decoder: any Decoder) throws {
        text = Data(try decoder.singleValueContainer().decode(String.self).utf8)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(decoding: data, as: UTF8.self))
    }

    public static func == (lhs: RawJSON, rhs: RawJSON) -> Bool { lhs.data == rhs.data }
}
