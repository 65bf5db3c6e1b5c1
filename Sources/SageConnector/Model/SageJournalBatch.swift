import Foundation

/// A GL journal batch as the bridge posts it: batch → entries (Sage "headers") → lines (Sage
/// "details"). Amounts are Int64 cents, signed the way Sage sums them: debit positive, credit negative.
public struct SageJournalBatch: Sendable, Hashable {
    public var description: String
    public var sourceLedger: String
    public var entries: [SageJournalEntry]

    public init(description: String, sourceLedger: String = "GL", entries: [SageJournalEntry]) {
        self.description = description
        self.sourceLedger = sourceLedger
        self.entries = entries
    }

    /// The external reference of the first entry: what names the batch for duplicate checks.
    public var reference: String? { entries.first?.reference }
}

/// One journal entry. `reference` is written to the header's `DocumentNumber` (and to every line's
/// `Reference`) because Sage has no GL idempotency key; the bridge looks it up before posting.
public struct SageJournalEntry: Sendable, Hashable {
    public var reference: String
    public var postingDate: SageDate
    public var description: String
    public var sourceType: String
    public var lines: [SageJournalLine]

    public init(
        reference: String, postingDate: SageDate, description: String, sourceType: String = "JE", lines: [SageJournalLine]
    ) {
        self.reference = reference
        self.postingDate = postingDate
        self.description = description
        self.sourceType = sourceType
        self.lines = lines
    }

    public var debits: Int64 { lines.reduce(0) { $0 + max($1.amountCents, 0) } }
    public var credits: Int64 { lines.reduce(0) { $0 - min($1.amountCents, 0) } }
}

/// One journal line: an account and a signed amount in cents (debit positive, credit negative).
public struct SageJournalLine: Sendable, Hashable {
    public var account: String
    public var amountCents: Int64
    public var description: String
    public var comment: String

    public init(account: String, amountCents: Int64, description: String = "", comment: String = "") {
        self.account = account
        self.amountCents = amountCents
        self.description = description
        self.comment = comment
    }

    public static func debit(_ account: String, _ cents: Int64, _ description: String = "") -> SageJournalLine {
        SageJournalLine(account: account, amountCents: cents, description: description)
    }

    public static func credit(_ account: String, _ cents: Int64, _ description: String = "") -> SageJournalLine {
        SageJournalLine(account: account, amountCents: -cents, description: description)
    }
}

/// A posting date. Sage 300's Web API takes ISO 8601 (`2026-11-27`); the bridge's documents carry
/// `MM/DD/YYYY`, so both parse.
public struct SageDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `2026-11-27`, or the date part of `2026-11-27T00:00:00Z`.
    public init?(iso text: String) {
        let parts = text.prefix(10).split(separator: "-")
        guard text.count >= 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// `11/27/2026`.
    public init?(mmddyyyy text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, parts[2].count == 4,
            let m = Int(parts[0]), let d = Int(parts[1]), let y = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// `2026-11-27`: what goes on the wire.
    public var iso: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }
    /// `11/27/2026`.
    public var mmddyyyy: String { "\(pad(month, 2))/\(pad(day, 2))/\(pad(year, 4))" }
    public var description: String { iso }

    public static func < (a: SageDate, b: SageDate) -> Bool { a.iso < b.iso }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// The batch number Sage assigns (`000001`): not to be confused with a Heartland batch id.
public struct SageBatchNumber: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}
