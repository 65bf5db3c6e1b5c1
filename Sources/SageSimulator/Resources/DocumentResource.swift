import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// A Sage 300 entity collection kept as JSON documents: list with OData, create, read by key,
/// and (where the resource allows it) PATCH and DELETE.
public struct DocumentResource: Sendable {
    public typealias Create = @Sendable (Database, JSONValue, Date) throws -> JSONValue
    public typealias Update = @Sendable (Database, _ existing: JSONValue, _ patch: JSONValue, Date) throws -> JSONValue
    /// Throws when the entity cannot be deleted (as Sage refuses to delete an order with shipments).
    public typealias Delete = @Sendable (Database, _ existing: JSONValue) throws -> Void

    public let resource: String
    public let keyFields: [String]
    public let create: Create
    public let update: Update?
    public let delete: Delete?

    public init(resource: String, keyFields: [String], create: @escaping Create, update: Update? = nil, delete: Delete? = nil) {
        self.resource = resource
        self.keyFields = keyFields
        self.create = create
        self.update = update
        self.delete = delete
    }

    /// Storage key of an entity: its key field values joined by `|`.
    public func storageKey(of entity: JSONValue) -> String {
        keyFields.map { entity[$0]?.stringValue ?? "" }.joined(separator: "|")
    }

    /// Reads an OData key segment: `'1100'`, `123`, or `ItemNumber='A1',Location='1'`.
    public func storageKey(fromODataKey text: String) throws -> String {
        let parts = text.split(separator: ",").map { String($0) }
        var values: [String: String] = [:]
        for part in parts {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 {
                values[pair[0]] = DocumentResource.unquote(pair[1])
            } else if keyFields.count == 1 {
                values[keyFields[0]] = DocumentResource.unquote(pair[0])
            }
        }
        let ordered = keyFields.compactMap { values[$0] }
        guard ordered.count == keyFields.count else {
            throw SageError.fieldInvalid("Key of \(resource) needs \(keyFields.joined(separator: ", ")).")
        }
        return ordered.joined(separator: "|")
    }

    static func unquote(_ s: String) -> String {
        guard s.hasPrefix("'"), s.hasSuffix("'"), s.count >= 2 else { return s }
        return String(s.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
    }

    public func insert(_ db: Database, body: JSONValue, now: Date) throws -> JSONValue {
        let entity = try create(db, body, now)
        let key = storageKey(of: entity)
        if try SageRecords.exists(db, resource: resource, key: key) {
            throw SageError.duplicate("\(resource) record '\(key.replacingOccurrences(of: "|", with: "', '"))' already exists.")
        }
        try SageRecords.insert(db, resource: resource, key: key, json: entity, now: Timestamps.iso8601Millis(now))
        return entity
    }

    public func patch(_ db: Database, key: String, body: JSONValue, now: Date) throws -> JSONValue {
        guard let update else { throw SageError.general("\(resource) cannot be updated.") }
        guard let existing = try SageRecords.fetch(db, resource: resource, key: key) else {
            throw SageError.notFound("\(resource) record '\(key)' does not exist.")
        }
        let entity = try update(db, existing, body, now)
        try SageRecords.update(db, resource: resource, key: key, json: entity, now: Timestamps.iso8601Millis(now))
        return entity
    }

    public func remove(_ db: Database, key: String) throws {
        guard let delete else { throw SageError.general("\(resource) cannot be deleted.") }
        guard let existing = try SageRecords.fetch(db, resource: resource, key: key) else {
            throw SageError.notFound("\(resource) record '\(key)' does not exist.")
        }
        try delete(db, existing)
        try db.execute(sql: "DELETE FROM sage_record WHERE resource = ? AND key = ?", arguments: [resource, key])
    }

    /// Copies every field of `patch` except the key fields onto `existing`.
    public static func merge(_ existing: JSONValue, _ patch: JSONValue, keeping keys: [String]) -> JSONValue {
        guard case .object(var fields) = existing, let changes = patch.objectValue else { return existing }
        for (name, value) in changes where !keys.contains(name) { fields[name] = value }
        return .object(fields)
    }

    /// Starts from `defaults` and overlays the body's fields.
    public static func overlay(_ defaults: [String: JSONValue], with body: JSONValue) -> [String: JSONValue] {
        var fields = defaults
        for (name, value) in body.objectValue ?? [:] { fields[name] = value }
        return fields
    }
}

extension JSONValue {
    /// A required non-empty string field, or a `FieldInvalid` naming it.
    func required(_ field: String, in what: String) throws -> String {
        guard let value = self[field]?.stringValue, !value.isEmpty else {
            throw SageError.fieldInvalid("\(field) is required for \(what).")
        }
        return value
    }
}
