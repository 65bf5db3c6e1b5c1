import Foundation
import Synchronization

/// Logged-in browser sessions, kept in memory: a random id in an HttpOnly, SameSite=Strict cookie,
/// and a per-session CSRF token every form posts back. A session ends at its absolute lifetime
/// (8 h) or after `idleTimeout` (30 min) without a request, whichever comes first. A restart of the
/// alerter logs everyone out (nothing about sessions is written to disk).
final class SessionStore: Sendable {
    struct Session: Sendable {
        var user: ConsoleUsers.User
        var csrfToken: String
        var expires: Date
        var lastSeen: Date
    }

    static let cookieName = "bridge_console"
    let lifetime: TimeInterval
    let idleTimeout: TimeInterval
    private let now: @Sendable () -> Date
    private let sessions = Mutex<[String: Session]>([:])

    init(lifetime: TimeInterval = 8 * 3600, idleTimeout: TimeInterval = 30 * 60, now: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.idleTimeout = idleTimeout
        self.now = now
    }

    /// A new session; returns its id.
    func open(for user: ConsoleUsers.User) -> (id: String, session: Session) {
        let now = now()
        let id = Self.randomToken(), session = Session(user: user, csrfToken: Self.randomToken(), expires: now.addingTimeInterval(lifetime), lastSeen: now)
        sessions.withLock { all in
            all = all.filter { self.isLive($0.value, at: now) }
            all[id] = session
        }
        return (id, session)
    }

    /// The live session with this id; a request through it counts as activity.
    func session(id: String) -> Session? {
        let now = now()
        return sessions.withLock { all in
            guard var session = all[id] else { return nil }
            guard isLive(session, at: now) else { all[id] = nil; return nil }
            session.lastSeen = now
            all[id] = session
            return session
        }
    }

    private func isLive(_ session: Session, at now: Date) -> Bool {
        session.expires > now && session.lastSeen.addingTimeInterval(idleTimeout) > now
    }

    func close(id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    /// 256 bits from the system's CSPRNG, hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
