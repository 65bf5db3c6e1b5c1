import BridgeSettings
import Foundation
import SyncContracts
import Yams

/// Entities synced field by field.
public enum SyncEntity: String, Sendable, Codable, Hashable, CaseIterable {
    case item, customer

    /// Every field of the entity the bridge knows how to sync.
    public var fields: [String] {
        switch self {
        case .item: return ["description", "price", "active"]
        case .customer: return ["first_name", "last_name", "email", "phone", "active"]
        }
    }
}

/// `Config/sync.yaml`: per-field ownership (the conflict policy and the basis of echo suppression),
/// Sage price list and order numbering, location mapping, matching threshold.
public struct SyncPolicy: Sendable, Equatable {
    public var ownership: [SyncEntity: [String: SyncSide]]
    public var priceList = "BASE"
    public var currency = "USD"
    public var orderPrefix = "HL-"
    public var sageCustomerDefaults: [String: String] = [:]
    /// Sage IC location → Heartland location id.
    public var locations: [String: Int64] = ["1": 1]
    public var createMissingItems = true
    public var nameThreshold = 0.85

    /// The defaults of Config/sync.yaml.
    public static let standard = SyncPolicy(ownership: [
        .item: ["description": .sage, "price": .sage, "active": .sage],
        .customer: ["first_name": .heartland, "last_name": .heartland, "email": .heartland, "phone": .heartland, "active": .sage],
    ])

    public init(ownership: [SyncEntity: [String: SyncSide]]) {
        self.ownership = ownership
    }

    /// The fields of `entity` that `side` owns, in the entity's field order.
    public func owned(_ entity: SyncEntity, by side: SyncSide) -> [String] {
        entity.fields.filter { ownership[entity]?[$0] == side }
    }

    public func owner(_ entity: SyncEntity, _ field: String) -> SyncSide? { ownership[entity]?[field] }

    /// The Heartland location of a Sage location, or nil when unmapped.
    public func heartlandLocation(sage location: String) -> Int64? { locations[location] }

    public func sageLocation(heartland id: Int64) -> String? { locations.first { $0.value == id }?.key }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(path: String) throws -> SyncPolicy {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Invalid(description: "sync policy \(path) cannot be read (pass --sync-config or set BRIDGE_SYNC_CONFIG)")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ yaml: String, source: String = "sync policy") throws -> SyncPolicy {
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: yaml) } catch {
            throw Invalid(description: "\(source): \(error)")
        }
        var policy = SyncPolicy(ownership: [:])
        for (name, fields) in file.ownership ?? [:] {
            guard let entity = SyncEntity(rawValue: name) else {
                throw Invalid(description: "\(source): ownership of unknown entity '\(name)' (known: \(SyncEntity.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            for (field, side) in fields {
                guard entity.fields.contains(field) else {
                    throw Invalid(description: "\(source): ownership.\(name).\(field): the bridge does not sync this field (known: \(entity.fields.joined(separator: ", ")))")
                }
                guard let owner = SyncSide(rawValue: side) else {
                    throw Invalid(description: "\(source): ownership.\(name).\(field) must be sage or heartland, not '\(side)'")
                }
                policy.ownership[entity, default: [:]][field] = owner
            }
        }
        for entity in SyncEntity.allCases {
            let missing = entity.fields.filter { policy.ownership[entity]?[$0] == nil }
            guard missing.isEmpty else {
                throw Invalid(description: "\(source): ownership.\(entity.rawValue) names no owner for \(missing.joined(separator: ", "))")
            }
        }
        if let sage = file.sage {
            policy.priceList = sage.price_list ?? policy.priceList
            policy.currency = sage.currency ?? policy.currency
            policy.orderPrefix = sage.order_prefix ?? policy.orderPrefix
            policy.sageCustomerDefaults = sage.customer_defaults ?? [:]
        }
        if let heartland = file.heartland {
            policy.locations = heartland.locations ?? policy.locations
            policy.createMissingItems = heartland.create_missing_items ?? policy.createMissingItems
        }
        if let threshold = file.matching?.name_threshold {
            guard threshold > 0, threshold <= 1 else { throw Invalid(description: "\(source): matching.name_threshold must be in (0, 1]") }
            policy.nameThreshold = threshold
        }
        return policy
    }

    struct File: Decodable {
        struct Sage: Decodable {
            var price_list: String?
            var currency: String?
            var order_prefix: String?
            var customer_defaults: [String: String]?
        }
        struct Heartland: Decodable {
            var locations: [String: Int64]?
            var create_missing_items: Bool?
        }
        struct Matching: Decodable { var name_threshold: Double? }
        var ownership: [String: [String: String]]?
        var sage: Sage?
        var heartland: Heartland?
        var matching: Matching?
    }

    /// `--sync-config` default: `$BRIDGE_SYNC_CONFIG` or `Config/sync.yaml`.
    public static var defaultPath: String { EnvironmentReader.current.value("BRIDGE_SYNC_CONFIG") ?? "Config/sync.yaml" }
}
