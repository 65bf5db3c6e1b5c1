import Foundation
import Messaging

/// Every failure the connector reports, classified for the stage runner: `rateLimited` and
/// `unavailable` are transient (retry, honouring `retryAfter`), the rest are permanent.
public enum HeartlandError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 429: wait `retryAfter` (from the `Retry-After` header) before the next call.
    case rateLimited(retryAfter: Duration?)
    /// 5xx, timeouts, refused or dropped connections, bodies that are not the JSON promised.
    case unavailable(String)
    /// Credentials were refused (bad app id/key, or a token refused even after a refresh).
    case unauthorized(String)
    /// The resource does not exist (404).
    case notFound(String)
    /// A request the API rejected (other 4xx) or a well-formed answer that does not fit the
    /// documented shape; retrying will not help.
    case invalidResponse(String)

    public var isTransient: Bool {
        switch self {
        case .rateLimited, .unavailable: true
        case .unauthorized, .notFound, .invalidResponse: false
        }
    }

    public var description: String {
        switch self {
        case .rateLimited(let retryAfter):
            "Heartland rate limit exceeded (429); retry after \(retryAfter.map { "\($0.components.seconds) s" } ?? "a backoff")"
        case .unavailable(let detail): "Heartland unavailable: \(detail)"
        case .unauthorized(let detail): "Heartland refused the credentials: \(detail)"
        case .notFound(let detail): "Heartland resource not found: \(detail)"
        case .invalidResponse(let detail): "Heartland answer rejected: \(detail)"
        }
    }
}

extension HeartlandError {
    /// Parses `Retry-After`: whole seconds or an HTTP date.
    static func retryAfter(_ header: String?, now: Date = Date()) -> Duration? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Int64(header) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: header) else { return nil }
        return .seconds(max(0, Int64(date.timeIntervalSince(now).rounded(.up))))
    }

    /// Classifies an HTTP status and body (GP-API `{error_code, detailed_error_code,
    /// detailed_error_description}` or Retail `{message}`). The detail is masked here, where the error is
    /// built: an error body can echo a card number (a rejected field, a gateway message), and the error
    /// goes on to logs, the ingest inbox's error column and alerts.
    static func from(status: Int, body: Data, retryAfterHeader: String?, what: String) -> HeartlandError {
        let detail = CardMask.mask("\(what): HTTP \(status) \(errorSummary(body))")
        switch status {
        case 429: return .rateLimited(retryAfter: retryAfter(retryAfterHeader))
        case 401, 403: return .unauthorized(detail)
        case 404: return .notFound(detail)
        case 408, 500...599: return .unavailable(detail)
        default: return .invalidResponse(detail)
        }
    }

    /// The error's own words, card numbers masked.
    static func errorSummary(_ body: Data) -> String {
        struct Body: Decodable {
            var error_code: String?
            var detailed_error_code: String?
            var detailed_error_description: String?
            var message: String?
        }
        if let parsed = try? JSONDecoder().decode(Body.self, from: body) {
            let parts = [parsed.error_code, parsed.detailed_error_code, parsed.detailed_error_description ?? parsed.message]
            let text = parts.compactMap { $0 }.joined(separator: " ")
            if !text.isEmpty { return CardMask.mask(text) }
        }
        // Masked before it is cut: a cut through a card number would leave digits no rule recognises.
        return String(CardMask.mask(String(decoding: body, as: UTF8.self)).prefix(200))
    }
}
