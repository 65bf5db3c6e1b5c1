/// Every failure of a `SageClient`, classified so the stage runner can map it: `isTransient`
/// failures are retried (after `retryAfter` when given), the others are dead-lettered.
public enum SageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Sage already holds an entry with this external reference (HTTP 409 / import `RecordDuplicate`).
    case duplicateReference(SageExistingEntry)
    /// Sage refused the data (HTTP 400 / import rejection): unbalanced, closed period, bad field,
    /// or a GL account that does not exist or is inactive (then `account` names it). Permanent.
    case validation(message: String, account: String?)
    /// Credentials refused (HTTP 401/403). Permanent until the configuration is fixed.
    case unauthorized(message: String)
    /// The record asked for does not exist (HTTP 404), or the company does not.
    case notFound(message: String)
    /// HTTP 429. Transient: wait `retryAfter` (from the `Retry-After` header) before retrying.
    case rateLimited(retryAfter: Duration?)
    /// Sage could not be reached or answered nonsense. Transient.
    case unavailable(SageUnavailability)

    public var isTransient: Bool {
        switch self {
        case .rateLimited, .unavailable: return true
        case .duplicateReference, .validation, .unauthorized, .notFound: return false
        }
    }

    public var retryAfter: Duration? {
        if case .rateLimited(let after) = self { return after }
        return nil
    }

    public var description: String {
        switch self {
        case .duplicateReference(let existing):
            return "Sage already holds a journal entry with reference '\(existing.reference)'"
                + (existing.batchNumber.map { " in batch \($0)" } ?? "")
                + (existing.entryNumber.map { ", entry \($0)" } ?? "") + "; it was posted before, do not post it again"
        case .validation(let message, let account?):
            return "Sage rejected the journal: GL account \(account) is missing or inactive (\(message)); "
                + "create or activate it in Sage, or change the mapping, then replay the dead letter"
        case .validation(let message, nil):
            return "Sage rejected the journal: \(message)"
        case .unauthorized(let message):
            return "Sage refused the credentials (\(message)); check the configured Sage user and password"
        case .notFound(let message):
            return "Sage has no such record: \(message)"
        case .rateLimited(let after?):
            return "Sage rate limit exceeded; retry after \(after)"
        case .rateLimited(nil):
            return "Sage rate limit exceeded"
        case .unavailable(let why):
            return "Sage unavailable: \(why)"
        }
    }
}

/// Where Sage says the earlier entry with the same reference lives (parsed from its message).
public struct SageExistingEntry: Sendable, Hashable {
    public var reference: String
    public var batchNumber: SageBatchNumber?
    public var entryNumber: Int?
    public var message: String

    public init(reference: String, batchNumber: SageBatchNumber?, entryNumber: Int?, message: String) {
        self.reference = reference
        self.batchNumber = batchNumber
        self.entryNumber = entryNumber
        self.message = message
    }
}

/// Why Sage was unavailable.
public enum SageUnavailability: Sendable, Hashable, CustomStringConvertible {
    /// A 5xx answer (503 downtime, 502, 504 gateway timeout...).
    case status(Int, message: String)
    /// No answer within the configured timeout.
    case timeout
    /// Could not connect, or the connection dropped.
    case connection(String)
    /// An answer that was not the JSON expected (cut short, wrong shape).
    case malformedResponse(String)
    /// File mode: the import file was neither processed nor rejected before the deadline.
    case importPending(file: String)

    public var description: String {
        switch self {
        case .status(let code, let message): return "HTTP \(code): \(message)"
        case .timeout: return "no answer before the timeout"
        case .connection(let detail): return "connection failed: \(detail)"
        case .malformedResponse(let detail): return "malformed response: \(detail)"
        case .importPending(let file): return "import file \(file) was not picked up before the deadline; is the Sage import running?"
        }
    }
}
