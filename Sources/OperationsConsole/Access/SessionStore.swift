import Foundation
import Synchronization

/// Logged-in browser sessions, kept in memory: a random id in an HttpOnly, SameSite=Strict cookie,
/// and a per-session CSRF token every form posts back. A restart of the alerter logs everyone out.
final class SessionStore: Sendable {
    struct Session: Sendable {
        var user: ConsoleUsers.User
        var csrfToken: String
        var expires: Date
    }

    static let cookieName = "bridge_console"
    let lifetime: TimeInterval
    private let sessions = Mutex<[String: Session]>([:])

    init(lifetime: TimeInterval = 8 * 3600) { self.lifetime = lifetime }

    /// A new session; returns its id.
    func open(for user: ConsoleUsers.User) -> (id: String, session: Session) {
        let id = Self.randomToken(), session = Session(user: user, csrfToken: Self.randomToken(), expires: Date().addingTimeInterval(lifetime))
        sessions.withLock { all in
            all = all.filter { $0.value.expires > Date() }
            all[id] = session
        }
        return (id, session)
    }

    func session(id: String) -> Session? {
        sessions.withLock { all in
            guard let session = all[id] else { return nil }
            guard session.expires > Date() else { all[id] = nil; return nil }
            return session
        }
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
