import Foundation
import HummingbirdBcrypt
import NIOPosix

/// A console password as the users file holds it: bcrypt (`$2b$12$…`, salted and slow), or, during
/// the transition, the legacy unsalted SHA-256 hex that `sha256sum` prints.
///
/// One bcrypt verification at cost 12 takes about 0.3 s of CPU (0.29 s measured on 2 cores by
/// `SecurityTests.testOneVerificationIsMeasuredAndRunsOffTheCooperativePool`, which prints it); that
/// would stall one of the two threads of Swift's cooperative pool on a 2-core machine; so `verify`
/// runs it on NIO's thread pool and awaits it.
enum PasswordHash: Sendable, Equatable {
    case bcrypt(String)
    case legacySHA256(String)

    /// `ConsoleUsers.line`'s default too.
    static let defaultCost: UInt8 = 12

    init?(_ field: String) {
        if Self.isBcrypt(field) {
            self = .bcrypt(field)
        } else if field.count == 64, field.allSatisfy(\.isHexDigit) {
            self = .legacySHA256(field.lowercased())
        } else {
            return nil
        }
    }

    var isLegacy: Bool {
        if case .legacySHA256 = self { return true }
        return false
    }

    /// `$2a$`/`$2b$`/`$2y$`, a two-digit cost of 4…31, then 53 characters of bcrypt's base64 (salt and hash).
    static func isBcrypt(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 60, text.hasPrefix("$2"), [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
              bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
              let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), (4...31).contains(cost) else { return false }
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return bytes[7...].allSatisfy(alphabet.contains)
    }

    /// A new salted hash. Blocks for the cost: call it from tools and tests, or off the cooperative pool.
    static func newHash(_ password: String, cost: UInt8 = defaultCost) -> String {
        Bcrypt.hash(password, cost: cost)
    }

    /// Whether `password` is the one hashed, blocking for bcrypt's cost: `verify` runs it off the pool.
    func matches(_ password: String) -> Bool {
        switch self {
        case .bcrypt(let hash): return Bcrypt.verify(password, hash: hash)
        case .legacySHA256(let hex): return constantTimeEqual(SecretHash.hex(password), hex)
        }
    }

    /// `matches`, on NIO's thread pool; false if the pool is shutting down.
    func verify(_ password: String) async -> Bool {
        if case .legacySHA256 = self { return matches(password) }  // microseconds: no hop needed
        return (try? await NIOThreadPool.singleton.runIfActive { self.matches(password) }) ?? false
    }

    /// Checked against when the name is unknown, so that the answer takes as long as for a wrong password.
    static let unknownUser = PasswordHash.bcrypt("$2b$12$2d8QkWDCfQQDvjRo.pO/gOYiYVrefUbcE/tG62Ag9baM7vnEKKXBm")
}
