import ArgumentParser
import BridgeClock
import Foundation
import GRDB
import HeartlandConnector
import HeartlandSimulator
import Logging
import Messaging
import SageConnector
import SageSimulator
import SimulatorKit
import Sync
import SyncContracts
import Synchronization

/// The cost of finding a customer's twin on the other side, at merchants of growing size: both
/// simulators in this process (over HTTP, as the loaders reach them), N customers on each side, and
/// for each side the old way (listing every customer per check) beside the index (one sweep of what
/// changed, then a lookup). Between checks a customer is changed now and then, as a live merchant's
/// are, so the sweeps have something to read.
@main
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-bench", abstract: "Twin-check cost of the two-way sync at N customers (see scripts/bench-sync).")

    @Argument(help: "Merchant sizes (customers on each side).") var sizes: [Int] = [1_000, 100_000]
    @Option(help: "Twin checks per side and size.") var checks = 200
    @Option(help: "Full listings timed per side and size (the old way is slow at 100,000).") var listings = 3
    @Option(help: "Every this many checks, one customer is changed on the searched side.") var changeEvery = 10

    func run() async throws {
        var logger = Logger(label: "sync-bench")
        logger.logLevel = .error
        print("customers  side       old: records/check  old: ms/check  index build: records  index build: s  index: records/check  index: ms/check p50  p95")
        for size in sizes {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sync-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try await heartland(size: size, folder: folder, logger: logger)
            try await sage(size: size, folder: folder, logger: logger)
        }
    }

    // MARK: sides

    func heartland(size: Int, folder: URL, logger: Logger) async throws {
        var options = HeartlandSimulator.Options()
        options.server.databasePath = folder.appendingPathComponent("heartland.sqlite").path
        options.server.rateLimit = .init(enabled: false)
        options.credentials.retailTokens = ["bench"]
        let simulator = try HeartlandSimulator(options: options, logger: logger)
        try await simulator.database.write { db in
            for n in 1...size {
                let person = Person(n)
                let addresses = #"[{"id":\#(n * 100),"phone":"\#(person.phone)"}]"#
                try db.execute(sql: """
                    INSERT INTO customer (id, publicId, firstName, lastName, email, active, addresses, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
                    """, arguments: [n, String(format: "C%06d", n), person.first, person.last, person.email, addresses,
                                     Date(timeIntervalSince1970: 1_700_000_000), Date(timeIntervalSince1970: 1_700_000_000 + Double(n))])
            }
        }
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: logger)
        defer { Task { await running.stop() } }
        let client = RetailMasterDataClient(retailBaseURL: running.baseURL.appendingPathComponent("api"), token: "bench", logger: logger)
        let old = try await timed(listings) { try await client.allCustomers().count }
        let search = try twinSearch(folder, "heartland-loader.sqlite", side: .heartland) { since in
            try await client.customers(updatedSince: since).map(SyncCustomer.init(heartland:))
        }
        try await measure(size: size, side: "Heartland", old: old, search: search) { n in
            _ = try await client.updateCustomer(id: Int64(n), ["last_name": .string(Person(n).last + "e")])
        }
    }

    func sage(size: Int, folder: URL, logger: Logger) async throws {
        var options = SageSimulator.Options()
        options.server.databasePath = folder.appendingPathComponent("sage.sqlite").path
        options.server.rateLimit = .init(enabled: false)
        options.user = "ADMIN"
        options.password = "bench"
        let simulator = try SageSimulator(options: options, logger: logger)
        try await simulator.database.write { db in
            for n in 1...size {
                let person = Person(n)
                _ = try ARResources.customers.insert(db, body: .object([
                    "CustomerNumber": .string(String(format: "S%06d", n)), "CustomerName": .string("\(person.last), \(person.first)"),
                    "Email": .string(person.email), "PhoneNumber": .string(person.phone),
                ]), now: Date(timeIntervalSince1970: 1_700_000_000 + Double(n)))
            }
        }
        let running = try await RunningSimulator.start(server: simulator.server, services: simulator.services, logger: logger)
        defer { Task { await running.stop() } }
        let connection = SageConnection(server: running.baseURL, company: "SAMINC",
                                        credentials: SageConnector.SageCredentials(user: "ADMIN", password: "bench"), pageSize: 500)
        let client = SageMasterDataClient(connection: connection, logger: logger)
        let old = try await timed(listings) { try await client.customers(changedSince: nil).count }
        let search = try twinSearch(folder, "sage-loader.sqlite", side: .sage) { since in
            try await client.customers(changedSince: since).map(SageSweeper.record)
        }
        try await measure(size: size, side: "Sage", old: old, search: search) { n in
            _ = try await client.updateCustomer(number: String(format: "S%06d", n), ["CustomerName": "\(Person(n).last)e, \(Person(n).first)"])
        }
    }

    // MARK: measuring

    struct Counted: Sendable {
        var records: Int
        var seconds: Double
    }

    /// The per-check cost of the old way: every customer of the side, listed.
    func timed(_ times: Int, _ body: () async throws -> Int) async throws -> Counted {
        var records = 0
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<max(1, times) { records = try await body() }
        return Counted(records: records, seconds: (clock.now - start).seconds / Double(max(1, times)))
    }

    func twinSearch(_ folder: URL, _ file: String, side: SyncSide,
                    changed: @escaping @Sendable (String?) async throws -> [SyncCustomer]) throws -> (TwinSearch, CustomerIndex, Counter) {
        let path = folder.appendingPathComponent(file).path
        let counter = Counter()
        let file = try SQLiteFile.pool(path: path)  // as in the loaders: the index and the links share the ledger's file and pool
        let index = try CustomerIndex(database: file, side: side)
        let search = TwinSearch(index: index, links: try CustomerLinks(database: file), matcher: CustomerMatcher()) { since in
            let records = try await changed(since)
            counter.add(records.count)
            return records
        }
        return (search, index, counter)
    }

    func measure(size: Int, side: String, old: Counted, search: (TwinSearch, CustomerIndex, Counter), change: (Int) async throws -> Void) async throws {
        let (twins, index, counter) = search
        let clock = ContinuousClock()
        // The first check builds the index: one sweep of every customer.
        let buildStart = clock.now
        try await twins.warm()
        let build = Counted(records: counter.take(), seconds: (clock.now - buildStart).seconds)
        var times: [Double] = []
        var read = 0
        var random = SystemRandomNumberGenerator()
        for check in 0..<checks {
            if check % changeEvery == changeEvery - 1 { try await change(Int.random(in: 1...size, using: &random)) }
            // An incoming customer from the other side: someone on this side, written differently (or nobody, every 4th).
            let n = check % 4 == 3 ? size + 1 + check : Int.random(in: 1...size, using: &random)
            let person = Person(n)
            let incoming = SyncCustomer(side: side == "Sage" ? .heartland : .sage, id: "in\(check)", number: "IN\(check)", firstName: person.first,
                                        lastName: person.last, email: " \(person.email.uppercased()) ", phone: person.otherPhone, active: true, version: "")
            let start = clock.now
            do { _ = try await twins.find(incoming) } catch { /* a review hold is an answer too */ }
            times.append((clock.now - start).seconds * 1000)
            read += counter.take()
        }
        times.sort()
        let p50 = times[times.count / 2], p95 = times[min(times.count - 1, times.count * 95 / 100)]
        let indexed = try await index.count()
        print(String(format: "%9d  %-9@  %18d  %13.1f  %20d  %14.2f  %20.1f  %19.2f  %5.2f", size, side as NSString, old.records, old.seconds * 1000,
                     build.records, build.seconds, Double(read) / Double(checks), p50, p95))
        guard indexed >= size else { throw ValidationError("the index holds \(indexed) of \(size) customers") }
    }
}

