import ConnectorHTTP
import Foundation
import Logging
import Messaging
import Metrics

/// One HTTP exchange with Heartland over the process's shared connection pool (`ConnectorTransport`, AsyncHTTPClient),
/// with transport failures already classified: the only errors it throws are `HeartlandError.unavailable` and
/// `CancellationError`. A read (GET) answered 500, 502, 503 or 504, or whose connection was refused or dropped, is asked
/// again up to `readRetries` times (`ReadRetry`, as Sage's reads are); a post, a put or the token's request never.
struct HTTPTransport: Sendable {
    typealias Answer = ConnectorTransport.Answer

    let connector: ConnectorTransport
    let readRetries: Int
    let logger: Logger

    init(timeout: Duration, connectionsPerHost: Int = HTTPPoolSettings.defaultConnectionsPerHost, readRetries: Int, logger: Logger) {
        connector = ConnectorTransport(settings: HTTPPoolSettings(connectionsPerHost: connectionsPerHost, timeout: timeout))
        self.readRetries = readRetries
        self.logger = logger
    }

    func send(_ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil, what: String)
        async throws -> Answer
    {
        var fields = [("Accept", "application/json")]
        if body != nil { fields.append(("Content-Type", "application/json")) }
        fields += headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let retried = { (outcome: Result<Answer, any Error>, retry: Int) in
            Counter(label: "bridge_heartland_read_retries_total").increment()
            let failed = (try? outcome.get()).map { "status \($0.status)" } ?? "\(outcome)"
            logger.debug("heartland read failed; asking again", metadata: ["request": "\(what)", "outcome": "\(failed)", "retry": "\(retry)"])
        }
        do {
            return try await ReadRetry.run(retries: method == "GET" ? readRetries : 0, askAgain: Self.worthAskingAgain, retried: retried) {
                try await connector.send(method, url, headers: fields, body: body)
            }
        } catch let failure as ConnectorTransport.Failure {
            throw HeartlandError.unavailable("\(what): \(failure)")
        }
    }

    /// A 5xx a gateway or a busy server gives for a while, or a connection refused or dropped (`ReadRetry`).
    static func worthAskingAgain(_ outcome: Result<Answer, any Error>) -> Bool {
        switch outcome {
        case .success(let answer): ReadRetry.statuses.contains(answer.status)
        case .failure(let failure as ConnectorTransport.Failure): ReadRetry.worthAskingAgain(failure)
        case .failure: false
        }
    }
}

extension ConnectorTransport.Answer {
    /// The body of a 2xx answer with card numbers masked (`CardMask.scrub`), for every Heartland body the
    /// bridge decodes; any other status as a classified `HeartlandError`, its detail masked too.
    func checkedBody(what: String, logger: Logger) throws -> Data {
        guard (200...299).contains(status) else {
            let error = HeartlandError.from(status: status, body: body, retryAfterHeader: header("Retry-After"), what: what)
            logger.warning("heartland request failed", metadata: ["request": "\(what)", "error": "\(error)"])
            throw error
        }
        let (scrubbed, masked) = CardMask.scrub(body)
        if masked > 0 {
            logger.warning("masked card numbers in a Heartland answer", metadata: ["request": "\(what)", "count": "\(masked)"])
        }
        return scrubbed
    }
}
