import Foundation

/// A row of `GL/GLAccounts`.
public struct SageGLAccount: Sendable, Hashable, Codable {
    public var accountNumber: String
    public var description: String
    /// `Active` or `Inactive`.
    public var status: String
    public var accountType: String?
    public var normalBalance: String?

    public var isActive: Bool { status.caseInsensitiveCompare("Active") == .orderedSame }

    public init(accountNumber: String, description: String, status: String = "Active", accountType: String? = nil,
                normalBalance: String? = nil) {
        self.accountNumber = accountNumber
        self.description = description
        self.status = status
        self.accountType = accountType
        self.normalBalance = normalBalance
    }

    enum CodingKeys: String, CodingKey {
        case accountNumber = "AccountNumber"
        case description = "Description"
        case status = "Status"
        case accountType = "AccountType"
        case normalBalance = "NormalBalanceDRCR"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        accountNumber = try c.decode(String.self, forKey: .accountNumber)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? "Active"
        accountType = try c.decodeIfPresent(String.self, forKey: .accountType)
        normalBalance = try c.decodeIfPresent(String.self, forKey: .normalBalance)
    }
}
