import Foundation
import GRDB
import Messaging

/// The feature store's events as a person looks at them: what else happened around one flagged transaction (its
/// terminal's tiny authorisations and declines, its clerk's voids of the day, its card's and terminal's day, a refund's
/// sale). Read-only, on the fraud-scorer's own file (`FeatureStore`), so there is no second copy of the data; every
/// query is bounded (`limit`, one more row read to say that there were more) and runs on one of the store's indexes.
///
/// The store keeps what scoring needs, no more: the card token (never a card number), the terminal, the clerk when the
/// source named one, the amount, the instant and the store's local day, no ticket and no time zone. Events older than
/// the store's `maxAge` (120 days) are pruned.
public final class EventHistory: Sendable {
    /// One recorded event.
    public struct Event: Codable, Sendable, Hashable {
        public var id: String
        public var kind: ScoredEvent.Kind
        public var store: String
        /// The terminal as the source names it (the store's own prefix taken off).
        public var terminal: String
        public var clerk: String?
        /// `BRAND:first6******last4` or the gateway's token; nil for cash.
        public var card: String?
        public var tender: String
        public var keyed: Bool
        /// A sale or decline under `FeatureStore.smallAuthCents`.
        public var small: Bool
        public var amountCents: Int64
        public var at: Date
        /// The store's local day, `YYYY-MM-DD`.
        public var localDay: String
        /// A refund's sale, as Heartland linked it.
        public var originalId: String?
    }

    /// Some events, and whether the limit left others out.
    public struct Slice: Codable, Sendable, Hashable {
        public var events: [Event]
        public var truncated: Bool

        public init(events: [Event], truncated: Bool) {
            self.events = events
            self.truncated = truncated
        }
    }

    private let database: any DatabaseReader

    /// A view over a feature store's own connection (`FeatureStore.history`): the scorer reads a flagged event's run with it.
    init(database: any DatabaseReader) {
        self.database = database
    }

    /// Opens the fraud-scorer's feature store read-only (it must exist: a reader never creates it, nor its tables).
    /// Opening reads the file's header once, when the console first needs it, as the review store's opening does.
    public static func open(path: String) async throws -> EventHistory {
        guard FileManager.default.fileExists(atPath: path) else { throw Problem.missing(path: path) }
        return EventHistory(database: try SQLiteFile.readOnlyPool(path: path))
    }

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case missing(path: String)

        public var description: String {
            switch self {
            case .missing(let path):
                "no feature store at \(path): pass --feature-store or set BRIDGE_FEATURE_STORE to the fraud-scorer's file"
            }
        }
    }

    /// The event recorded under this id (a transaction id, `ticket:<id>:void`, `<id>:reversal`).
    public func event(id: String) async throws -> Event? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM event WHERE id = ?", arguments: [id]).map(Self.event)
        }
    }

    /// The terminal's tiny authorisations and declines from `from` to `to` (card testing), in time order.
    public func probes(store: String, terminal: String, from: Date, to: Date, limit: Int) async throws -> Slice {
        try await slice(limit: limit, sql: """
            SELECT * FROM event INDEXED BY event_terminal WHERE terminal = ? AND at BETWEEN ? AND ? AND (small OR kind = 'decline')
            ORDER BY at, id LIMIT ?
            """, arguments: ["\(store)/\(terminal)", from.timeIntervalSince1970, to.timeIntervalSince1970])
    }

    /// The clerk's voids of one local day at the store, in time order.
    public func voids(store: String, clerk: String, localDay: String, limit: Int) async throws -> Slice {
        try await slice(limit: limit, sql: """
            SELECT * FROM event INDEXED BY event_shift WHERE store = ? AND clerk = ? AND local_day = ? AND kind = 'void'
            ORDER BY at, id LIMIT ?
            """, arguments: [store, clerk, localDay])
    }

    /// The card's events of one local day, at any store, in time order. `around` is an instant of that day: the index
    /// is read within ±36 hours of it (a local day lies within that of any of its instants, whatever the time zone).
    public func card(_ card: String, localDay: String, around: Date, limit: Int) async throws -> Slice {
        let at = around.timeIntervalSince1970
        return try await slice(limit: limit, sql: """
            SELECT * FROM event INDEXED BY event_card WHERE card = ? AND at BETWEEN ? AND ? AND local_day = ?
            ORDER BY at, id LIMIT ?
            """, arguments: [card, at - Self.dayReach, at + Self.dayReach, localDay])
    }

    /// The terminal's events of one local day, in time order (see `card` for `around`).
    public func terminal(store: String, terminal: String, localDay: String, around: Date, limit: Int) async throws -> Slice {
        let at = around.timeIntervalSince1970
        return try await slice(limit: limit, sql: """
            SELECT * FROM event INDEXED BY event_terminal WHERE terminal = ? AND at BETWEEN ? AND ? AND local_day = ?
            ORDER BY at, id LIMIT ?
            """, arguments: ["\(store)/\(terminal)", at - Self.dayReach, at + Self.dayReach, localDay])
    }

    /// A refund's sale, when it is recorded, and every refund linked to that sale, in time order.
    public func refunds(ofSale originalId: String, limit: Int) async throws -> (sale: Event?, refunds: Slice) {
        let sale = try await event(id: originalId)
        let refunds = try await slice(limit: limit, sql: """
            SELECT * FROM event INDEXED BY event_original WHERE original_id = ? ORDER BY at, id LIMIT ?
            """, arguments: [originalId])
        return (sale, refunds)
    }

    /// How far from an instant its local day can reach: 24 h plus the widest UTC offsets (−12 h to +14 h).
    static let dayReach: TimeInterval = 36 * 3600

    private func slice(limit: Int, sql: String, arguments: StatementArguments) async throws -> Slice {
        let bounded = max(1, limit)
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments + [bounded + 1]).map(Self.event)
        }
        return Slice(events: Array(rows.prefix(bounded)), truncated: rows.count > bounded)
    }

    private static func event(_ row: Row) -> Event {
        let store: String = row["store"]
        let terminal: String = row["terminal"]
        let at: Double = row["at"]
        return Event(
            id: row["id"], kind: ScoredEvent.Kind(rawValue: row["kind"]) ?? .sale, store: store,
            terminal: terminal.hasPrefix("\(store)/") ? String(terminal.dropFirst(store.count + 1)) : terminal,
            clerk: row["clerk"], card: row["card"], tender: row["tender"], keyed: row["keyed"], small: row["small"],
            amountCents: row["amount"], at: Date(timeIntervalSince1970: at), localDay: row["local_day"], originalId: row["original_id"])
    }
}
