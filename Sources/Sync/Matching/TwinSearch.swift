import Foundation
import Messaging
import PipelineContracts
import SyncContracts

/// Finds the record a customer already has on the loader's side, if any: a remembered link, then the
/// `CustomerIndex` (refreshed from the side's changes first) for candidates sharing an e-mail, a phone
/// or a local number, then `CustomerMatcher` to decide what the candidates mean. An uncertain match
/// throws `CustomerReviewHold`. Searches run one at a time (`CustomerIndex.searches`), together with
/// the creation that follows a miss, so that two records of one person arriving together do not both
/// create a customer.
public struct TwinSearch: Sendable {
    let index: CustomerIndex
    let links: CustomerLinks
    let matcher: CustomerMatcher
    /// Reads the side's customers changed since a watermark (all of them for nil).
    let changed: @Sendable (String?) async throws -> [SyncCustomer]

    public init(index: CustomerIndex, links: CustomerLinks, matcher: CustomerMatcher, changed: @escaping @Sendable (String?) async throws -> [SyncCustomer]) {
        self.index = index
        self.links = links
        self.matcher = matcher
        self.changed = changed
    }

    var side: SyncSide { index.side }

    public enum Found: Sendable {
        /// The twin's number on this side, and why.
        case twin(number: String, id: String, because: String)
        case none
    }

    /// The linked or matching customer on this side for `record` (from the other side).
    public func find(_ record: SyncCustomer) async throws -> Found {
        if let linked = try await linkedNumber(record) { return .twin(number: linked, id: "", because: "linked to \(record.side.rawValue) \(record.number)") }
        try await index.refresh(changed)
        let distinct = try await index.distinct(from: record)
        let candidates = try await index.candidates(for: record).filter { !distinct.contains($0.number) }
        switch matcher.match(record.matchable, among: candidates.map(\.matchable)) {
        case .existing(let id, _, let because):
            guard let twin = candidates.first(where: { $0.id == id }) else { return .none }
            try await link(record, twin, because: because)
            return .twin(number: twin.number, id: twin.id, because: "matched: \(because)")
        case .review(let ids, let because):
            let held = candidates.filter { ids.contains($0.id) }
            throw CustomerReviewHold(record: record, candidates: held, because: because, target: side,
                                     evidence: Dictionary(held.map { ($0.id, CustomerMatcher.evidence(record.matchable, $0.matchable)) },
                                                          uniquingKeysWith: { a, _ in a }))
        case .new:
            return .none
        }
    }

    /// Brings the index up to date now (the first time: reads every customer of the side). Returns the records read.
    @discardableResult
    public func warm() async throws -> Int { try await index.refresh(changed) }

    /// Runs a search and what follows it (an update or a creation) before the next search starts.
    func serially<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await index.searches.withLock("search", body)
    }

    /// Records a person's decision: linked pairs, or pairs that never match again.
    func apply(_ decision: CustomerMatchDecision) async throws {
        for pair in decision.pairs {
            switch decision.verdict {
            case .same:
                try await links.link(heartland: pair.heartland, sage: pair.sage, because: "decided the same person by \(decision.by) (review \(decision.reviewId))")
            case .different:
                try await index.markDistinct(heartland: pair.heartland, sage: pair.sage, by: decision.by)
            }
        }
    }

    private func linkedNumber(_ record: SyncCustomer) async throws -> String? {
        switch record.side {
        case .heartland: return try await links.sage(forHeartland: record.number)
        case .sage: return try await links.heartland(forSage: record.number)
        }
    }

    private func link(_ record: SyncCustomer, _ twin: SyncCustomer, because: String) async throws {
        switch record.side {
        case .heartland: try await links.link(heartland: record.number, sage: twin.number, because: because)
        case .sage: try await links.link(heartland: twin.number, sage: record.number, because: because)
        }
    }
}

/// A customer that may already exist on the loader's side: the command waits for a person.
struct CustomerReviewHold: Error, CustomStringConvertible {
    let customer: ReviewedCustomer
    let candidates: [ReviewedCustomer]
    let reason: String

    var reviewId: String { CustomerReviewNotice.reviewId(customer: customer, candidates: candidates) }
    var description: String { reason }

    init(record: SyncCustomer, candidates: [SyncCustomer], because: String, target: SyncSide, evidence: [String: CustomerMatcher.Evidence]) {
        customer = Self.reviewed(record, evidence: nil)
        self.candidates = candidates.map { Self.reviewed($0, evidence: evidence[$0.id].map { "same \($0.description)" }) }
        let reviewId = CustomerReviewNotice.reviewId(customer: customer, candidates: self.candidates)
        let others = self.candidates.map { "\($0.number) (\($0.name), \($0.email ?? "no e-mail"), \($0.phone ?? "no phone"))" }
        reason = "customer review required: \(record.side.displayName) customer \(record.number) (\(customer.name), \(customer.email ?? "no e-mail"), "
            + "\(customer.phone ?? "no phone")) may already exist in \(target.displayName) as \(others.joined(separator: ", ")): "
            + "\(because.replacingOccurrences(of: "\t", with: " ")). Nothing was created or changed. Decide on the console's customer "
            + "match page (/matches/\(reviewId)): the same person links them, different people creates the customer"
    }

    static func reviewed(_ record: SyncCustomer, evidence: String?) -> ReviewedCustomer {
        let name = PersonName.from(first: record.firstName, last: record.lastName)
        let shown = [record.firstName, record.lastName].compactMap { ContactKeys.shown($0) }.joined(separator: " ")
        return ReviewedCustomer(side: record.side.rawValue, number: record.number, name: name.isCompany ? (ContactKeys.shown(record.lastName) ?? shown) : shown,
                                email: ContactKeys.shown(record.email), phone: ContactKeys.shown(record.phone), evidence: evidence)
    }
}

extension SyncSide {
    /// `Sage`, `Heartland`.
    var displayName: String { self == .sage ? "Sage" : "Heartland" }
}
