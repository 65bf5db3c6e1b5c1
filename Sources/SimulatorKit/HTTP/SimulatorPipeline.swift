import BridgeClock
import Foundation
import Logging

/// The order every request goes through: health, admin, injected faults, rate limit, routes.
/// Health and admin are never subject to faults or the rate limit.
public struct SimulatorPipeline: Sendable {
    public let routes: RouteTable
    public let adminRoutes: RouteTable
    public let faults: FaultInjector
    public let rateLimiter: RateLimiter
    public let clock: SimClock
    public let errors: any ErrorRenderer
    public let logger: Logger

    public init(
        routes: RouteTable, adminRoutes: RouteTable, faults: FaultInjector, rateLimiter: RateLimiter,
        clock: SimClock, errors: any ErrorRenderer, logger: Logger
    ) {
        var admin = adminRoutes
        admin.merge(SimulatorPipeline.sharedAdminRoutes(faults: faults, rateLimiter: rateLimiter, clock: clock))
        self.routes = routes
        self.adminRoutes = admin
        self.faults = faults
        self.rateLimiter = rateLimiter
        self.clock = clock
        self.errors = errors
        self.logger = logger
    }

    public func handle(_ request: SimRequest) async -> SimResponse {
        if request.path == "/health" {
            return .json(["status": "ok"])
        }
        if request.path.hasPrefix("/admin/") {
            return await dispatch(request, in: adminRoutes)
        }
        let latency = faults.latencyMs()
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
        switch faults.decide() {
        case .down:
            return errors.render(status: 503, code: "SERVICE_UNAVAILABLE", message: "simulated downtime", request: request)
        case .tooManyRequests(let retryAfter):
            return tooMany(request, retryAfter: retryAfter)
        case .serverError(let status, let message):
            return errors.render(status: status, code: "SYSTEM_ERROR", message: message ?? "simulated server error", request: request)
        case .hang(let seconds):
            try? await Task.sleep(for: .seconds(seconds))
            return errors.render(status: 504, code: "GATEWAY_TIMEOUT", message: "simulated timeout", request: request)
        case .proceed(let malformed):
            if let wait = rateLimiter.take(client: request.clientKey) {
                return tooMany(request, retryAfter: wait)
            }
            var response = await dispatch(request, in: routes)
            if malformed, (200..<300).contains(response.status), !response.body.isEmpty {
                response.body = response.body.prefix(response.body.count / 2)
            }
            return response
        }
    }

    private func tooMany(_ request: SimRequest, retryAfter: Int) -> SimResponse {
        var response = errors.render(
            status: 429, code: "TOO_MANY_REQUESTS", message: "rate limit exceeded; retry after \(retryAfter) s",
            request: request)
        response.headers["Retry-After"] = String(retryAfter)
        return response
    }

    private func dispatch(_ request: SimRequest, in table: RouteTable) async -> SimResponse {
        switch table.match(method: request.method, path: request.path) {
        case .notFound:
            return errors.render(status: 404, code: "NOT_FOUND", message: "no resource at \(request.path)", request: request)
        case .methodNotAllowed:
            return errors.render(
                status: 405, code: "METHOD_NOT_ALLOWED", message: "\(request.method) not allowed on \(request.path)",
                request: request)
        case .found(let handler, let parameters):
            var bound = request
            bound.parameters = parameters
            do {
                return try await handler(bound)
            } catch let error as SimResponseError {
                return error.response
            } catch {
                logger.error("handler failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
                return errors.render(status: 500, code: "SYSTEM_ERROR", message: "\(error)", request: request)
            }
        }
    }

    static func sharedAdminRoutes(faults: FaultInjector, rateLimiter: RateLimiter, clock: SimClock) -> RouteTable {
        var table = RouteTable()
        table.add("GET", "/admin/faults") { _ in .json(faults.statusJSON) }
        table.add("POST", "/admin/faults") { request in
            do {
                faults.apply(try FaultPlan(json: try request.json()))
            } catch let error as FaultPlanError {
                return .json(["error": .string(error.description)], status: 400)
            }
            return .json(faults.statusJSON)
        }
        table.add("DELETE", "/admin/faults") { _ in
            faults.clear()
            return .json(faults.statusJSON)
        }
        table.add("GET", "/admin/rate-limit") { _ in .json(rateLimiter.limit.json) }
        table.add("POST", "/admin/rate-limit") { request in
            let body = try request.json()
            var limit = rateLimiter.limit
            if let rate = body["per_second"]?.decimalValue { limit.perSecond = NSDecimalNumber(decimal: rate).doubleValue }
            if let burst = body["burst"]?.decimalValue { limit.burst = NSDecimalNumber(decimal: burst).doubleValue }
            if let enabled = body["enabled"]?.boolValue { limit.enabled = enabled }
            guard limit.perSecond > 0, limit.burst >= 1 else {
                return .json(["error": "per_second must be > 0 and burst >= 1"], status: 400)
            }
            rateLimiter.configure(limit)
            return .json(limit.json)
        }
        table.add("POST", "/admin/clock") { request in
            let body = try request.json()
            guard let seconds = body["advance_seconds"]?.int64Value, seconds >= 0 else {
                return .json(["error": "advance_seconds (non-negative integer) is required"], status: 400)
            }
            clock.advance(seconds: TimeInterval(seconds))
            return .json(["now": .string(Timestamps.iso8601(clock.now())), "offset_seconds": .int(Int64(clock.offsetSeconds))])
        }
        table.add("GET", "/admin/clock") { _ in
            .json(["now": .string(Timestamps.iso8601(clock.now())), "offset_seconds": .int(Int64(clock.offsetSeconds))])
        }
        return table
    }
}
