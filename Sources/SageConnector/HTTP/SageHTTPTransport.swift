import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One request to the Sage Web API, with every failure turned into a `SageError`: transport
/// errors and 5xx are `.unavailable`, 4xx are classified from Sage's error body.
final class SageHTTPTransport: Sendable {
    struct Answer: Sendable {
        let status: Int
        let body: Data
    }

    let connection: SageConnection
    let logger: Logger
    private let session: URLSession

    init(connection: SageConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
        let configuration = URLSessionConfiguration.ephemeral
        let seconds = Self.seconds(connection.timeout)
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// `resource` is relative to the company URL and may carry an already-encoded query.
    func send(_ method: String, _ resource: String, body: Data? = nil) async throws(SageError) -> Answer {
        guard let url = URL(string: resource, relativeTo: connection.companyURL)?.absoluteURL else {
            throw .validation(message: "'\(resource)' is not a valid Sage resource path", account: nil)
        }
        return try await send(method, url: url, body: body)
    }

    func send(_ method: String, url: URL, body: Data? = nil) async throws(SageError) -> Answer {
        guard url.host == connection.companyURL.host, url.port == connection.companyURL.port else {
            // Never send the credentials anywhere but the configured server (e.g. a foreign nextLink).
            throw .unavailable(.malformedResponse("link to another server: \(url.absoluteString)"))
        }
        var request = URLRequest(url: url, timeoutInterval: Self.seconds(connection.timeout))
        request.httpMethod = method
        request.setValue(connection.credentials.authorizationHeader, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let started = ContinuousClock.now
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError {
            logger.warning("sage request failed", metadata: ["method": "\(method)", "path": "\(url.path)", "error": "\(error.code.rawValue)"])
            throw Self.classify(error)
        } catch {
            throw .unavailable(.connection("\(error)"))
        }
        guard let http = response as? HTTPURLResponse else {
            throw .unavailable(.malformedResponse("not an HTTP response"))
        }
        logger.debug("sage request", metadata: [
            "method": "\(method)", "path": "\(url.path)", "status": "\(http.statusCode)", "elapsed": "\(ContinuousClock.now - started)",
        ])
        guard (200..<300).contains(http.statusCode) else {
            throw SageFailure.classify(status: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After"), body: data)
        }
        return Answer(status: http.statusCode, body: data)
    }

    /// Decodes a 2xx body; a body that does not decode is `.unavailable(.malformedResponse)`.
    func decode<T: Decodable>(_ type: T.Type, from answer: Answer, what: String) throws(SageError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: answer.body)
        } catch {
            throw .unavailable(.malformedResponse("\(what): \(answer.body.count) bytes that are not the expected JSON"))
        }
    }

    static func classify(_ error: URLError) -> SageError {
        switch error.code {
        case .timedOut: return .unavailable(.timeout)
        case .userAuthenticationRequired: return .unauthorized(message: "the server asked for authentication")
        default: return .unavailable(.connection("URLError \(error.code.rawValue): \(error.localizedDescription)"))
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
