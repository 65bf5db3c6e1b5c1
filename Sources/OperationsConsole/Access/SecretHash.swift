import Crypto
import Foundation

/// The users file's password hashes: lowercase hex SHA-256 of the secret (what `sha256sum` prints).
enum SecretHash {
    static func hex(_ text: String) -> String {
        Crypto.SHA256.hash(data: Data(text.utf8)).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }
}
