import Foundation

/// A response before it is handed to the HTTP server.
public struct SimResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ value: JSONValue, status: Int = 200, headers: [String: String] = [:]) -> SimResponse {
        var all = headers
        all["Content-Type"] = "application/json"
        return SimResponse(status: status, headers: all, body: value.serialized())
    }

    public static func plain(status: Int, _ text: String) -> SimResponse {
        SimResponse(status: status, headers: ["Content-Type": "text/plain"], body: Data(text.utf8))
    }

    public static func empty(status: Int = 204, headers: [String: String] = [:]) -> SimResponse {
        SimResponse(status: status, headers: headers)
    }
}

/// Thrown by handlers to answer with a ready-made (usually error) response.
public struct SimResponseError: Error, Sendable {
    public let response: SimResponse
    public init(_ response: SimResponse) { self.response = response }
}

/// How a simulator renders its own errors (GP-API, Heartland Retail and Sage all differ).
public protocol ErrorRenderer: Sendable {
    func render(status: Int, code: String, message: String, request: SimRequest) -> SimResponse
}
