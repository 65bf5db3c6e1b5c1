import Foundation

/// A request as the simulators see it: decoded path, query and headers, whole body.
public struct SimRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: [String]]
    /// Header names are lowercased.
    public var headers: [String: String]
    public var body: Data
    /// Values captured by `{name}` placeholders of the matched route.
    public var parameters: [String: String] = [:]

    public init(method: String, path: String, rawQuery: String?, headers: [String: String], body: Data) {
        self.method = method.uppercased()
        self.path = path.removingPercentEncoding ?? path
        self.query = SimRequest.parseQuery(rawQuery)
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    public func queryValue(_ name: String) -> String? { query[name]?.first }

    public func queryInt(_ name: String) -> Int? { queryValue(name).flatMap { Int($0) } }

    public func parameter(_ name: String) -> String { parameters[name] ?? "" }

    /// The body as JSON; an empty body reads as an empty object.
    public func json() throws -> JSONValue {
        if body.isEmpty { return .object([:]) }
        do {
            return try JSONValue.parse(body)
        } catch {
            throw SimResponseError(.plain(status: 400, "request body is not valid JSON"))
        }
    }

    /// Who is calling, for per-client rate limits: the credential, else the literal `anonymous`.
    public var clientKey: String {
        header("authorization") ?? header("x-client-id") ?? "anonymous"
    }

    static func parseQuery(_ raw: String?) -> [String: [String]] {
        guard let raw, !raw.isEmpty else { return [:] }
        var result: [String: [String]] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(String(parts[0]))
            let value = parts.count > 1 ? decode(String(parts[1])) : ""
            result[name, default: []].append(value)
        }
        return result
    }

    private static func decode(_ s: String) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
