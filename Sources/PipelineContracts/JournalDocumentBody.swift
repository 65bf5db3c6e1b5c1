import Foundation

extension JournalDocument {
    /// Card transactions JSONEncoder is given at a time by `encodedBody()`.
    public static let transactionsEncodedAtOnce = 1_000

    /// The document's JSON as `OutboundMessage(json:)` writes it (keys sorted, dates ISO 8601), byte for byte, its card
    /// activity's transactions encoded `transactionsAtOnce` at a time and written in their place. JSONEncoder builds a tree
    /// of the whole value before it writes a byte: for a 50,000-ticket day's journal (33,544 card transactions, 12 MB of
    /// JSON) that tree took the transformer about 45 MB at once (issue 21).
    public func encodedBody(transactionsAtOnce: Int = transactionsEncodedAtOnce) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        guard let activity = cardActivity, activity.transactions.count > transactionsAtOnce else { return Array(try encoder.encode(self)) }
        var shell = self
        shell.cardActivity = CardActivity(timeZone: activity.timeZone, transactions: [])
        let encodedShell = Array(try encoder.encode(shell))
        // `"cardActivity":{"timeZone":…,"transactions":[]}`: the transactions are its last member, the `]` of its empty array
        // the second byte from the end of the activity's JSON.
        let emptyActivity = Array(#""cardActivity":"#.utf8) + Array(try encoder.encode(shell.cardActivity))
        guard let at = Self.onlyOccurrence(of: emptyActivity, in: encodedShell) else { return Array(try encoder.encode(self)) }
        let splice = at + emptyActivity.count - 2
        // Each part written into the body as it is encoded and let go: the parts are never held together beside the body
        // (12 MB more at 50,000 tickets). The body is reserved from the first part's size, with a margin; a day whose later
        // transactions run longer only grows it.
        var body: [UInt8] = []
        for start in stride(from: 0, to: activity.transactions.count, by: transactionsAtOnce) {
            let end = Swift.min(activity.transactions.count, start + transactionsAtOnce)
            // `[t1,t2,…]`: written without its brackets.
            let part = try encoder.encode(Array(activity.transactions[start..<end]))
            if start == 0 {
                let perTransaction = Double(part.count) / Double(end)
                body.reserveCapacity(encodedShell.count + Int(perTransaction * Double(activity.transactions.count) * 1.1))
                body.append(contentsOf: encodedShell[..<splice])
            } else {
                body.append(UInt8(ascii: ","))
            }
            body.append(contentsOf: part.dropFirst().dropLast())
        }
        body.append(contentsOf: encodedShell[splice...])
        return body
    }

    /// Where `needle` starts in `haystack`, when it occurs there once and only once.
    private static func onlyOccurrence(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        var found: Int?
        var index = 0
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) {
                if found != nil { return nil }
                found = index
            }
            index += 1
        }
        return found
    }
}
