import Crypto
import Foundation

/// Lowercase hex SHA-256 (what `sha256sum` prints): how API tokens are stored (256 random bits need no
/// slow hash), and the users file's legacy password form (`PasswordHash.legacySHA256`).
enum SecretHash {
    static func hex(_ text: String) -> String {
        Crypto.SHA256.hash(data: Data(text.utf8)).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }
}
