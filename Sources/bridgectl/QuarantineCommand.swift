import Accounting
import Alerter
import ArgumentParser
import BridgeSettings
import Foundation
import HeartlandConnector
import HeartlandIngest
import Logging
import Messaging
import PipelineContracts

/// Tickets the transformer set aside (issue 14): list them with their field and reason, show one with its record
/// (card numbers masked), and replay one once it is corrected in Heartland: the record is fetched again as Heartland
/// serves it now and the transformer posts it in a supplementary journal on its own business day, or sets it aside
/// again with the new reason.
struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Documents set aside as they could not post (list, show, replay once corrected in Heartland).",
        subcommands: [List.self, Show.self, Replay.self])

    struct StoreOption: ParsableArguments {
        @Option(help: "Operations store. Default: $BRIDGE_OPERATIONS_DB or var/operations.sqlite.")
        var store: String = EnvironmentReader.current.value("BRIDGE_OPERATIONS_DB") ?? "var/operations.sqlite"

        func open() throws -> OperationsStore {
            guard FileManager.default.fileExists(atPath: store) else {
                throw ValidationError("no operations store at \(store): is the alerter running, or pass --store")
            }
            return try OperationsStore(path: store)
        }
    }

    struct Row: Encodable {
        var status: String
        var store: String
        var documentId: String
        var number: String?
        var batchId: String?
        var field: String
        var reason: String
        var netByAccount: [String: Int64]?
        var quarantinedAt: String
        var times: Int
        var postedAs: String?
        var record: String?

        init(_ entry: OperationsStore.Quarantined, withRecord: Bool = false) throws {
            let document = try JSONDecoder().decode(QuarantinedDocument.self, from: Data(entry.document.json.utf8))
            status = entry.status.rawValue
            store = document.store.id
            documentId = document.documentId
            number = document.number
            batchId = document.batchId
            field = document.field
            reason = document.reason
            netByAccount = document.netByAccount
            quarantinedAt = document.quarantinedAt
            times = entry.times
            postedAs = entry.resolvedReference
            record = withRecord ? String(decoding: document.raw.data, as: UTF8.self) : nil
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set-aside documents (held ones unless --all).")
        @OptionGroup var operations: StoreOption
        @Flag(help: "Also those whose corrected version is posted.") var all = false
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let rows = try await operations.open().quarantined(status: all ? nil : .held).map { try Row($0) }
            if json { print(try Output.json(rows)); return }
            if rows.isEmpty { print(all ? "nothing was ever set aside" : "no document is set aside"); return }
            print(Output.table(["STATUS", "STORE", "TICKET", "ID", "BATCH", "FIELD", "REASON"], rows.map {
                [$0.status, $0.store, $0.number ?? "-", $0.documentId, $0.batchId ?? "-", $0.field, String($0.reason.prefix(90))]
            }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One set-aside document with its record (card numbers masked).")
        @OptionGroup var operations: StoreOption
        @Argument(help: "Store id (S01).") var store: String
        @Argument(help: "Document id (the ticket's id).") var document: String

        func run() async throws {
            guard let entry = try await operations.open().quarantined().first(where: { $0.document.storeID == store && $0.document.documentID == document })
            else { throw ValidationError("store \(store) has no set-aside document \(document) (bridgectl quarantine list --all)") }
            print(try Output.json(Row(entry, withRecord: true)))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a set-aside ticket again from Heartland (after correcting it there) and send it to the transformer.",
            discussion: "Heartland settings come from the environment, as heartland-ingest's: HEARTLAND_URL (or HEARTLAND_RETAIL_URL ...), "
                + "HEARTLAND_APP_ID, HEARTLAND_APP_KEY[_FILE], HEARTLAND_RETAIL_TOKEN[_FILE].")
        @OptionGroup var operations: StoreOption
        @OptionGroup var broker: BrokerOptions
        @Argument(help: "Store id (S01).") var store: String
        @Argument(help: "Document id (the ticket's id).") var document: String

        func run() async throws {
            guard let entry = try await operations.open().quarantined().first(where: { $0.document.storeID == store && $0.document.documentID == document })
            else { throw ValidationError("store \(store) has no set-aside document \(document) (bridgectl quarantine list --all)") }
            guard entry.status == .held else {
                throw ValidationError("ticket \(document) of store \(store) is already posted as \(entry.resolvedReference ?? "?"); nothing to replay")
            }
            let held = try JSONDecoder().decode(QuarantinedDocument.self, from: Data(entry.document.json.utf8))
            guard !held.documentId.hasPrefix("?") else {
                throw ValidationError("the record has no readable id, so it cannot be fetched again; post it by hand in Sage")
            }
            let settings: HeartlandSettings
            do { settings = try HeartlandSettings() } catch { throw ValidationError(error.description) }
            var logger = Logger(label: "bridgectl")
            logger.logLevel = .error
            let client = URLSessionHeartlandClient(configuration: settings.configuration, logger: logger)
            let record: Data
            do {
                record = try await client.rawTicketJSON(id: held.documentId)
            } catch {
                throw ValidationError("Heartland did not serve ticket \(held.documentId): \(error)")
            }
            var customers: [Data] = []
            for id in HeartlandJSON.houseAccountCustomerIDs(in: [record]) {
                do { customers.append(try await client.customerJSON(id: id)) } catch {
                    throw ValidationError("Heartland did not serve customer \(id) of ticket \(held.documentId): \(error)")
                }
            }
            let event = TicketCorrectedEvent(store: held.store, documentId: held.documentId, locationId: held.locationId, batchId: held.batchId,
                                             batchReference: held.batchReference, ticket: RawJSON(record),
                                             customers: customers.isEmpty ? nil : RawJSON(HeartlandJSON.array(of: customers)))
            let message = try OutboundMessage(exchange: "bridge.events", routingKey: TicketCorrectedEvent.routingKey, json: event,
                                              idempotencyKey: event.idempotencyKey, schema: TicketCorrectedEvent.schema)
            let audit = AuditNotice(event: .quarantineReplayed, stage: "bridgectl",
                                    detail: "ticket \(held.number ?? held.documentId) of store \(store) fetched again from Heartland and sent to the transformer",
                                    idempotencyKey: held.idempotencyKey, actor: ProcessInfo.processInfo.environment["USER"])
            let session = try await broker.session()
            defer { Task { await session.close() } }
            let messageID = MessageID.derived("bridgectl", event.idempotencyKey)
            try await session.publish([
                message.amqpMessage(correlationID: held.idempotencyKey, messageID: messageID, traceparent: nil),
                try OutboundMessage(exchange: "bridge.audit", routingKey: AuditEvent.quarantineReplayed.routingKey("bridgectl"), json: audit,
                                    idempotencyKey: held.idempotencyKey)
                    .amqpMessage(correlationID: held.idempotencyKey, messageID: "\(messageID):audit", traceparent: nil),
            ])
            await session.close()
            print("ticket \(held.number ?? held.documentId) of store \(store) sent to the transformer: it posts in a supplementary journal "
                + "if it is now valid (bridgectl quarantine list --all shows it posted), or is set aside again with the new reason")
        }
    }
}
