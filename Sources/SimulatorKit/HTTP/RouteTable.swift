import Foundation

public typealias SimHandler = @Sendable (SimRequest) async throws -> SimResponse

/// Method + path pattern routing. A pattern segment may hold one `{name}` placeholder with a
/// literal prefix and suffix, e.g. `GLJournalBatches({key})` for OData entity keys.
public struct RouteTable: Sendable {
    struct Route: Sendable {
        let method: String
        let segments: [String]
        let handler: SimHandler
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping SimHandler) {
        routes.append(Route(method: method.uppercased(), segments: RouteTable.split(pattern), handler: handler))
    }

    public mutating func merge(_ other: RouteTable) { routes += other.routes }

    public enum Match: Sendable {
        case found(SimHandler, [String: String])
        case methodNotAllowed
        case notFound
    }

    public func match(method: String, path: String) -> Match {
        let segments = RouteTable.split(path)
        var pathMatched = false
        for route in routes {
            guard let parameters = RouteTable.bind(route.segments, to: segments) else { continue }
            if route.method == method { return .found(route.handler, parameters) }
            pathMatched = true
        }
        return pathMatched ? .methodNotAllowed : .notFound
    }

    static func split(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    static func bind(_ pattern: [String], to segments: [String]) -> [String: String]? {
        guard pattern.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, segments) {
            guard let open = expected.firstIndex(of: "{"), let close = expected.firstIndex(of: "}") else {
                guard expected.caseInsensitiveCompare(actual) == .orderedSame else { return nil }
                continue
            }
            let prefix = String(expected[..<open])
            let suffix = String(expected[expected.index(after: close)...])
            let name = String(expected[expected.index(after: open)..<close])
            guard actual.count >= prefix.count + suffix.count, actual.hasPrefix(prefix), actual.hasSuffix(suffix)
            else { return nil }
            let value = String(actual.dropFirst(prefix.count).dropLast(suffix.count))
            guard !value.isEmpty else { return nil }
            parameters[name] = value
        }
        return parameters
    }
}
