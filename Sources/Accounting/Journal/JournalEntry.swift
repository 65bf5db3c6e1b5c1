/// A balanced GL journal entry ready for Sage: one per store business day or payroll run.
/// Only `JournalEntry.balanced` creates one, so an unbalanced entry cannot exist.
public struct JournalEntry: Hashable, Sendable, Codable {
    public enum Source: String, Hashable, Sendable, Codable {
        case settlement
        case payroll
        /// A card refund posted on its own, as it happens (see `Ticket.postsAsRealTimeRefund`).
        case refund
    }

    public let source: Source
    /// The external reference Sage stores and the loader checks before posting,
    /// e.g. `HL-1-20261127-BAT_20261127_01`.
    public let reference: String
    /// The key the loader's ledger deduplicates on, e.g. `heartland:batch:BAT_20261127_01`.
    public let idempotencyKey: String
    public let postingDate: BusinessDate
    public let description: String
    public let currency: CurrencyCode
    public let lines: [JournalLine]

    /// `MM/DD/YYYY`, as Sage expects the entry date.
    public var sagePostingDate: String { postingDate.sageFormat }

    public var totalDebits: Int64 { lines.reduce(0) { $0 + $1.debitCents } }
    public var totalCredits: Int64 { lines.reduce(0) { $0 + $1.creditCents } }

    /// Net per account, debit positive, as Sage's signed `Amount` adds up.
    public var netByAccount: [AccountNumber: Int64] {
        lines.reduce(into: [:]) { $0[$1.account, default: 0] += $1.signedCents }
    }

    /// Builds the entry or throws when debits and credits differ by even one cent, or when
    /// a total does not fit in 64 bits. Nothing is adjusted.
    public static func balanced(
        source: Source, reference: String, idempotencyKey: String, postingDate: BusinessDate,
        description: String, currency: CurrencyCode, lines: [JournalLine]
    ) throws(PostingError) -> JournalEntry {
        var debits: Int64 = 0
        var credits: Int64 = 0
        for line in lines {
            guard line.amount.currency == currency else {
                throw .currencyMismatch(record: "journal \(reference) line \(line.account)", found: line.amount.currency, expected: currency)
            }
            guard line.amount.minorUnits > 0 else {
                throw .invalidData(record: "journal \(reference) line \(line.account)", problem: "has a non-positive amount \(line.amount)")
            }
            let (sum, overflow) = line.side == .debit
                ? debits.addingReportingOverflow(line.amount.minorUnits)
                : credits.addingReportingOverflow(line.amount.minorUnits)
            guard !overflow else { throw .overflow(record: "journal \(reference)", detail: "total \(line.side.rawValue)s exceed 64-bit cents") }
            if line.side == .debit { debits = sum } else { credits = sum }
        }
        guard debits == credits else {
            throw .unbalanced(reference: reference, debits: debits, credits: credits)
        }
        guard !lines.isEmpty else {
            throw .invalidData(record: "journal \(reference)", problem: "has no lines; there is nothing to post")
        }
        return JournalEntry(source: source, reference: reference, idempotencyKey: idempotencyKey, postingDate: postingDate,
                            description: description, currency: currency, lines: lines)
    }

    private enum CodingKeys: String, CodingKey {
        case source, reference, idempotencyKey, postingDate, description, currency, lines
    }

    /// A journal read from a message is held to the same rules as one built here: balanced, every amount
    /// positive, totals within 64 bits, at least one line. Anything else is not a journal.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let reference = try container.decode(String.self, forKey: .reference)
        do {
            self = try Self.balanced(
                source: try container.decode(Source.self, forKey: .source), reference: reference,
                idempotencyKey: try container.decode(String.self, forKey: .idempotencyKey),
                postingDate: try container.decode(BusinessDate.self, forKey: .postingDate),
                description: try container.decode(String.self, forKey: .description),
                currency: try container.decode(CurrencyCode.self, forKey: .currency),
                lines: try container.decode([JournalLine].self, forKey: .lines))
        } catch let error as PostingError {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath, debugDescription: error.description))
        }
    }

    private init(source: Source, reference: String, idempotencyKey: String, postingDate: BusinessDate, description: String,
                 currency: CurrencyCode, lines: [JournalLine]) {
        self.source = source
        self.reference = reference
        self.idempotencyKey = idempotencyKey
        self.postingDate = postingDate
        self.description = description
        self.currency = currency
        self.lines = lines
    }
}

public struct JournalLine: Hashable, Sendable, Codable {
    public enum Side: String, Hashable, Sendable, Codable {
        case debit
        case credit
    }

    public var account: AccountNumber
    /// The mapping rule that chose the account, for errors such as "account does not exist".
    public var rule: String
    public var description: String
    public var side: Side
    /// Always positive; `side` says which column.
    public var amount: Money

    public init(account: AccountNumber, rule: String, description: String, side: Side, amount: Money) {
        self.account = account
        self.rule = rule
        self.description = description
        self.side = side
        self.amount = amount
    }

    public var debitCents: Int64 { side == .debit ? amount.minorUnits : 0 }
    public var creditCents: Int64 { side == .credit ? amount.minorUnits : 0 }
    /// Debit positive, credit negative (Sage `JournalDetails.Amount`).
    public var signedCents: Int64 { side == .debit ? amount.minorUnits : -amount.minorUnits }
}
