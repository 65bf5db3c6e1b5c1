import ConnectorHTTP
import Foundation
import Logging
import Messaging

/// One HTTP exchange with Heartland over the process's shared connection pool (`ConnectorTransport`, AsyncHTTPClient),
/// with transport failures already classified: the only errors it throws are `HeartlandError.unavailable` and
/// `CancellationError`.
struct HTTPTransport: Sendable {
    typealias Answer = ConnectorTransport.Answer

    let connector: ConnectorTransport

    init(timeout: Duration, connectionsPerHost: Int = HTTPPoolSettings.defaultConnectionsPerHost) {
        connector = ConnectorTransport(settings: HTTPPoolSettings(connectionsPerHost: connectionsPerHost, timeout: timeout))
    }

    func send(_ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil, what: String)
        async throws -> Answer
    {
        var fields = [("Accept", "application/json")]
        if body != nil { fields.append(("Content-Type", "application/json")) }
        fields += headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        do {
            return try await connector.send(method, url, headers: fields, body: body)
        } catch let failure as ConnectorTransport.Failure {
            throw HeartlandError.unavailable("\(what): \(failure)")
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
