import Foundation
import Messaging

/// Who may in: people through the login form (a session cookie), scripts with an API token.
extension OperationsConsole {
    /// A session cookie, or `Authorization: Bearer TOKEN` with a token of the tokens file. A wrong
    /// token counts as a failed login against the client's address; Basic credentials (a password
    /// on every request) are not accepted.
    func authenticate(_ request: ConsoleRequest) -> Principal? {
        if let authorization = request.headers["authorization"] {
            guard authorization.hasPrefix("Bearer "), let token = tokens.token(matching: String(authorization.dropFirst(7))) else {
                loginThrottle.failed(user: nil, address: request.clientAddress)
                return nil
            }
            return Principal(user: ConsoleUsers.User(name: "token:\(token.name)", role: token.role, hash: nil))
        }
        guard let id = request.cookies[SessionStore.cookieName], let session = sessions.session(id: id) else { return nil }
        return Principal(user: session.user, csrfToken: session.csrfToken, sessionID: id)
    }

    /// 429 with `Retry-After` and a message that says what to do.
    static func tooManyAttempts(_ refusal: LoginThrottle.Refusal, json: Bool, next: String? = nil) -> ConsoleResponse {
        var response: ConsoleResponse = json ? .json(429, ["error": refusal.message]) : .html(429, HTML.login(error: refusal.message, next: next))
        response.headers["Retry-After"] = String(Int(refusal.retryAfter.rounded(.up)))
        return response
    }

    func login(_ request: ConsoleRequest) async -> ConsoleResponse {
        let next = LocalRedirect.target(request.form["next"])
        let name = request.form["name"] ?? ""
        // Checked before the password, so that a locked name cannot be probed with more guesses.
        if let refusal = loginThrottle.refusal(user: name, address: request.clientAddress) {
            logger.warning("console login refused: too many failures", metadata: ["user": .untrusted(name), "address": .untrusted(request.clientAddress ?? "?")])
            return Self.tooManyAttempts(refusal, json: false, next: next)
        }
        guard let user = await configuration.users.authenticate(name: name, password: request.form["password"] ?? "") else {
            loginThrottle.failed(user: name, address: request.clientAddress)
            logger.notice("console login refused", metadata: ["user": .untrusted(name), "address": .untrusted(request.clientAddress ?? "?")])
            return .html(401, HTML.login(error: "Wrong name or password.", next: next))
        }
        loginThrottle.succeeded(user: user.name)
        let (id, _) = sessions.open(for: user)
        logger.info("console login", metadata: ["user": .string(user.name), "role": .string(user.role.rawValue)])
        var response = ConsoleResponse.redirect(next)
        response.headers["Set-Cookie"] = sessionCookie(id, maxAge: Int(sessions.lifetime))
        return response
    }

    func logout(_ principal: Principal) -> ConsoleResponse {
        if let id = principal.sessionID { sessions.close(id: id) }
        var response = ConsoleResponse.redirect("/login")
        response.headers["Set-Cookie"] = sessionCookie("", maxAge: 0)
        return response
    }

    /// `Secure` unless turned off for plain-HTTP development (`Configuration.secureCookies`).
    func sessionCookie(_ value: String, maxAge: Int) -> String {
        "\(SessionStore.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)\(configuration.secureCookies ? "; Secure" : "")"
    }

    /// Writes who asked for what in the audit trail before anything is done: an action the trail
    /// cannot record is refused (503), so nothing happens that the trail does not show.
    func auditRequest(_ action: ConsoleAction, principal: Principal, request: ConsoleRequest) async throws {
        let notice = AuditNotice(event: .consoleActionRequested, stage: "console",
                                 detail: "\(principal.user.name) (\(principal.user.role.rawValue)) asked for \(action.what) "
                                     + "from \(request.clientAddress ?? "an unknown address")",
                                 actor: principal.user.name)
        do {
            try await configuration.operations.record(notice, messageID: MessageID.random(), correlationID: nil)
        } catch {
            logger.error("console action refused: the audit trail cannot be written", metadata: ["action": .string(action.what), "error": .string("\(error)")])
            throw ConsoleError.unavailable("the audit trail cannot be written (\(error)), so \(action.what) was refused; "
                                           + "check the alerter's operations store (disk space, permissions) and try again")
        }
    }

    /// The audit event written before each action; the action's own event (`dlq_purged`, …) follows it.
    static let requestedEvent = AuditEvent.consoleActionRequested.rawValue
}
