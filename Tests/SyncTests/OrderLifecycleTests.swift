import AMQP
import Foundation
import Logging
import Messaging
import SageConnector
import SageSimulator
import SimulatorKit
@testable import Sync
import SyncContracts
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A Heartland order's life in Sage: each version of the order (lines edited, cancelled) made to hold on the Sage
/// order by sage-loader against the Sage simulator, never below what Sage has shipped, never older over newer; and
/// the line plan on its own.
@Suite struct OrderLifecycleTests {
    static let logger: Logger = { var logger = Logger(label: "orders"); logger.logLevel = .critical; return logger }()

    // MARK: the line plan

    static func sageLine(_ number: Int64, _ item: String, _ quantity: Int64, _ cents: Int64, shipped: Int64 = 0) -> SageOrderLine {
        var line = SageOrderLine(item: item, location: "1", quantity: quantity, unitPriceCents: cents, lineNumber: number)
        line.QuantityShippedToDate = shipped
        return line
    }

    static func line(_ item: String, _ quantity: Int64, _ cents: Int64) -> OrderRecord.Line {
        OrderRecord.Line(itemNumber: item, quantity: quantity, unitPriceCents: cents, description: nil)
    }

    func plan(_ current: [SageOrderLine], _ wanted: [OrderRecord.Line]) throws -> [SageOrderLine]? {
        try OrderLinePlan.lines(current: current, wanted: wanted, location: "1", order: "HL-SO-1", heartland: "SO-1")
    }

    @Test func aQuantityEditKeepsTheLineNumberAndANewItemIsANewLine() throws {
        let current = [Self.sageLine(1, "10001", 2, 1999, shipped: 1), Self.sageLine(2, "10002", 1, 1500)]
        let lines = try #require(try plan(current, [Self.line("10001", 3, 1999), Self.line("10003", 4, 500)]))
        #expect(lines.map(\.LineNumber) == [1, nil])
        #expect(lines.map(\.Item) == ["10001", "10003"])
        #expect(lines.map(\.QuantityOrdered) == [3, 4])
        #expect(lines.allSatisfy { $0.QuantityShippedToDate == nil }, "what Sage shipped is Sage's to keep, never sent")
    }

    @Test func theSameLinesAreNothingToWriteAndLinesOfOneItemAndPriceAreOne() throws {
        let current = [Self.sageLine(1, "10001", 3, 1999), Self.sageLine(2, "10001", 1, 1000)]
        #expect(try plan(current, [Self.line("10001", 2, 1999), Self.line("10001", 1, 1000), Self.line("10001", 1, 1999)]) == nil)
    }

    @Test func belowWhatShippedOrRemovingAShippedLineIsRefusedWithBothNumbers() throws {
        let current = [Self.sageLine(1, "10001", 3, 1999, shipped: 2), Self.sageLine(2, "10002", 1, 1500)]
        let below = #expect(throws: StageError.self) { try plan(current, [Self.line("10001", 1, 1999)]) }
        #expect("\(String(describing: below))".contains("wants 1 of item 10001") && "\(String(describing: below))".contains("already shipped 2"))
        let removed = #expect(throws: StageError.self) { try plan(current, [Self.line("10002", 1, 1500)]) }
        #expect("\(String(describing: removed))".contains("has shipped 2"))
        // An unshipped line can go.
        #expect(try plan(current, [Self.line("10001", 2, 1999)])?.map(\.Item) == ["10001"])
    }

    // MARK: sage-loader against the Sage simulator

    struct Sage {
        let running: RunningSimulator
        let client: SageMasterDataClient
        let handler: SageMasterDataHandler
        let connection: SageConnection

        /// A raw Web API call, as a person at Sage (or a test) would make it.
        func call(_ method: String, _ resource: String, _ body: String) async throws -> [String: Any] {
            var request = URLRequest(url: connection.companyURL.appendingPathComponent(resource))
            request.httpMethod = method
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("Basic " + Data("ADMIN:pw".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status) else { throw StageError.permanent("\(method) \(resource): \(status) \(String(decoding: data, as: UTF8.self))") }
            return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        }

        func order(_ number: String = "HL-SO-1") async throws -> SageOrder? { try await client.order(number: number) }
    }

