import Foundation
import SimulatorKit

/// A GP-API error: `{"error_code", "detailed_error_code", "detailed_error_description"}`.
public struct GPError: Error, Sendable {
    public let status: Int
    public let code: String
    public let detailedCode: String
    public let description: String

    public init(status: Int, code: String, detailedCode: String, description: String) {
        self.status = status
        self.code = code
        self.detailedCode = detailedCode
        self.description = description
    }

    public var response: SimResponse {
        .json([
            "error_code": .string(code), "detailed_error_code": .string(detailedCode),
            "detailed_error_description": .string(description),
        ], status: status)
    }

    public static let invalidToken = GPError(
        status: 401, code: "NOT_AUTHENTICATED", detailedCode: "40001", description: "Invalid access token")
    public static let badCredentials = GPError(
        status: 403, code: "ACTION_NOT_AUTHORIZED", detailedCode: "40004",
        description: "Credentials not recognized to create access token.")
    public static func invalid(_ message: String, code: String = "40213") -> GPError {
        GPError(status: 400, code: "INVALID_REQUEST_DATA", detailedCode: code, description: message)
    }
    public static func missing(_ message: String, code: String = "40005") -> GPError {
        GPError(status: 400, code: "MANDATORY_DATA_MISSING", detailedCode: code, description: message)
    }
    public static func notFound(_ what: String) -> GPError {
        GPError(status: 404, code: "RESOURCE_NOT_FOUND", detailedCode: "40118", description: "\(what) not found")
    }
}

/// A Heartland Retail error: `{"message": ..., "errors": {field: [reasons]}}` (422 for validation).
public struct RetailError: Error, Sendable {
    public let status: Int
    public let message: String
    public let errors: [String: [String]]

    public init(status: Int, message: String, errors: [String: [String]] = [:]) {
        self.status = status
        self.message = message
        self.errors = errors
    }

    public var response: SimResponse {
        var body: [String: JSONValue] = ["message": .string(message)]
        if !errors.isEmpty { body["errors"] = .object(errors.mapValues { .array($0.map { .string($0) }) }) }
        return .json(.object(body), status: status)
    }

    public static let unauthorized = RetailError(status: 401, message: "Unauthorized")
    public static func notFound(_ what: String) -> RetailError { RetailError(status: 404, message: "\(what) not found") }
    public static func invalid(_ field: String, _ reason: String) -> RetailError {
        RetailError(status: 422, message: "Validation failed: \(field) \(reason)", errors: [field: [reason]])
    }
}

/// Renders pipeline errors as GP-API bodies under `/ucp`, Retail bodies elsewhere.
struct HeartlandErrorRenderer: ErrorRenderer {
    func render(status: Int, code: String, message: String, request: SimRequest) -> SimResponse {
        if request.path.hasPrefix("/ucp") {
            let detailed = status == 429 ? "40029" : (status == 404 ? "40118" : "50000")
            return GPError(status: status, code: code, detailedCode: detailed, description: message).response
        }
        return RetailError(status: status, message: message).response
    }
}

/// Runs a handler and turns the simulator's typed errors into their responses.
func answering(_ body: () async throws -> SimResponse) async throws -> SimResponse {
    do {
        return try await body()
    } catch let error as GPError {
        return error.response
    } catch let error as RetailError {
        return error.response
    }
}
