import ConnectorHTTP
import Foundation
import Logging
import Metrics

/// One request to the Sage Web API over the process's shared connection pool (`ConnectorTransport`, AsyncHTTPClient),
/// with every failure turned into a `SageError`: transport errors and 5xx are `.unavailable`, 4xx are classified from
/// Sage's error body.
final class SageHTTPTransport: Sendable {
    typealias Answer = ConnectorTransport.Answer

    let connection: SageConnection
    let logger: Logger
    private let connector: ConnectorTransport

    init(connection: SageConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
        connector = ConnectorTransport(settings: HTTPPoolSettings(connectionsPerHost: connection.connectionsPerHost, timeout: connection.timeout))
    }

    /// `resource` is relative to the company URL and may carry an already-encoded query.
    func send(_ method: String, _ resource: String, body: Data? = nil) async throws(SageError) -> Answer {
        guard let url = URL(string: resource, relativeTo: connection.companyURL)?.absoluteURL else {
            throw .validation(message: "'\(resource)' is not a valid Sage resource path", account: nil)
        }
        return try await send(method, url: url, body: body)
    }

    /// A read (GET) that Sage answers 500, 502, 503 or 504, or whose connection is refused or dropped, is asked again up to
    /// `connection.readRetries` times (`ReadRetry`). Only a read: Sage keeps no unique key, so a post sent twice can post
    /// twice, and the loader's lookups decide instead.
    func send(_ method: String, url: URL, body: Data? = nil) async throws(SageError) -> Answer {
        guard method == "GET" else { return try await sendOnce(method, url: url, body: body) }
        let retried = { (outcome: Result<Answer, SageError>, retry: Int) in
            Counter(label: "bridge_sage_read_retries_total").increment()
            self.logger.debug("sage read failed; asking again", metadata: ["path": "\(url.path)", "outcome": "\(outcome)", "retry": "\(retry)"])
        }
        return try await ReadRetry.run(retries: connection.readRetries, askAgain: Self.worthAskingAgain, retried: retried) {
            () async throws(SageError) -> Answer in try await sendOnce(method, url: url, body: body)
        }
    }

    /// A 5xx that a gateway or a busy server gives for a while, or a connection refused or dropped.
    static func worthAskingAgain(_ outcome: Result<Answer, SageError>) -> Bool {
        switch outcome {
        case .failure(.unavailable(.status(let status, _))): ReadRetry.statuses.contains(status)
        case .failure(.unavailable(.connection)): true
        default: false
        }
    }

    private func sendOnce(_ method: String, url: URL, body: Data?) async throws(SageError) -> Answer {
        guard url.scheme == connection.companyURL.scheme, url.host == connection.companyURL.host, url.port == connection.companyURL.port else {
            // Never send the credentials anywhere but the configured server (e.g. a foreign nextLink).
            throw .unavailable(.malformedResponse("link to another server: \(url.absoluteString)"))
        }
        var headers = [("Authorization", connection.credentials.authorizationHeader), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let started = ContinuousClock.now
        let answer: Answer
        do {
            answer = try await connector.send(method, url, headers: headers, body: body)
        } catch let failure as ConnectorTransport.Failure {
            logger.warning("sage request failed", metadata: ["method": "\(method)", "path": "\(url.path)", "error": "\(failure)"])
            throw Self.classify(failure)
        } catch {
            // Only cancellation is left: the caller's task was cancelled (shutdown); the outcome of a post is unknown.
            throw .unavailable(.connection("request cancelled"))
        }
        logger.debug("sage request", metadata: [
            "method": "\(method)", "path": "\(url.path)", "status": "\(answer.status)", "elapsed": "\(ContinuousClock.now - started)",
        ])
        guard (200..<300).contains(answer.status) else {
            throw SageFailure.classify(status: answer.status, retryAfter: answer.header("Retry-After"), body: answer.body)
        }
        return answer
    }

    /// Decodes a 2xx body; a body that does not decode is `.unavailable(.malformedResponse)`.
    func decode<T: Decodable>(_ type: T.Type, from answer: Answer, what: String) throws(SageError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: answer.body)
        } catch {
            throw .unavailable(.malformedResponse("\(what): \(answer.body.count) bytes that are not the expected JSON"))
        }
    }

    static func classify(_ failure: ConnectorTransport.Failure) -> SageError {
        switch failure.kind {
        case .timedOut: .unavailable(.timeout)
        default: .unavailable(.connection("\(failure)"))
        }
    }
}