    static func withSage(_ body: (Sage) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("orders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var options = SageSimulator.Options()
        options.user = "ADMIN"
        options.password = "pw"
        options.server.databasePath = folder.appendingPathComponent("sage.sqlite").path
        let simulator = try SageSimulator(options: options, logger: logger)
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: logger)
        let connection = SageConnection(server: running.baseURL, company: "SAMINC", credentials: SageCredentials(user: "ADMIN", password: "pw"),
                                        timeout: .seconds(30), pageSize: 100)
        let client = SageMasterDataClient(connection: connection, logger: logger)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        let handler = SageMasterDataHandler(client: client, ledger: try IdempotencyStore(path: ledger), links: try CustomerLinks(path: ledger),
                                            index: try CustomerIndex(path: ledger, side: .sage), policy: .standard,
                                            versions: try RecordVersions(path: ledger))
        for (number, description) in [("10001", "Cotton T-shirt"), ("10002", "Canvas tote"), ("10003", "Wool socks")] {
            _ = try await client.createItem(["ItemNumber": number, "Description": description])
        }
        do {
            try await body(Sage(running: running, client: client, handler: handler, connection: connection))
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    static let customer = SyncCustomer(side: .heartland, id: "3", number: "C00003", firstName: "Ava", lastName: "Kim", email: "ava@example.com",
                                       phone: nil, active: true, version: "2026-11-26T10:00:00Z")

    /// A version of Heartland order SO-1 as heartland-ingest publishes it.
    static func message(_ route: String, status: String = "open", version: String, _ lines: [OrderRecord.Line]) throws -> InboundMessage {
        let record = OrderRecord(heartlandId: 1, publicId: "SO-1", sageLocation: "1", customer: customer, lines: lines, createdAt: nil,
                                 status: status, version: version)
        let key = route == SyncRoute.sageOrderCreate ? SyncKey.heartlandOrder(1) : SyncKey.heartlandOrder(1, version: version)
        let body = try JSONEncoder().encode(SyncMessage(schema: SyncRoute.schema(route), record: record, idempotencyKey: key))
        return InboundMessage(Delivery(routingKey: route, properties: MessageProperties(
            messageID: UUID().uuidString, type: route, headers: [Header.idempotencyKey: .string(key)]), body: Array(body)))
    }

    func apply(_ sage: Sage, _ message: InboundMessage) async throws -> StageOutcome {
        try await sage.handler.handle(message, logger: Self.logger)
    }

    static func written(_ outcome: StageOutcome) -> Bool {
        if case .publish(let notices) = outcome { return notices.contains { $0.routingKey == "audit.synced.sage-loader" } }
        return false
    }

    @Test func editsReachSageInVersionOrderAndAnOlderVersionChangesNothing() async throws {
        try await Self.withSage { sage in
            let created = try Self.message(SyncRoute.sageOrderCreate, version: "2026-11-26T10:00:00Z", [Self.line("10001", 2, 1999)])
            #expect(Self.written(try await apply(sage, created)))
            let edited = try Self.message(SyncRoute.sageOrderUpdate, version: "2026-11-26T10:05:00Z",
                                          [Self.line("10001", 3, 1999), Self.line("10002", 1, 1250)])
            #expect(Self.written(try await apply(sage, edited)))
            var order = try #require(try await sage.order())
            #expect(order.OrderDetails?.map(\.Item) == ["10001", "10002"])
            #expect(order.OrderDetails?.map(\.QuantityOrdered) == [3, 1])
            #expect(order.OrderDetails?.map(\.LineNumber) == [1, 2])

            // The first version again, as a redelivery would bring it (a new message id, its own key): a no-op.
            let stale = try Self.message(SyncRoute.sageOrderUpdate, version: "2026-11-26T10:01:00Z", [Self.line("10001", 1, 1999)])
            let outcome = try await apply(sage, stale)
            guard case .duplicate(let reason, _) = outcome else { Issue.record("an older version is a no-op, got \(outcome)"); return }
            #expect(reason.contains("older than version 2026-11-26T10:05:00Z"))
            order = try #require(try await sage.order())
            #expect(order.OrderDetails?.map(\.QuantityOrdered) == [3, 1], "the newer lines stand")

            // The same lines again under a newer version: nothing written.
            let same = try Self.message(SyncRoute.sageOrderUpdate, version: "2026-11-26T10:06:00Z",
                                        [Self.line("10001", 3, 1999), Self.line("10002", 1, 1250)])
            #expect(!Self.written(try await apply(sage, same)))
        }
    }

    /// An order can overtake the sync of an item it names (the item's message held back by Sage's rate limit, in a delay
    /// tier): Sage refuses the order, and the order waits (transient) instead of being parked; once the item is in Sage it
    /// is created. (Parked, the card-data check timed out waiting for it.)
    @Test func anOrderWhoseItemIsNotInSageYetWaitsForItInsteadOfBeingParked() async throws {
        try await Self.withSage { sage in
            let created = try Self.message(SyncRoute.sageOrderCreate, version: "2026-11-26T10:00:00Z",
                                           [Self.line("10001", 1, 1999), Self.line("10009", 2, 500)])
            do {
                _ = try await apply(sage, created)
                Issue.record("Sage took an order naming an item it does not hold")
            } catch StageError.transient(let reason, _) {
                #expect(reason.contains("waits for item(s) 10009"), "\(reason)")
            }
            #expect(try await sage.order() == nil)
            _ = try await sage.client.createItem(["ItemNumber": "10009", "Description": "Linen scarf"])
            #expect(Self.written(try await apply(sage, created)))
            #expect(try await sage.order()?.OrderDetails?.map(\.Item) == ["10001", "10009"])
        }
    }

    @Test func aPartialShipmentLimitsEditsAndCancellation() async throws {
        try await Self.withSage { sage in
            _ = try await apply(sage, try Self.message(SyncRoute.sageOrderCreate, version: "2026-11-26T10:00:00Z",
                                                       [Self.line("10001", 3, 1999), Self.line("10002", 1, 1500)]))
            _ = try await sage.call("POST", "OE/OEShipments", #"{"OrderNumber":"HL-SO-1","ShipmentDetails":[{"LineNumber":1,"QuantityShipped":2}]}"#)
            var order = try #require(try await sage.order())
            #expect(order.fulfilment == "partially_shipped")
            #expect(order.OrderDetails?.map { $0.QuantityShippedToDate ?? 0 } == [2, 0])

            // Heartland lowers the shipped line to 1: refused with both numbers, the order unchanged.
            await #expect(throws: StageError.self) {
                try await apply(sage, try Self.message(SyncRoute.sageOrderUpdate, version: "2026-11-26T10:05:00Z", [Self.line("10001", 1, 1999)]))
            }
            // Heartland drops the unshipped tote and keeps 2 shirts: that is allowed.
            #expect(Self.written(try await apply(sage, try Self.message(SyncRoute.sageOrderUpdate, version: "2026-11-26T10:06:00Z",
                                                                        [Self.line("10001", 2, 1999)]))))
            order = try #require(try await sage.order())
            #expect(order.OrderDetails?.map(\.Item) == ["10001"])
            #expect(order.fulfilment == "shipped", "2 of 2 shipped")

