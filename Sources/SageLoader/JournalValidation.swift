import Accounting
import Foundation
import Messaging
import SageConnector

/// What the loader checks before a journal goes to Sage, beyond what decoding a `JournalEntry` already
/// guarantees (balanced, amounts positive, totals within 64 bits, at least one line): every account is one
/// the mapping knows, the currency is the company's, and the posting date is a plausible one. A journal
/// that fails is a permanent error with the reason: parked, never posted.
public struct JournalValidation: Sendable {
    public var knownAccounts: Set<AccountNumber>
    public var currency: CurrencyCode?
    /// How far from today a posting date may be.
    public var postingWindowDays: Int
    public var now: @Sendable () -> Date

    public init(rules: MappingRules, postingWindowDays: Int = 730, now: @escaping @Sendable () -> Date = { Date() }) {
        knownAccounts = Set(rules.accounts.keys)
        currency = rules.currency
        self.postingWindowDays = postingWindowDays
        self.now = now
    }

    public func check(_ journal: JournalEntry) throws {
        let unknown = Set(journal.lines.map(\.account)).subtracting(knownAccounts).map(\.rawValue).sorted()
        guard unknown.isEmpty else {
            throw StageError.permanent("\(journal.reference) names GL account(s) \(unknown.joined(separator: ", ")) that the mapping's chart "
                + "does not list; nothing was posted. Add them to Config/mapping.yaml (accounts) or fix the rule, then replay")
        }
        if let currency, journal.currency != currency {
            throw StageError.permanent("\(journal.reference) is in \(journal.currency) but the Sage company posts in \(currency); nothing was posted")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = journal.postingDate
        let posting = calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: 12))!
        let days = abs(posting.timeIntervalSince(now())) / 86_400
        guard days <= Double(postingWindowDays) else {
            throw StageError.permanent("\(journal.reference) has posting date \(date.iso), \(Int(days)) days from today (at most "
                + "\(postingWindowDays)); a date that far off is a wrong source record, not a late one. Nothing was posted")
        }
    }
}
