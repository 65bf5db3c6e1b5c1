import BridgeClock
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

    /// The collection: list, read by `('4000')`, create, and PATCH of the description and the status (Sage 300 lets an
    /// account be made inactive; journals to it are then refused).
    public static let accounts = DocumentResource(resource: resource, keyFields: ["AccountNumber"], create: { db, body, now in
        try create(db, body: body, now: Timestamps.iso8601(now))
    }, update: { _, existing, patch, now in
        for field in patch.objectValue?.keys.sorted() ?? [] where !["Description", "Status", "AccountNumber", "UnformattedAccount"].contains(field) {
            throw SageError.fieldInvalid("\(field) cannot be changed here.")
        }
        if let status = patch["Status"] {
            guard status == "Active" || status == "Inactive" else { throw SageError.fieldInvalid("Status must be Active or Inactive.") }
        }
        if let description = patch["Description"] {
            guard let text = description.stringValue, !text.isEmpty else { throw SageError.fieldInvalid("Description is required.") }
        }
        guard case .object(var fields) = DocumentResource.merge(existing, patch, keeping: ["AccountNumber", "UnformattedAccount"]) else {
            return existing
        }
        fields["DateLastMaintained"] = .string(Timestamps.iso8601(now))
        return .object(fields)
    })

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
