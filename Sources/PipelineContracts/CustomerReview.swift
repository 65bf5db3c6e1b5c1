import Foundation

// Uncertain customer matches of the two-way sync: a loader holds the command it cannot apply without
// a person (`CustomerReviewNotice` on `bridge.audit`, key `audit.customer_review.<stage>`), the
// alerter keeps one review item per set of records whichever loader found it, and the console
// sends the person's decision back to both loaders (`CustomerMatchDecision` on `bridge.commands`,
// keys `sage.customer.decision` and `heartland.customer.decision`) with the held commands.

/// A customer as a review page shows it.
public struct ReviewedCustomer: Codable, Sendable, Hashable {
    /// `sage` or `heartland`.
    public var side: String
    /// Sage's `CustomerNumber` or Heartland's `public_id` (Customer #).
    public var number: String
    public var name: String
    public var email: String?
    public var phone: String?
    /// What ties it to the customer being synced (empty for that customer).
    public var evidence: String?

    public init(side: String, number: String, name: String, email: String?, phone: String?, evidence: String? = nil) {
        self.side = side
        self.number = number
        self.name = name
        self.email = email
        self.phone = phone
        self.evidence = evidence
    }

    /// `sage:1200`, `heartland:C00002`.
    public var reference: String { "\(side):\(number)" }
}

/// A command a loader held because the customer in it may already exist on its side.
public struct HeldCommand: Codable, Sendable, Hashable {
    public var routingKey: String
    /// The command's JSON body, as received.
    public var body: String
    public var idempotencyKey: String
    public var messageId: String
    public var correlationId: String?

    public init(routingKey: String, body: String, idempotencyKey: String, messageId: String, correlationId: String?) {
        self.routingKey = routingKey
        self.body = body
        self.idempotencyKey = idempotencyKey
        self.messageId = messageId
        self.correlationId = correlationId
    }
}

/// `bridge.customer_review.v1`: a customer that may already exist on the other side, its candidates
/// with the evidence, and the command held until a person decides.
public struct CustomerReviewNotice: Codable, Sendable, Equatable {
    public static let schema = "bridge.customer_review.v1"
    public var schema = CustomerReviewNotice.schema
    /// The same for every direction in which these records meet: the sorted references of the customer and its candidates.
    public var reviewId: String
    public var stage: String
    public var customer: ReviewedCustomer
    public var candidates: [ReviewedCustomer]
    /// Why the match is uncertain, in words.
    public var reason: String
    public var held: HeldCommand
    public var at: String

    public init(stage: String, customer: ReviewedCustomer, candidates: [ReviewedCustomer], reason: String, held: HeldCommand, at: String) {
        reviewId = Self.reviewId(customer: customer, candidates: candidates)
        self.stage = stage
        self.customer = customer
        self.candidates = candidates
        self.reason = reason
        self.held = held
        self.at = at
    }

    public static func reviewId(customer: ReviewedCustomer, candidates: [ReviewedCustomer]) -> String {
        Set(([customer] + candidates).map(\.reference)).sorted().joined(separator: "|")
    }
}

/// What a person decided about a review item.
public enum MatchVerdict: String, Codable, Sendable {
    /// The records are one person: link them; the held commands update the twin.
    case same
    /// They are different people: never match them again; the held commands create new records.
    case different
}

/// `bridge.customer_decision.v1`, to both loaders.
public struct CustomerMatchDecision: Codable, Sendable, Equatable {
    public static let schema = "bridge.customer_decision.v1"
    public struct Pair: Codable, Sendable, Hashable {
        public var heartland: String
        public var sage: String
        public init(heartland: String, sage: String) {
            self.heartland = heartland
            self.sage = sage
        }
    }
    public var schema = CustomerMatchDecision.schema
    public var reviewId: String
    public var verdict: MatchVerdict
    /// `same`: the pairs to link; `different`: the pairs that are not one person.
    public var pairs: [Pair]
    public var by: String
    public var why: String?

    public init(reviewId: String, verdict: MatchVerdict, pairs: [Pair], by: String, why: String?) {
        self.reviewId = reviewId
        self.verdict = verdict
        self.pairs = pairs
        self.by = by
        self.why = why
    }

    /// Header that carries the decision on a released held command, so that the loader applies it first.
    public static let header = "x-customer-decision"
}
