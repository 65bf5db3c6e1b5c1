import AMQP
import Foundation
import HeartlandConnector
import HeartlandSimulator
import Logging
import Messaging
import SimulatorKit
@testable import Sync
import SyncContracts
import XCTest

/// heartland-loader against the Heartland simulator (in-process): writes to one record happen one at a time,
/// and an older version arriving after a newer one changes nothing.
final class RecordOrderingTests: XCTestCase {
    static let logger: Logger = { var logger = Logger(label: "ordering"); logger.logLevel = .critical; return logger }()

    struct Harness {
        let running: RunningSimulator
        let client: RetailMasterDataClient
        let handler: HeartlandLoaderHandler
        let folder: URL
    }

    func harness() async throws -> Harness {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ordering-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var options = HeartlandSimulator.Options()
        options.fixture = try StoreDayGenerator.generate(.init(stores: 1, day: "2026-11-26", seed: 3, ticketsPerStore: 5))
        options.server.databasePath = folder.appendingPathComponent("heartland.sqlite").path
        options.server.rateLimit = .init(flag: "off")!
        let simulator = try HeartlandSimulator(options: options, logger: Self.logger)
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: Self.logger)
        let client = RetailMasterDataClient(retailBaseURL: running.baseURL.appendingPathComponent("api"), token: "sim-retail-token", logger: Self.logger)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        let handler = HeartlandLoaderHandler(
            client: client, ledger: try IdempotencyStore(path: ledger), links: try CustomerLinks(path: ledger),
            index: try CustomerIndex(path: ledger, side: .heartland), policy: .standard,
            versions: try RecordVersions(path: ledger))
        return Harness(running: running, client: client, handler: handler, folder: folder)
    }

    func message<Record: Sendable & Codable & Equatable>(_ route: String, _ record: Record, fields: [String], key: String) throws -> InboundMessage {
        let body = try JSONEncoder().encode(SyncMessage(schema: SyncRoute.schema(route), record: record, fields: fields, idempotencyKey: key))
        return InboundMessage(Delivery(routingKey: route, properties: MessageProperties(
            messageID: UUID().uuidString, type: route, headers: [Header.idempotencyKey: .string(key)]), body: Array(body)))
    }

    func testAnOlderItemVersionArrivingLateChangesNothing() async throws {
        let h = try await harness()
        let number = "10001"
        func update(_ version: String, cents: Int64) throws -> InboundMessage {
            try message(SyncRoute.heartlandItemUpdate, ItemRecord(itemNumber: number, description: "Cotton T-shirt", priceCents: cents, active: true, version: version),
                        fields: ["price"], key: SyncKey.sageItem(number, version))
        }
        _ = try await h.handler.handle(try update("2026-11-27T10:00:00Z", cents: 2_500), logger: Self.logger)
        let late = try await h.handler.handle(try update("2026-11-27T09:00:00Z", cents: 1_900), logger: Self.logger)
        guard case .duplicate(let why, _) = late else { return XCTFail("an older version is a no-op, got \(late)") }
        XCTAssertTrue(why.contains("older than version 2026-11-27T10:00:00Z"), why)
        let held = try await h.client.item(publicId: number)?.priceCents
        XCTAssertEqual(held, 2_500, "the newer price stays")
        await h.running.stop()
    }

    /// Eight versions of one item's stock handled at once (as eight handlers would): each reads the stock and
    /// adjusts by the difference. One at a time and newest-wins, the stock ends at the newest version's quantity.
    func testConcurrentStockVersionsEndAtTheNewestQuantity() async throws {
        let h = try await harness()
        let number = "10001"
        let found = try await h.client.item(publicId: number)
        let item = try XCTUnwrap(found)
        let versions = (1...8).map { (version: String(format: "2026-11-27T10:00:%02dZ", $0), quantity: 100 + $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for entry in versions.shuffled() {
                let command = try message(SyncRoute.heartlandStockSet, StockRecord(itemNumber: number, location: "1", quantityOnHand: "\(entry.quantity)",
                                                                                 version: entry.version),
                                          fields: [], key: SyncKey.sageStock(number, "1", entry.version))
                group.addTask { _ = try await h.handler.handle(command, logger: Self.logger) }
            }
            try await group.waitForAll()
        }
        let stock = try await h.client.inventory(itemId: item.id, locationId: 1)?.qtyOnHand
        XCTAssertEqual(stock, 108, "the newest version's quantity, whatever order the eight were handled in")
        await h.running.stop()
    }
}
