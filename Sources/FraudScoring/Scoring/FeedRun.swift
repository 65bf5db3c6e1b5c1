import Accounting
import Foundation

/// The run a flagged feed event belongs to, when the flag is about a run: the clerk's voids of the last two hours, the
/// terminal's card-testing probes of the last ten minutes. Scored one by one as they happen, a run's first events pass
/// (nothing unusual is visible yet); when a later one is flagged, the run's earlier events are raised as exceptions too,
/// each saying which flag revealed it, so an analyst sees the whole run and not its tail. Only events the store recorded
/// before the flagged one count, and only a run of at least `minimumEarlier` earlier events.
///
/// Measured through the pipeline (docs/FRAUD.md): the clerk's voids of the whole day raised with a flagged void tripled the
/// false voids on 1,500-ticket days (a busy store's clerk voids four or five tickets a day), so a void run is two hours; a
/// terminal's keyed sales of the last hour raised with a flagged keyed sale added false positives and no recall (a busy
/// terminal takes a few keyed cards an hour), so keyed spikes have no run.
enum FeedRun: Equatable {
    case voids(clerk: String, localDay: String, since: Date)
    case probes(since: Date)

    static let cardTestingWindow: TimeInterval = 10 * 60
    static let voidWindow: TimeInterval = 2 * 3600
    /// At most this many earlier events are raised for one flag.
    static let limit = 50

    /// The run a flagged event may have revealed; nil for an event that is not part of one.
    static func of(_ event: ScoredEvent, cardTesting: Bool) -> FeedRun? {
        of(Flag(event), cardTesting: cardTesting)
    }

    static func of(_ flag: Flag, cardTesting: Bool) -> FeedRun? {
        if cardTesting { return .probes(since: flag.at.addingTimeInterval(-cardTestingWindow)) }
        guard flag.kind == .void, let clerk = flag.clerk else { return nil }
        return .voids(clerk: clerk, localDay: flag.localDay, since: flag.at.addingTimeInterval(-voidWindow))
    }

    /// The flagged event a run is told from: the one being scored, or one recorded earlier when a member of its run is
    /// scored after it.
    struct Flag {
        var id: String
        var kind: ScoredEvent.Kind
        var store: String
        var terminal: String
        var clerk: String?
        var at: Date
        var localDay: String

        init(_ event: ScoredEvent) {
            (id, kind, store, terminal, clerk, at, localDay) = (event.id, event.kind, event.store.rawValue, event.terminal, event.clerk,
                                                                event.occurredAt, event.localTime.day)
        }

        init(_ event: EventHistory.Event) {
            (id, kind, store, terminal, clerk, at, localDay) = (event.id, event.kind, event.store, event.terminal, event.clerk, event.at,
                                                                event.localDay)
        }
    }

    /// The events recorded after `event` that would have had it in their run had it been recorded before them, oldest
    /// first: the terminal's probes of the next ten minutes when it is a probe, the clerk's voids of the next two hours
    /// when it is a void. The scorer handles several feed messages at once (`--concurrency`), so a run's first event
    /// can be scored after the one that flags the run; it then joins the run it missed.
    /// Whether an event can be part of a run at all (a probe, or a void with its clerk): the others need no look at the
    /// history when they pass (`laterEvents` selects the same, on the recorded copy).
    static func mayJoin(_ event: ScoredEvent) -> Bool {
        FeatureStore.isSmallAuthorisation(event) || event.kind == .decline || (event.kind == .void && event.clerk != nil)
    }

    static func laterEvents(than event: EventHistory.Event, in history: EventHistory) async throws -> [EventHistory.Event] {
        let later: [EventHistory.Event]
        if event.small || event.kind == .decline {
            later = try await history.probes(store: event.store, terminal: event.terminal, from: event.at,
                                             to: event.at.addingTimeInterval(cardTestingWindow), limit: limit).events
        } else if event.kind == .void, let clerk = event.clerk {
            later = try await history.voids(store: event.store, clerk: clerk, localDay: event.localDay, limit: 10 * limit).events
                .filter { $0.at <= event.at.addingTimeInterval(voidWindow) }
        } else {
            return []
        }
        return later.filter { $0.id != event.id && $0.at >= event.at }
    }

    /// Earlier events of the run a flag must see before it calls them a run: a burst's probes count from the first, a
    /// clerk's voids from two (three in two hours with the flagged one).
    var minimumEarlier: Int {
        switch self {
        case .probes: 1
        case .voids: 2
        }
    }

    /// The run's events recorded before the flagged one, oldest first; empty when there are fewer than `minimumEarlier`.
    func earlierEvents(than flag: Flag, in history: EventHistory) async throws -> [EventHistory.Event] {
        let slice = switch self {
        case .voids(let clerk, let day, _):
            try await history.voids(store: flag.store, clerk: clerk, localDay: day, limit: Self.limit + 1)
        case .probes(let since):
            try await history.probes(store: flag.store, terminal: flag.terminal, from: since, to: flag.at, limit: Self.limit + 1)
        }
        let since = switch self {
        case .voids(_, _, let since), .probes(let since): since
        }
        let earlier = slice.events.filter { $0.id != flag.id && $0.at >= since && $0.at <= flag.at }.prefix(Self.limit)
        return earlier.count >= minimumEarlier ? Array(earlier) : []
    }

    /// The first reason of an earlier event's exception: `part of a run: 5 voids by clerk Ava within two hours on 2026-12-01 (this one at
    /// 14:02 local); flagged when ticket:9:void was scored`.
    func reason(for earlier: EventHistory.Event, count: Int, flagged: Flag, zone: TimeZone) -> String {
        let run = switch self {
        case .voids(let clerk, let day, _): "\(count) voids by clerk \(clerk) within two hours on \(day)"
        case .probes: "card testing: \(count) tiny or declined authorisations on terminal \(flagged.terminal) within 10 minutes"
        }
        return "\(Self.runPrefix)\(run) (this one at \(GatewayFeed.localTime(earlier.at, in: zone))); flagged when \(flagged.id) was scored"
    }

    /// The exception's `decidedBy` for the run's earlier events: which flag raised them (a redelivery of the flagged event
    /// finds them by it, to send their audit records again).
    static func decidedBy(_ flaggedID: String) -> String { decidedByPrefix + flaggedID }
    static let decidedByPrefix = "run of "

    static let runPrefix = "part of a run: "

    /// An earlier event in words: `void ticket:7:void $12.00 cash by clerk Ava (store S01, terminal 101, 13:40 local)`.
    static func summary(_ earlier: EventHistory.Event, in zone: TimeZone) -> String {
        let card = earlier.card.map { " on \($0)" } ?? ""
        let clerk = earlier.clerk.map { " by clerk \($0)" } ?? ""
        return "\(earlier.kind.rawValue) \(earlier.id) $\(Money.decimalString(earlier.amountCents)) \(earlier.tender)\(card)\(earlier.keyed ? ", keyed" : "")"
            + "\(clerk) (store \(earlier.store), terminal \(earlier.terminal), \(GatewayFeed.localTime(earlier.at, in: zone)))"
    }
}
