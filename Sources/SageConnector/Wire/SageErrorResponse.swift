import Foundation

/// Sage 300's error body: `{"error":{"code":"FieldInvalid","message":{"lang":"en-US","value":"..."}}}`.
struct SageErrorBody: Decodable, Sendable {
    struct Inner: Decodable, Sendable {
        struct Message: Decodable, Sendable { var value: String? }
        var code: String?
        var message: Message?
    }
    var error: Inner

    /// `(code, message)` from a body, or nil when it is not Sage's error shape.
    static func parse(_ data: Data) -> (code: String, message: String)? {
        guard let body = try? JSONDecoder().decode(SageErrorBody.self, from: data) else { return nil }
        return (body.error.code ?? "", body.error.message?.value ?? "")
    }
}

/// Turns a Sage failure (an HTTP answer, or an import file's `<code>: <message>` reason) into a `SageError`.
enum SageFailure {
    static func classify(status: Int, retryAfter: String?, body: Data, now: Date = Date()) -> SageError {
        let parsed = SageErrorBody.parse(body)
        let message = parsed?.message.nonEmpty ?? String(decoding: body.prefix(500), as: UTF8.self).nonEmpty ?? "HTTP \(status)"
        switch status {
        case 401, 403: return .unauthorized(message: message)
        case 404: return .notFound(message: message)
        case 409: return .duplicateReference(existingEntry(message))
        case 429: return .rateLimited(retryAfter: retryAfter.flatMap { parseRetryAfter($0, now: now) })
        case 500...599: return .unavailable(.status(status, message: message))
        case 408: return .unavailable(.timeout)
        default: return rejected(code: parsed?.code ?? "", message: message)
        }
    }

    /// An import rejection reason `<code>: <message>`.
    static func classify(importReason: String) -> SageError {
        let text = importReason.trimmingCharacters(in: .whitespacesAndNewlines)
        let colon = text.range(of: ": ")
        let code = colon.map { String(text[..<$0.lowerBound]) } ?? ""
        let message = colon.map { String(text[$0.upperBound...]) } ?? text
        if code == "RecordDuplicate" { return .duplicateReference(existingEntry(message)) }
        return rejected(code: code, message: message)
    }

    static func rejected(code: String, message: String) -> SageError {
        .validation(message: message, account: account(in: message))
    }

    /// The account in "Account 4010 does not exist. (...)" or "Account 4010 is inactive. (...)".
    static func account(in message: String) -> String? {
        for marker in [" does not exist", " is inactive"] {
            guard let end = message.range(of: marker, options: .caseInsensitive),
                let start = message[..<end.lowerBound].range(of: "Account ", options: [.caseInsensitive, .backwards])
            else { continue }
            let account = message[start.upperBound..<end.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
            if !account.isEmpty, !account.contains(" ") { return account }
        }
        return nil
    }

    /// "Journal entry with reference 'X' (source GL-JE) already exists in batch 000001, entry 1."
    static func existingEntry(_ message: String) -> SageExistingEntry {
        var reference = ""
        if let open = message.range(of: "reference '"), let close = message.range(of: "' ", range: open.upperBound..<message.endIndex)
            ?? message.range(of: "'", options: .backwards, range: open.upperBound..<message.endIndex)
        {
            reference = String(message[open.upperBound..<close.lowerBound])
        }
        var batch: SageBatchNumber?
        var entry: Int?
        if let range = message.range(of: "in batch ") {
            let rest = message[range.upperBound...]
            let number = rest.prefix { $0.isLetter || $0.isNumber }
            if !number.isEmpty { batch = SageBatchNumber(String(number)) }
            if let entryRange = rest.range(of: "entry ") {
                entry = Int(rest[entryRange.upperBound...].prefix { $0.isNumber })
            }
        }
        return SageExistingEntry(reference: reference, batchNumber: batch, entryNumber: entry, message: message)
    }

    /// `Retry-After`: delay seconds, or an HTTP date.
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSince(now).rounded(.up))))
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
