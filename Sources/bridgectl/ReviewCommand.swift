import AMQP
import ArgumentParser
import Foundation
import FraudScoring
import Messaging
import PipelineContracts

/// The fraud review queue: documents the fraud-scorer held. Approving releases the document to the
/// loaders exactly once (the review store lets only the first decision through); every decision is
/// recorded with who and why on `bridge.audit`.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Documents held by the fraud-scorer: list, show, approve (release to the loaders), reject.",
        subcommands: [List.self, Show.self, Approve.self, Reject.self, Release.self])

    struct StoreOption: ParsableArguments {
        @Option(help: "The fraud-scorer's review store. Default: $BRIDGE_REVIEW_DB or var/fraud-reviews.sqlite.")
        var store: String = ProcessInfo.processInfo.environment["BRIDGE_REVIEW_DB"] ?? "var/fraud-reviews.sqlite"

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
            heldAt = ISO8601DateFormatter().string(from: held.heldAt)
            reasons = held.reasons
            decidedBy = held.decidedBy
            decidedWhy = held.decidedWhy
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Held (by default) or decided documents.")
        @OptionGroup var review: StoreOption
        @Option(help: "held, approved or rejected; all when omitted.") var status: String = "held"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let wanted = status == "all" ? nil : ReviewStore.Status(rawValue: status)
            guard status == "all" || wanted != nil else { throw ValidationError("--status must be held, approved, rejected or all") }
            let rows = try review.open().list(status: wanted).map(Row.init)
            if json { print(try Output.json(rows)); return }
            guard !rows.isEmpty else { print("no \(status == "all" ? "" : status + " ")documents"); return }
            print(Output.table(["ID", "STATUS", "REFERENCE", "HELD AT", "WHY"],
                               rows.map { [String($0.id), $0.status, $0.reference, $0.heldAt, $0.reasons.joined(separator: "; ")] }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One held document: why, and the journal it would post.")
        @OptionGroup var review: StoreOption
        @Argument var id: Int64
        @Flag(help: "Print JSON only (the journal lines included).") var json = false

        func run() async throws {
            let held = try review.open().show(id: id)
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
        @Option(help: "Who decides (recorded on bridge.audit).") var actor: String = ProcessInfo.processInfo.environment["USER"] ?? ""
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
            let held = try review.open().approve(id: decision.id, by: decision.actor, why: decision.why)
            let (release, document) = try ReviewCommand.release(held)
            let audit = try ReviewCommand.audit("review_approved", held, document: document, actor: decision.actor, why: decision.why)
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
            let held = try review.open().reject(id: decision.id, by: decision.actor, why: decision.why)
            let document = try? JSONDecoder().decode(JournalDocument.self, from: held.document)
            try await session.publish([try ReviewCommand.audit("review_rejected", held, document: document, actor: decision.actor, why: decision.why)])
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
            let held = try review.open().show(id: id)
            guard held.status == .approved else { throw ValidationError("review \(id) is \(held.status.rawValue), not approved") }
            let session = try await broker.session()
            defer { Task { await session.close() } }
            try await session.publish([try ReviewCommand.release(held).message])
            await session.close()
            if broker.json { print(try Output.json(Row(held))); return }
            print("sent review \(id) to the loaders again")
        }
    }

    static func release(_ held: ReviewStore.HeldDocument) throws -> (message: OutgoingMessage, document: JournalDocument) {
        try ReviewRelease.release(held)
    }

    static func audit(_ event: String, _ held: ReviewStore.HeldDocument, document: JournalDocument?, actor: String, why: String) throws -> OutgoingMessage {
        try ReviewRelease.audit(event, held, document: document, actor: actor, why: why, origin: "bridgectl")
    }
}
