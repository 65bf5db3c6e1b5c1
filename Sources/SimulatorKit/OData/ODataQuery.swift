import Foundation

/// Applies `$filter`, `$orderby`, `$skip`, `$top`, `$count` and `$select` to a collection and
/// wraps it the way Sage 300 answers: `{"value": [...], "@odata.count": n, "@odata.nextLink": ...}`.
public struct ODataQuery: Sendable {
    public var filter: ODataFilter?
    public var orderBy: [(field: String, descending: Bool)] = []
    public var skip = 0
    public var top: Int?
    public var count = false
    public var select: [String]?
    /// The request's other query options, repeated in `@odata.nextLink`.
    var otherOptions: [(String, String)] = []

    public init(request: SimRequest) throws {
        otherOptions = request.query.filter { $0.key != "$skip" && $0.key != "$top" }
            .sorted { $0.key < $1.key }.flatMap { key, values in values.map { (key, $0) } }
        if let text = request.queryValue("$filter"), !text.isEmpty { filter = try ODataFilter.parse(text) }
        if let text = request.queryValue("$orderby") {
            orderBy = text.split(separator: ",").map { part in
                let words = part.split(separator: " ")
                return (String(words.first ?? ""), words.count > 1 && words[1].lowercased() == "desc")
            }
        }
        if let text = request.queryValue("$skip") {
            guard let n = Int(text), n >= 0 else { throw ODataFilter.ParseError(description: "$skip must be a non-negative integer") }
            skip = n
        }
        if let text = request.queryValue("$top") {
            guard let n = Int(text), n >= 0 else { throw ODataFilter.ParseError(description: "$top must be a non-negative integer") }
            top = n
        }
        count = request.queryValue("$count")?.lowercased() == "true"
        select = request.queryValue("$select").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    public func apply(to entities: [JSONValue], path: String) -> JSONValue {
        var rows = entities
        if let filter { rows = rows.filter { filter.matches($0) } }
        if !orderBy.isEmpty {
            rows.sort { a, b in
                for key in orderBy {
                    let order = ODataFilter.compare(ODataFilter.lookup(key.field, in: a) ?? .null,
                        ODataFilter.lookup(key.field, in: b) ?? .null)
                    if order == .orderedSame || order == nil { continue }
                    return key.descending ? order == .orderedDescending : order == .orderedAscending
                }
                return false
            }
        }
        return apply(page: Array(rows.dropFirst(skip).prefix(top ?? Int.max)), total: rows.count, path: path)
    }

    /// True when a page of the collection in its natural (key) order answers the query: no filter, no
    /// ordering. The simulator then reads only that page, as a database would.
    public var isPlainPage: Bool { filter == nil && orderBy.isEmpty }

    /// Wraps one page of the answer (cut by `apply(to:)`, or read in key order when `isPlainPage`) with the size of the whole answer.
    public func apply(page rows: [JSONValue], total: Int, path: String) -> JSONValue {
        var result: [String: JSONValue] = ["value": .array(rows.map(project))]
        if count { result["@odata.count"] = .int(total) }
        if let top, skip + top < total {
            let options = otherOptions + [("$skip", String(skip + top)), ("$top", String(top))]
            let query = options.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? $0.1)" }
            result["@odata.nextLink"] = .string("\(path)?" + query.joined(separator: "&"))
        }
        return .object(result)
    }

    /// The comparisons every match must satisfy (the top-level `and` terms of `$filter`).
    public var requiredComparisons: [(field: String, op: String, literal: JSONValue)] {
        func terms(_ filter: ODataFilter?) -> [(String, String, JSONValue)] {
            switch filter {
            case .compare(let field, let op, let literal)?: return [(field, op, literal)]
            case .and(let left, let right)?: return terms(left) + terms(right)
            default: return []
            }
        }
        return terms(filter)
    }

    private func project(_ entity: JSONValue) -> JSONValue {
        guard let select, case .object(let fields) = entity else { return entity }
        return .object(fields.filter { select.contains($0.key) })
    }
}

extension CharacterSet {
    /// Unreserved characters plus `$`, which OData option names use.
    static let urlQueryValueAllowed = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~$")
}
