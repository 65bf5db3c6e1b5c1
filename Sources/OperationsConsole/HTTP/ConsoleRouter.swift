import Foundation
import FraudScoring

/// Who is asking: a browser session (with its CSRF token) or a script with an API token (`token:NAME`).
struct Principal: Sendable {
    var user: ConsoleUsers.User
    /// Nil for requests authenticated by an `Authorization` header: no cookie, so no cross-site forgery.
    var csrfToken: String?
    var sessionID: String?
}

extension OperationsConsole {
    /// Answers one request: static files, login, then the pages (GET) and actions (POST); every
    /// answer carries the security headers (`ConsoleResponse.securityHeaders`).
    public func respond(to request: ConsoleRequest) async -> ConsoleResponse {
        var response = await answer(resolvingClientAddress(request))
        for (name, value) in ConsoleResponse.securityHeaders where response.headers[name] == nil { response.headers[name] = value }
        return response
    }

    /// The client behind a trusted proxy (`Configuration.trustedProxies`), else the TCP peer.
    func resolvingClientAddress(_ request: ConsoleRequest) -> ConsoleRequest {
        var request = request
        request.clientAddress = configuration.trustedProxies.clientAddress(peer: request.clientAddress, forwardedFor: request.headers["x-forwarded-for"])
        return request
    }

    private func answer(_ request: ConsoleRequest) async -> ConsoleResponse {
        let (isAPI, parts) = request.route
        if request.method == "GET", let asset = StaticAsset(path: request.path) { return asset.response }
        if parts == ["login"] {
            return request.method == "POST" ? await login(request) : .html(HTML.login(error: nil, next: LocalRedirect.target(request.query["next"])))
        }
        if request.headers["authorization"] != nil, let refusal = loginThrottle.refusal(user: nil, address: request.clientAddress) {
            return Self.tooManyAttempts(refusal, json: true)
        }
        guard let principal = authenticate(request) else {
            if isAPI || request.method != "GET" || request.headers["authorization"] != nil {
                return .json(401, ["error": "log in first (the login form), or send an API token: Authorization: Bearer TOKEN "
                                   + "(bridgectl console token create; a password is not a token)"])
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
                guard let action = ConsoleAction(parts) else { throw ConsoleError.notFound("no action \(request.path)") }
                guard principal.user.role >= action.requiredRole else {
                    throw ConsoleError.forbidden("\(principal.user.name) has the \(principal.user.role.rawValue) role: \(action.what) needs "
                                                 + "\(action.requiredRole.rawValue) (\(ConsoleAction.rolesInWords))")
                }
                try await auditRequest(action, principal: principal, request: request)
                let outcome = try await act(action, request: request, principal: principal)
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
        case let parts where parts.count == 3 && parts[0] == "reviews" && parts[1] == "exceptions":
            let detail = try await exceptionDetail(parts[2])
            return json ? .json(detail) : page("Fraud exception \(detail.exception.id)", HTML.exceptionDetail(detail, principal: principal))
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
        case ["mapping"]:
            let mapping = try await mappingPage(request.query)
            return json ? .json(mapping) : page("GL mapping", HTML.mapping(mapping, principal: principal))
        case ["mapping", "versions"]:
            let versions = try await mappingVersions()
            return json ? .json(versions) : page("GL mapping versions", HTML.mappingVersions(versions, principal: principal))
        case let parts where parts.count == 3 && parts[0] == "mapping" && parts[1] == "versions":
            let version = try await mappingVersion(parts[2])
            return json ? .json(version) : page("GL mapping version \(version.id)", HTML.mappingVersion(version))
        case ["rules"]:
            let rules = try await rulesPage(request.query)
            return json ? .json(rules) : page("Fraud rules", HTML.rules(rules, principal: principal))
        case ["rules", "versions"]:
            let versions = try await rulesVersions()
            return json ? .json(versions) : page("Fraud rules versions", HTML.mappingVersions(versions, principal: principal, base: "/rules"))
        case let parts where parts.count == 3 && parts[0] == "rules" && parts[1] == "versions":
            let version = try await rulesVersion(parts[2])
            return json ? .json(version) : page("Fraud rules version \(version.id)", HTML.mappingVersion(version))
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

    /// Actions, once the role and the audit trail allowed them. Returns what was done and the page to go back to.
    private func act(_ action: ConsoleAction, request: ConsoleRequest, principal: Principal) async throws -> (message: String, page: String) {
        let form = request.form, actor = principal.user.name
        switch action {
        case .replay(let stage):
            let stage = try knownStage(stage)
            let count = try await replay(stage: stage, messageID: form["message_id"].flatMap { $0.isEmpty ? nil : $0 },
                                         errorClass: form["error_class"], lastError: form["last_error"], actor: actor)
            return ("replayed \(count) message(s) from \(stage).dlq to \(stage)", "/dlq")
        case .purge(let stage):
            let stage = try knownStage(stage)
            let count = try await purge(stage: stage, actor: actor)
            return ("purged \(count) message(s) from \(stage).dlq", "/dlq")
        case .approve(let id):
            return (try await approve(id: id, actor: actor, why: form["why"] ?? ""), "/reviews/\(id)")
        case .reject(let id):
            return (try await reject(id: id, actor: actor, why: form["why"] ?? ""), "/reviews/\(id)")
        case .acknowledgeException(let label):
            // From the exception's own page, back to it; from the lists, to the review queue.
            let back = form["back"] == "exception" ? "/reviews/exceptions/\(HTML.url(label))" : "/reviews"
            return (try await acknowledge(exception: label, actor: actor, why: form["why"] ?? ""), back)
        case .decideMatch(let id, let verdict):
            let why = form["why"].flatMap { $0.isEmpty ? nil : $0 }
            let message = try await decide(match: id, verdict: verdict, heartland: form["heartland"], sage: form["sage"], actor: actor, why: why)
            return (message, "/matches/\(HTML.url(id))")
        case .saveMapping:
            return (try await saveMapping(form, actor: actor), "/mapping")
        case .restoreMapping(let id):
            return (try await restoreMapping(id, why: form["why"] ?? "", actor: actor), "/mapping/versions")
        case .saveRules:
            return (try await saveRules(form, actor: actor), "/rules")
        case .restoreRules(let id):
            return (try await restoreRules(id, why: form["why"] ?? "", actor: actor), "/rules/versions")
        case .acknowledgeAlert:
            guard let fingerprint = form["fingerprint"], !fingerprint.isEmpty else { throw ConsoleError.badRequest("which alert group? (fingerprint)") }
            return (try await acknowledge(fingerprint: fingerprint, actor: actor), "/alerts")
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
