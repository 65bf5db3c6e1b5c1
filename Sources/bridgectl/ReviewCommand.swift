import AMQP
import ArgumentParser
import BridgeClock
import BridgeSettings
import Foundation
import FraudScoring
import Messaging
import PipelineContracts

/// The fraud review queue: documents the fraud-scorer held, and the exceptions it raised on card
/// sales of batches that posted anyway (`E<id>`). Approving releases a document to the loaders exactly
/// once (the review store lets only the first decision through); acknowledging closes an exception;
/// every decision is recorded with who and why on `bridge.audit`.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Documents held by the fraud-scorer (list, show, approve: release to the loaders, reject) and its exceptions (acknowledge).",
        subcommands: [List.self, Show.self, Approve.self, Reject.self, Release.self, Acknowledge.self])

    struct StoreOption: ParsableArguments {
        @Option(help: "The fraud-scorer's review store. Default: $BRIDGE_REVIEW_DB or var/fraud-reviews.sqlite.")
        var store: String = EnvironmentReader.current.value("BRIDGE_REVIEW_DB") ?? "var/fraud-reviews.sqlite"

        func open() throws -> ReviewStore {
            guard FileManager.default.fileExists(atPath: store) else {
                throw ValidationError("no review store at \(store): is the fraud-scorer running here, or pass --store")
            }
            return try ReviewStore(path: store)
        }
    }

    struct Row: Encodable {
        var id: Int64
        var status: String
        var reference: String
        var heldAt: String
        var reasons: [String]
        var decidedBy: String?
        var decidedWhy: String?

        init(_ held: ReviewStore.HeldDocument) {
            id = held.id
            status = held.status.rawValue
            reference = (try? JSONDecoder().decode(JournalDocument.self, from: held.document))?.journal.reference ?? held.idempotencyKey
            heldAt = Timestamps.iso8601(held.heldAt)
            reasons = held.reasons
            decidedBy = held.decidedBy
            decidedWhy = held.decidedWhy
        }
    }

    /// A fraud exception as `list` and `show` print it.
    struct ExceptionRow: Encodable {
        var id: String
        var status: String
        var reference: String
        var transaction: String
        var riskScore: Int
        var sale: String
        var raisedAt: String
        var reasons: [String]
        var acknowledgedBy: String?
        var acknowledgedWhy: String?

        init(_ exception: FraudException) {
            id = exception.label
            status = exception.status.rawValue
            reference = exception.reference
            transaction = exception.transactionId
            riskScore = exception.riskScore
            sale = exception.summary
            raisedAt = Timestamps.iso8601(exception.raisedAt)
            reasons = exception.reasons
            acknowledgedBy = exception.acknowledgedBy
            acknowledgedWhy = exception.acknowledgedWhy
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Held (by default) or decided documents, then the open fraud exceptions of posted batches.",
            discussion: "With --exceptions only the exceptions, whose --status is open (default), acknowledged or all.")
        @OptionGroup var review: StoreOption
        @Option(help: "held, approved or rejected (exceptions: open or acknowledged); all when omitted.") var status: String = "held"
        @Flag(help: "Only the fraud exceptions (card sales flagged in batches that posted).") var exceptions = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try review.open()
            if exceptions {
                let wanted = ["held", "open"].contains(status) ? FraudException.Status.open : FraudException.Status(rawValue: status)
                guard status == "all" || wanted != nil else { throw ValidationError("--status must be open, acknowledged or all") }
                let rows = try await store.exceptions(status: status == "all" ? nil : wanted).map(ExceptionRow.init)
                if json { print(try Output.json(rows)); return }
                print(rows.isEmpty ? "no \(status == "all" ? "" : (wanted?.rawValue ?? status) + " ")exceptions" : ReviewCommand.table(rows))
                return
            }
            let wanted = status == "all" ? nil : ReviewStore.Status(rawValue: status)
            guard status == "all" || wanted != nil else { throw ValidationError("--status must be held, approved, rejected or all") }
            let rows = try await store.list(status: wanted).map(Row.init)
            if json { print(try Output.json(rows)); return }
            if rows.isEmpty {
                print("no \(status == "all" ? "" : status + " ")documents")
            } else {
                print(Output.table(["ID", "STATUS", "REFERENCE", "HELD AT", "WHY"],
                                   rows.map { [String($0.id), $0.status, $0.reference, $0.heldAt, $0.reasons.joined(separator: "; ")] }))
            }
            let open = try await store.exceptions(status: .open).map(ExceptionRow.init)
            if !open.isEmpty {
                print("\n\(open.count) open exception(s): card sales the rules flagged for an analyst; `bridgectl review acknowledge E<id> --why …` closes one")
                print(ReviewCommand.table(open))
            }
        }
    }

    static func table(_ rows: [ExceptionRow]) -> String {
        Output.table(["ID", "STATUS", "REFERENCE", "RISK", "SALE", "WHY"],
                     rows.map { [$0.id, $0.status, $0.reference, String($0.riskScore), $0.sale, $0.reasons.joined(separator: "; ")] })
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One held document (why, and the journal it would post), or an exception (E<id>).")
        @OptionGroup var review: StoreOption
        @Argument(help: "A held document's id, or E<id> for an exception.") var id: String
        @Flag(help: "Print JSON only (the journal lines included).") var json = false

        func run() async throws {
            if id.uppercased().hasPrefix("E") {
                guard let number = FraudException.id(id) else { throw ValidationError("\(id) is not an exception id (E<number>)") }
                await print(try Output.json(ExceptionRow(try review.open().exception(id: number))))
                return
            }
            guard let id = Int64(id) else { throw ValidationError("\(id) is not a held document's id (a number) or an exception's (E<number>)") }
            let held = try await review.open().show(id: id)
            let document = try? JSONDecoder().decode(JournalDocument.self, from: held.document)
            if json {
                struct Shown: Encodable { var review: Row; var lines: [Line] }
                struct Line: Encodable { var account: String; var description: String; var signedCents: Int64 }
                print(try Output.json(Shown(review: Row(held), lines: document?.journal.lines.map {
                    Line(account: $0.account.rawValue, description: $0.description, signedCents: $0.signedCents)
                } ?? [])))
                return
            }
            print(try Output.json(Row(held)))
            if let document {
                for line in document.journal.lines {
                    print("  \(line.account.rawValue)  \(line.description.padding(toLength: 40, withPad: " ", startingAt: 0))  \(line.signedCents)")
                }
            }
        }
    }

    struct Decision: ParsableArguments {
        @Argument var id: Int64
        @Option(help: "Who decides (recorded on bridge.audit).") var actor: String = EnvironmentReader.current.value("USER") ?? ""
        @Option(help: "Why (recorded on bridge.audit).") var why: String
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a held document to the loaders (once).")
        @OptionGroup var review: StoreOption
        @OptionGroup var decision: Decision
        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            let session = try await broker.session()  // before deciding: a broker that is away must not leave it approved and unsent
            defer { Task { await session.close() } }
            let held = try await review.open().approve(id: decision.id, by: decision.actor, why: decision.why)
            let (release, document) = try ReviewCommand.release(held)
            let audit = try ReviewCommand.audit(.reviewApproved, held, document: document, actor: decision.actor, why: decision.why)
            do {
                try await session.publish([release, audit])
            } catch {
                throw ValidationError("review \(held.id) is approved but sending it failed (\(error)); "
                                      + "run `bridgectl review release \(held.id)` to send it again")
            }
            await session.close()
            if broker.json { print(try Output.json(Row(held))); return }
            print("approved review \(held.id) (\(document.journal.reference)); released to the loaders")
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Never post a held document.")
        @OptionGroup var review: StoreOption
        @OptionGroup var decision: Decision
        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            let session = try await broker.session()
            defer { Task { await session.close() } }
            let held = try await review.open().reject(id: decision.id, by: decision.actor, why: decision.why)
            let document = try? JSONDecoder().decode(JournalDocument.self, from: held.document)
            try await session.publish([try ReviewCommand.audit(.reviewRejected, held, document: document, actor: decision.actor, why: decision.why)])
            await session.close()
            if broker.json { print(try Output.json(Row(held))); return }
            print("rejected review \(held.id) (\(document?.journal.reference ?? held.idempotencyKey)); it will not be posted")
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send an approved document to the loaders again (after a failed release; the loaders post it at most once).")
        @OptionGroup var review: StoreOption
        @Argument var id: Int64
        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            let held = try await review.open().show(id: id)
            guard held.status == .approved else { throw ValidationError("review \(id) is \(held.status.rawValue), not approved") }
            let session = try await broker.session()
            defer { Task { await session.close() } }
            try await session.publish([try ReviewCommand.release(held).message])
            await session.close()
            if broker.json { print(try Output.json(Row(held))); return }
            print("sent review \(id) to the loaders again")
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a fraud exception (E<id>): seen and dealt with. Recorded with who and why on bridge.audit.")
        @OptionGroup var review: StoreOption
        @Argument(help: "The exception, E<id>.") var id: String
        @Option(help: "Who acknowledges (recorded on bridge.audit).") var actor: String = EnvironmentReader.current.value("USER") ?? ""
        @Option(help: "Why (recorded on bridge.audit), e.g. what the store said.") var why: String
        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            guard let number = FraudException.id(id) else { throw ValidationError("\(id) is not an exception id (E<number>)") }
            let session = try await broker.session()
            defer { Task { await session.close() } }
            let exception = try await review.open().acknowledge(exception: number, by: actor, why: why)
            do {
                try await session.publish([try ReviewRelease.audit(acknowledged: exception, actor: actor, why: why, origin: "bridgectl")])
            } catch {
                throw ValidationError("exception \(exception.label) is acknowledged but its audit record was not sent (\(error))")
            }
            await session.close()
            if broker.json { print(try Output.json(ExceptionRow(exception))); return }
            print("acknowledged exception \(exception.label) (\(exception.reference), \(exception.transactionId))")
        }
    }

    static func release(_ held: ReviewStore.HeldDocument) throws -> (message: OutgoingMessage, document: JournalDocument) {
        try ReviewRelease.release(held)
    }

    static func audit(_ event: AuditEvent, _ held: ReviewStore.HeldDocument, document: JournalDocument?, actor: String, why: String) throws -> OutgoingMessage {
        try ReviewRelease.audit(event, held, document: document, actor: actor, why: why, origin: "bridgectl")
    }
}