/// A customer of the generated merchant: the same person on both sides, written differently.
struct Person {
    let first: String, last: String, email: String, phone: String, otherPhone: String
    static let firsts = ["Michael", "Sarah", "David", "Laura", "James", "Emily", "Daniel", "Olivia", "Thomas", "Grace", "Andrew", "Chloe"]
    static let lasts = ["Brown", "Garcia", "Nguyen", "Okafor", "Schmidt", "Rossi", "Kowalski", "Haddad", "Lindqvist", "Moreau", "Tanaka"]

    init(_ n: Int) {
        first = Self.firsts[n % Self.firsts.count]
        last = Self.lasts[(n / Self.firsts.count) % Self.lasts.count] + (n > 132 ? "\(n % 97)" : "")
        email = "\(first.lowercased()).\(last.lowercased()).\(n)@example.com"
        let digits = String(format: "%010d", 2_000_000_000 + n * 7)
        phone = "(\(digits.prefix(3))) \(digits.dropFirst(3).prefix(3))-\(digits.suffix(4))"
        otherPhone = "+1 \(digits.prefix(3)) \(digits.dropFirst(3).prefix(3)) \(digits.suffix(4))"
    }
}

/// Records read by the sweeps since the last `take`.
final class Counter: Sendable {
    private let value = Mutex(0)
    func add(_ n: Int) { value.withLock { $0 += n } }
    func take() -> Int { value.withLock { let n = $0; $0 = 0; return n } }
}
