import Foundation
import Logging
import Messaging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange over URLSession, with transport failures already classified: the only errors
/// it throws are `HeartlandError.unavailable` and `CancellationError`.
struct HTTPTransport: Sendable {
    struct Answer: Sendable {
        let status: Int
        let body: Data
        let headers: [String: String]

        func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    let session: URLSession
    let timeout: Duration

    init(session: URLSession? = nil, timeout: Duration) {
        self.timeout = timeout
        if let session {
            self.session = session
        } else {
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = timeout.seconds
            configuration.httpAdditionalHeaders = ["Accept": "application/json"]
            self.session = URLSession(configuration: configuration)
        }
    }

    func send(_ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil, what: String)
        async throws -> Answer
    {
        var request = URLRequest(url: url, timeoutInterval: timeout.seconds)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as URLError where error.code == .cancelled {
            try Task.checkCancellation()
            throw HeartlandError.unavailable("\(what): request cancelled (\(url.host ?? "?"))")
        } catch let error as URLError {
            throw HeartlandError.unavailable("\(what): \(Self.describe(error)) (\(url.host ?? "?"):\(url.port.map(String.init) ?? "-"))")
        } catch {
            throw HeartlandError.unavailable("\(what): \(error)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw HeartlandError.unavailable("\(what): not an HTTP answer")
        }
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields["\(key)"] = "\(value)" }
        return Answer(status: http.statusCode, body: data, headers: fields)
    }

    static func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut: "timed out"
        case .cannotConnectToHost: "connection refused"
        case .networkConnectionLost: "connection lost"
        case .cannotFindHost, .dnsLookupFailed: "host not found"
        case .notConnectedToInternet: "no network"
        default: "network error \(error.code.rawValue)"
        }
    }
}

extension HTTPTransport.Answer {
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
