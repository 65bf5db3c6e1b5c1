import Foundation

/// A request as the console sees it, independent of the HTTP server (the console's logic is tested
/// by calling `OperationsConsole.respond(to:)` directly).
public struct ConsoleRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    /// Lower-case names: `cookie`, `authorization`, `accept`, `x-forwarded-for`.
    public var headers: [String: String]
    /// The `application/x-www-form-urlencoded` body of a POST.
    public var form: [String: String]
    /// The TCP peer's IP address, for the login limits; `respond(to:)` replaces it with the client's
    /// when the peer is a trusted proxy (`TrustedProxies`).
    public var clientAddress: String?

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], form: [String: String] = [:],
                clientAddress: String? = nil) {
        self.clientAddress = clientAddress
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.form = form
    }

    /// Parses `a=1&b=two+words` (a query string or a form body).
    public static func parseForm(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            values[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return values
    }

    public static func encodeForm(_ values: [String: String]) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return values.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }.joined(separator: "&")
    }

    var cookies: [String: String] {
        var cookies: [String: String] = [:]
        for part in (headers["cookie"] ?? "").split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { cookies[pair[0]] = pair[1] }
        }
        return cookies
    }

    /// The path without its leading `/api` and split into parts; `isAPI` when it had one.
    var route: (isAPI: Bool, parts: [String]) {
        var parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let isAPI = parts.first == "api"
        if isAPI { parts.removeFirst() }
        return (isAPI, parts)
    }
}

public struct ConsoleResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    static func html(_ page: String) -> ConsoleResponse { html(200, page) }

    static func html(_ status: Int, _ page: String) -> ConsoleResponse {
        ConsoleResponse(status: status, headers: ["Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"], body: Array(page.utf8))
    }

    static func json<T: Encodable>(_ value: T) -> ConsoleResponse { json(200, value) }

    static func json<T: Encodable>(_ status: Int, _ value: T) -> ConsoleResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(value)).map(Array.init) ?? Array("{\"error\":\"could not encode the response\"}".utf8)
        return ConsoleResponse(status: status, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"], body: body)
    }

    /// On every answer: scripts and styles only from the console's own files (`StaticAsset`), no
    /// inline script or style, no framing, no referrer leaving the console.
    static let securityHeaders = [
        "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    ]

    static func redirect(_ location: String) -> ConsoleResponse {
        ConsoleResponse(status: 303, headers: ["Location": location])
    }
}

/// What went wrong with a request, as an HTTP status and a sentence for a person.
struct ConsoleError: Error, CustomStringConvertible {
    var status: Int
    var description: String

    static func notFound(_ what: String) -> Self { .init(status: 404, description: what) }
    static func badRequest(_ what: String) -> Self { .init(status: 400, description: what) }
    static func forbidden(_ what: String) -> Self { .init(status: 403, description: what) }
    static func conflict(_ what: String) -> Self { .init(status: 409, description: what) }
    static func unavailable(_ what: String) -> Self { .init(status: 503, description: what) }
}
