import Foundation
import FraudScoring

/// Who is asking: a browser session (with its CSRF token) or a script with a token or basic credentials.
struct Principal: Sendable {
    var user: ConsoleUsers.User
    /// Nil for requests authenticated by an `Authorization` header: no cookie, so no cross-site forgery.
    var csrfToken: String?
    var sessionID: String?
}

extension OperationsConsole {
    /// Answers one request: login, then the pages (GET) and actions (POST).
    public func respond(to request: ConsoleRequest) async -> ConsoleResponse {
        let (isAPI, parts) = request.route
        if parts == ["login"] {
            return request.method == "POST" ? login(request) : .html(HTML.login(error: nil, next: request.query["next"]))
        }
        if request.headers["authorization"] != nil, let refusal = loginThrottle.refusal(user: basicName(request), address: request.clientAddress) {
            return Self.tooManyAttempts(refusal, json: true)
        }
        guard let principal = authenticate(request) else {
            if isAPI || request.method != "GET" || request.headers["authorization"] != nil {
                return .json(401, ["error": "log in first (the login form, or Authorization: Bearer TOKEN / Basic)"])
            }
            return .redirect("/login?next=" + (request.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        let wantsJSON = isAPI || principal.csrfToken == nil || request.headers["accept"]?.contains("application/json") == true
        do {
            switch request.method {
            case "GET":
                return try await show(parts, request: request, principal: principal, json: isAPI)
            case "POST":
                if let expected = principal.csrfToken {
                    guard let sent = request.form["csrf"], constantTimeEqual(sent, expected) else {
                        throw ConsoleError.forbidden("the form's CSRF token is missing or wrong: reload the page and try again")
                    }
                }
                if parts == ["logout"] { return logout(principal) }
                guard principal.user.role >= .operator else {
                    throw ConsoleError.forbidden("\(principal.user.name) is a viewer: replay, purge, approve, reject and acknowledge need the operator role")
                }
                let outcome = try await act(parts, request: request, principal: principal)
                if wantsJSON { return .json(ActionResult(ok: true, result: outcome.message)) }
                let separator = outcome.page.contains("?") ? "&" : "?"
                return .redirect(outcome.page + separator + "notice=" + (outcome.message.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            default:
                throw ConsoleError(status: 405, description: "\(request.method) is not supported")
            }
        } catch {
            let failure = Self.failure(error)
            if failure.status >= 500 {
                logger.error("console request failed", metadata: ["path": .string(request.path), "error": .string(failure.description)])
            }
            if wantsJSON { return .json(failure.status, ["error": failure.description]) }
            return .html(failure.status, HTML.page(title: "Error \(failure.status)", principal: principal, notice: nil,
                                                   body: "<p class=\"error\" id=\"error\">\(HTML.escape(failure.description))</p>"))
        }
    }

    private static func failure(_ error: any Error) -> ConsoleError {
        switch error {
        case let error as ConsoleError: return error
        case let error as ReviewStore.ReviewError:
            switch error {
            case .notFound: return .notFound(error.description)
            case .alreadyDecided: return .conflict(error.description)
            case .missingDecider: return .badRequest("say why (the why field): \(error.description)")
            }
        case let error as FraudExceptionError:
            switch error {
            case .notFound: return .notFound(error.description)
            case .alreadyAcknowledged: return .conflict(error.description)
            case .missingDecider: return .badRequest("say why (the why field): \(error.description)")
            }
        default: return ConsoleError(status: 502, description: "\(error)")
        }
    }

    /// Scripts' credentials count towards the login limits like the form's: a wrong token or password is a failed login.
    func authenticate(_ request: ConsoleRequest) -> Principal? {
        if let authorization = request.headers["authorization"] {
            var user: ConsoleUsers.User?
            if authorization.hasPrefix("Bearer ") {
                user = configuration.users.authenticate(token: String(authorization.dropFirst(7)))
            } else if let pair = basicCredentials(authorization) {
                user = configuration.users.authenticate(name: pair.name, secret: pair.secret)
            }
            guard let user else {
                loginThrottle.failed(user: basicCredentials(authorization)?.name, address: request.clientAddress)
                return nil
            }
            return Principal(user: user)
        }
        guard let id = request.cookies[SessionStore.cookieName], let session = sessions.session(id: id) else { return nil }
        return Principal(user: session.user, csrfToken: session.csrfToken, sessionID: id)
    }

    private func basicCredentials(_ authorization: String) -> (name: String, secret: String)? {
        guard authorization.hasPrefix("Basic "), let data = Data(base64Encoded: String(authorization.dropFirst(6))) else { return nil }
        let pair = String(decoding: data, as: UTF8.self).split(separator: ":", maxSplits: 1).map(String.init)
        return pair.count == 2 ? (pair[0], pair[1]) : nil
    }

    private func basicName(_ request: ConsoleRequest) -> String? {
        request.headers["authorization"].flatMap(basicCredentials)?.name
    }

    /// 429 with `Retry-After` and a message that says what to do.
    private static func tooManyAttempts(_ refusal: LoginThrottle.Refusal, json: Bool, next: String? = nil) -> ConsoleResponse {
        var response: ConsoleResponse = json ? .json(429, ["error": refusal.message]) : .html(429, HTML.login(error: refusal.message, next: next))
        response.headers["Retry-After"] = String(Int(refusal.retryAfter.rounded(.up)))
        return response
    }

    private func login(_ request: ConsoleRequest) -> ConsoleResponse {
        let next = request.form["next"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") && !$0.hasPrefix("/login") ? $0 : nil } ?? "/pipeline"
        let name = request.form["name"] ?? ""
        // Checked before the password, so that a locked name cannot be probed with more guesses.
        if let refusal = loginThrottle.refusal(user: name, address: request.clientAddress) {
            logger.warning("console login refused: too many failures", metadata: ["user": .string(name), "address": .string(request.clientAddress ?? "?")])
            return Self.tooManyAttempts(refusal, json: false, next: next)
        }
        guard let user = configuration.users.authenticate(name: name, secret: request.form["password"] ?? "") else {
            loginThrottle.failed(user: name, address: request.clientAddress)
            logger.notice("console login refused", metadata: ["user": .string(name), "address": .string(request.clientAddress ?? "?")])
            return .html(401, HTML.login(error: "Wrong name or password.", next: next))
        }
        loginThrottle.succeeded(user: user.name)
        let (id, _) = sessions.open(for: user)
        logger.info("console login", metadata: ["user": .string(user.name), "role": .string(user.role.rawValue)])
        var response = ConsoleResponse.redirect(next)
        response.headers["Set-Cookie"] = "\(SessionStore.cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(sessions.lifetime))"
        return response
    }

    private func logout(_ principal: Principal) -> ConsoleResponse {
        if let id = principal.sessionID { sessions.close(id: id) }
        var response = ConsoleResponse.redirect("/login")
        response.headers["Set-Cookie"] = "\(SessionStore.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    /// Pages and their JSON twins.
    private func show(_ parts: [String], request: ConsoleRequest, principal: Principal, json: Bool) async throws -> ConsoleResponse {
        let notice = request.query["notice"]
        func page(_ title: String, _ body: String) -> ConsoleResponse {
            .html(HTML.page(title: title, principal: principal, notice: notice, body: body))
        }
        switch parts {
        case []: return .redirect("/pipeline")
        case ["pipeline"]:
            let overview = try await pipelineOverview()
            return json ? .json(overview) : page("Pipeline", HTML.pipeline(overview))
        case ["dlq"]:
            let stages = try await deadLetters()
            return json ? .json(stages) : page("Dead letters", HTML.deadLetters(stages, principal: principal))
        case let parts where parts.count == 3 && parts[0] == "dlq":
            let detail = try await deadLetter(stage: try knownStage(parts[1]), messageID: parts[2])
            return json ? .json(detail) : page("Dead letter \(parts[2])", HTML.deadLetter(detail, principal: principal))
        case ["reviews"]:
            let rows = try await reviews(status: request.query["status"] ?? "held")
            if json { return .json(rows) }
            return await page("Fraud review", HTML.reviews(rows, status: request.query["status"] ?? "held", exceptions: try fraudExceptions(status: "all"),
                                                           principal: principal))
        case ["reviews", "exceptions"]:
            let status = request.query["status"] ?? "all"
            let rows = try await fraudExceptions(status: status)
            return json ? .json(rows) : page("Fraud exceptions", HTML.fraudExceptions(rows, status: status, principal: principal))
        case let parts where parts.count == 2 && parts[0] == "reviews":
            guard let id = Int64(parts[1]) else { throw ConsoleError.notFound("no review \(parts[1])") }
            let detail = try await review(id: id)
            return json ? .json(detail) : page("Review \(id)", HTML.review(detail, principal: principal))
        case ["reconciliations"]:
            let days = try await reconciliationDays(date: request.query["date"])
            return json ? .json(days) : page("Reconciliation", HTML.reconciliations(days))
        case let parts where parts.count == 2 && parts[0] == "reconciliations":
            let report = try await reconciliation(reference: parts[1])
            return json ? .json(report) : page("Reconciliation \(parts[1])", HTML.reconciliation(report))
        case ["quarantine"]:
            let rows = try await quarantine(all: request.query["status"] == "all")
            return json ? .json(rows) : page("Quarantine", HTML.quarantine(rows))
        case ["matches"]:
            let status = request.query["status"] ?? "open"
            let items = try await customerMatches(status: status)
            return json ? .json(items) : page("Customer matches", HTML.customerMatches(items, status: status))
        case let parts where parts.count == 2 && parts[0] == "matches":
            let item = try await customerMatch(parts[1])
            return json ? .json(item) : page("Customer match \(parts[1])", HTML.customerMatch(item, principal: principal))
        case ["alerts"]:
            let alerts = try await alerts()
            return json ? .json(alerts) : page("Alerts", HTML.alerts(alerts, principal: principal))
        case ["audit"]:
            let trail = try await configuration.operations.auditTrail()
            return json ? .json(trail) : page("Audit trail", HTML.audit(trail))
        default:
            throw ConsoleError.notFound("no page \(request.path)")
        }
    }

    /// Actions (operator only). Returns what was done and the page to go back to.
    private func act(_ parts: [String], request: ConsoleRequest, principal: Principal) async throws -> (message: String, page: String) {
        let form = request.form
        switch parts {
        case let parts where parts.count == 3 && parts[0] == "dlq" && parts[2] == "replay":
            let stage = try knownStage(parts[1])
            let count = try await replay(stage: stage, messageID: form["message_id"].flatMap { $0.isEmpty ? nil : $0 },
                                         errorClass: form["error_class"], lastError: form["last_error"], actor: principal.user.name)
            return ("replayed \(count) message(s) from \(stage).dlq to \(stage)", "/dlq")
        case let parts where parts.count == 3 && parts[0] == "dlq" && parts[2] == "purge":
            let stage = try knownStage(parts[1])
            let count = try await purge(stage: stage, actor: principal.user.name)
            return ("purged \(count) message(s) from \(stage).dlq", "/dlq")
        case let parts where parts.count == 3 && parts[0] == "reviews" && (parts[2] == "approve" || parts[2] == "reject"):
            guard let id = Int64(parts[1]) else { throw ConsoleError.notFound("no review \(parts[1])") }
            let why = form["why"] ?? ""
            let message = parts[2] == "approve"
                ? try await approve(id: id, actor: principal.user.name, why: why)
                : try await reject(id: id, actor: principal.user.name, why: why)
            return (message, "/reviews/\(id)")
        case let parts where parts.count == 4 && parts[0] == "reviews" && parts[1] == "exceptions" && parts[3] == "acknowledge":
            let message = try await acknowledge(exception: parts[2], actor: principal.user.name, why: form["why"] ?? "")
            return (message, "/reviews")
        case let parts where parts.count == 3 && parts[0] == "matches" && (parts[2] == "same" || parts[2] == "different"):
            let why = form["why"].flatMap { $0.isEmpty ? nil : $0 }
            let message = try await decide(match: parts[1], verdict: parts[2] == "same" ? .same : .different, heartland: form["heartland"],
                                           sage: form["sage"], actor: principal.user.name, why: why)
            return (message, "/matches/\(HTML.url(parts[1]))")
        case ["alerts", "acknowledge"]:
            guard let fingerprint = form["fingerprint"], !fingerprint.isEmpty else { throw ConsoleError.badRequest("which alert group? (fingerprint)") }
            return (try await acknowledge(fingerprint: fingerprint, actor: principal.user.name), "/alerts")
        default:
            throw ConsoleError.notFound("no action \(request.path)")
        }
    }
}

extension Principal {
    init(user: ConsoleUsers.User) { self.init(user: user, csrfToken: nil, sessionID: nil) }
}

/// The JSON answer to a script's action.
struct ActionResult: Encodable {
    var ok: Bool
    var result: String
}
