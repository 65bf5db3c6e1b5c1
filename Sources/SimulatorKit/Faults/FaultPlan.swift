import Foundation

/// What misbehaviour to inject. Set through `POST /admin/faults` (JSON, keys below) or the
/// repeatable `--fault key=value` flag. All shares are 0...1.
public struct FaultPlan: Sendable, Equatable {
    /// Added to every answer.
    public var latencyMs: Int = 0
    /// Plus a uniformly random 0...latencyJitterMs.
    public var latencyJitterMs: Int = 0
    /// Share of requests answered with `errorStatus` (a 5xx).
    public var errorRate: Double = 0
    public var errorStatus: Int = 503
    /// The message of those answers; nil: "simulated server error". A real gateway sometimes echoes
    /// what it was sent (a card number a clerk typed into a note, say): this lets a test make it so.
    public var errorMessage: String? = nil
    /// The next N requests answer `errorStatus` (a gateway recycling its application, say): a count, where `errorRate` is a
    /// share, so that a test knows exactly how many answers fail.
    public var errorBurst: Int = 0
    /// The next N requests answer 429 with `Retry-After: retryAfterSeconds`.
    public var rateLimitBurst: Int = 0
    public var retryAfterSeconds: Int = 1
    /// Answer 503 to everything for this many seconds from when the plan is set.
    public var downtimeSeconds: Int = 0
    /// Share of requests that hang `timeoutSeconds` before answering 504 (longer than client timeouts).
    public var timeoutRate: Double = 0
    public var timeoutSeconds: Int = 30
    /// Share of requests whose 2xx JSON body is cut in half.
    public var malformedRate: Double = 0

    public init() {}

    public static let keys = [
        "latency_ms", "latency_jitter_ms", "error_rate", "error_status", "error_message", "error_burst", "rate_limit_burst",
        "retry_after_seconds", "downtime_seconds", "timeout_rate", "timeout_seconds", "malformed_rate",
    ]

    /// Reads the JSON form; unknown keys are an error so a typo does not silently inject nothing.
    public init(json: JSONValue) throws {
        guard let fields = json.objectValue else { throw FaultPlanError.notAnObject }
        for key in fields.keys where !FaultPlan.keys.contains(key) { throw FaultPlanError.unknownKey(key) }
        func int(_ key: String, _ current: Int) throws -> Int {
            guard let value = fields[key] else { return current }
            guard let n = value.int64Value, n >= 0 else { throw FaultPlanError.badValue(key) }
            return Int(n)
        }
        func share(_ key: String, _ current: Double) throws -> Double {
            guard let value = fields[key] else { return current }
            guard let d = value.decimalValue, d >= 0, d <= 1 else { throw FaultPlanError.badValue(key) }
            return NSDecimalNumber(decimal: d).doubleValue
        }
        latencyMs = try int("latency_ms", latencyMs)
        latencyJitterMs = try int("latency_jitter_ms", latencyJitterMs)
        errorRate = try share("error_rate", errorRate)
        errorStatus = try int("error_status", errorStatus)
        guard (500...599).contains(errorStatus) else { throw FaultPlanError.badValue("error_status") }
        switch fields["error_message"] {
        case nil, .null?: break
        case .string(let text)?: errorMessage = text
        default: throw FaultPlanError.badValue("error_message")
        }
        errorBurst = try int("error_burst", errorBurst)
        rateLimitBurst = try int("rate_limit_burst", rateLimitBurst)
        retryAfterSeconds = try int("retry_after_seconds", retryAfterSeconds)
        downtimeSeconds = try int("downtime_seconds", downtimeSeconds)
        timeoutRate = try share("timeout_rate", timeoutRate)
        timeoutSeconds = try int("timeout_seconds", timeoutSeconds)
        malformedRate = try share("malformed_rate", malformedRate)
    }

    /// Reads `key=value` pairs from the command line.
    public init(flags: [String]) throws {
        var fields: [String: JSONValue] = [:]
        for flag in flags {
            let parts = flag.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw FaultPlanError.badFlag(flag) }
            if parts[0] == "error_message" {
                fields["error_message"] = .string(String(parts[1]))
                continue
            }
            guard let number = Decimal(string: String(parts[1])) else { throw FaultPlanError.badFlag(flag) }
            fields[String(parts[0])] = .number(number)
        }
        try self.init(json: .object(fields))
    }

    public var json: JSONValue {
        [
            "latency_ms": .int(latencyMs), "latency_jitter_ms": .int(latencyJitterMs),
            "error_rate": .number(Decimal(errorRate)), "error_status": .int(errorStatus),
            "error_message": errorMessage.map(JSONValue.string) ?? .null, "error_burst": .int(errorBurst),
            "rate_limit_burst": .int(rateLimitBurst), "retry_after_seconds": .int(retryAfterSeconds),
            "downtime_seconds": .int(downtimeSeconds), "timeout_rate": .number(Decimal(timeoutRate)),
            "timeout_seconds": .int(timeoutSeconds), "malformed_rate": .number(Decimal(malformedRate)),
        ]
    }
}

public enum FaultPlanError: Error, CustomStringConvertible {
    case notAnObject
    case unknownKey(String)
    case badValue(String)
    case badFlag(String)

    public var description: String {
        switch self {
        case .notAnObject: return "fault plan must be a JSON object"
        case .unknownKey(let k): return "unknown fault key '\(k)'; known: \(FaultPlan.keys.joined(separator: ", "))"
        case .badValue(let k): return "bad value for fault key '\(k)'"
        case .badFlag(let f): return "bad --fault '\(f)'; expected key=number"
        }
    }
}
