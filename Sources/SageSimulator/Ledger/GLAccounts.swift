import Foundation
import GRDB
import SimulatorKit

/// `GL/GLAccounts`: the chart. Creating an account is how a test repairs a missing mapping target.
public enum GLAccounts {
    public static let resource = "GL/GLAccounts"

    public static func render(number: String, description: String, type: String, normalBalance: String, now: String)
        -> JSONValue
    {
        [
            "UnformattedAccount": .string(number), "AccountNumber": .string(number), "FormattedAccount": .string(number),
            "Description": .string(description), "AccountType": .string(type == "I" ? "IncomeStatement" : "BalanceSheet"),
            "NormalBalanceDRCR": .string(normalBalance == "C" ? "Credit" : "Debit"), "Status": "Active",
            "PostToAccount": "Detail", "AccountGroupCode": "", "StructureCode": "ACCT",
            "DateCreated": .string(now), "DateLastMaintained": .string(now),
        ]
    }

    /// The collection: list, read by `('4000')`, create.
    public static let accounts = DocumentResource(resource: resource, keyFields: ["AccountNumber"]) { db, body, now in
        try create(db, body: body, now: Timestamps.iso8601(now))
    }

    /// Validates a create body and returns the account to store (the insert is the caller's).
    static func create(_ db: Database, body: JSONValue, now: String) throws -> JSONValue {
        guard let number = (body["AccountNumber"] ?? body["UnformattedAccount"])?.stringValue,
            !number.isEmpty, number.count <= 45
        else { throw SageError.fieldInvalid("AccountNumber is required.") }
        guard let description = body["Description"]?.stringValue, !description.isEmpty else {
            throw SageError.fieldInvalid("Description is required for account \(number).")
        }
        if try SageRecords.exists(db, resource: resource, key: number) {
            throw SageError.duplicate("Account \(number) already exists.")
        }
        let type = body["AccountType"]?.stringValue.map { $0.hasPrefix("I") ? "I" : "B" } ?? "B"
        let normal = body["NormalBalanceDRCR"]?.stringValue.map { $0.hasPrefix("C") ? "C" : "D" } ?? "D"
        return render(number: number, description: description, type: type, normalBalance: normal, now: now)
    }
}