            // Cancelled in Heartland after Sage shipped: Sage cannot delete it; a person settles it.
            let refused = await #expect(throws: StageError.self) {
                try await apply(sage, try Self.message(SyncRoute.sageOrderUpdate, status: "cancelled", version: "2026-11-26T10:07:00Z",
                                                       [Self.line("10001", 2, 1999)]))
            }
            #expect("\(String(describing: refused))".contains("Sage cannot delete an order once it has shipped"))
            #expect(try await sage.order() != nil)
        }
    }

    @Test func aCancelledOrderWithNothingShippedIsDeletedAndALateEarlierVersionDoesNotBringItBack() async throws {
        try await Self.withSage { sage in
            _ = try await apply(sage, try Self.message(SyncRoute.sageOrderCreate, version: "2026-11-26T10:00:00Z", [Self.line("10001", 1, 1999)]))
            #expect(try await sage.order() != nil)
            let cancel = try Self.message(SyncRoute.sageOrderUpdate, status: "cancelled", version: "2026-11-26T10:02:00Z", [Self.line("10001", 1, 1999)])
            #expect(Self.written(try await apply(sage, cancel)))
            #expect(try await sage.order() == nil)
            // The creation, redelivered late: older than the cancellation, so nothing comes back.
            let late = try Self.message(SyncRoute.sageOrderUpdate, version: "2026-11-26T10:01:00Z", [Self.line("10001", 1, 1999)])
            guard case .duplicate = try await apply(sage, late) else { Issue.record("a creation older than the cancellation is a no-op"); return }
            #expect(try await sage.order() == nil)
        }
    }
}
