import Foundation
import SimulatorKit

/// A Sage 300 Web API error: `{"error":{"code":...,"message":{"lang":"en-US","value":...}}}`.
public struct SageError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func fieldInvalid(_ message: String) -> SageError { SageError(status: 400, code: "FieldInvalid", message: message) }
    public static func general(_ message: String) -> SageError { SageError(status: 400, code: "General", message: message) }
    public static func duplicate(_ message: String) -> SageError { SageError(status: 409, code: "RecordDuplicate", message: message) }
    public static func notFound(_ message: String) -> SageError { SageError(status: 404, code: "RecordNotFound", message: message) }

    public var body: JSONValue {
        ["error": ["code": .string(code), "message": ["lang": "en-US", "value": .string(message)]]]
    }

    public var response: SimResponse { .json(body, status: status) }
}

/// Renders pipeline errors (404, 429, injected 5xx) in the Sage shape.
public struct SageErrorRenderer: ErrorRenderer {
    public init() {}

    public func render(status: Int, code: String, message: String, request: SimRequest) -> SimResponse {
        let sageCode: String
        switch status {
        case 401: sageCode = "Unauthorized"
        case 404: sageCode = "RecordNotFound"
        case 405: sageCode = "MethodNotAllowed"
        default: sageCode = "General"
        }
        return SageError(status: status, code: sageCode, message: message).response
    }
}
