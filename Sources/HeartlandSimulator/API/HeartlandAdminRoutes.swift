import Foundation
import GRDB
import SimulatorKit

/// `/admin/...`: load fixtures, generate days, close batches, complete pay runs, manage webhooks.
/// Never subject to faults, rate limits or auth (the simulator binds to localhost).
struct HeartlandAdminRoutes {
    let context: HeartlandContext
    let outbox: WebhookOutbox
    let webhookSettings: WebhookDispatcher.Settings

    func add(to table: inout RouteTable) {
        table.add("POST", "/admin/fixtures") { request in
            let fixture: StoreDayFixture
            do { fixture = try StoreDayFixture.decode(request.body) } catch {
                return .json(["error": .string("fixture does not decode: \(error)")], status: 400)
            }
            try await fixture.load(into: context.database)
            return .json(fixture.summary)
        }
        table.add("POST", "/admin/generate") { request in
            let body = try request.json()
            guard let day = body["day"]?.stringValue else { return .json(["error": "day (YYYY-MM-DD) is required"], status: 400) }
            let options = StoreDayGenerator.Options(
                stores: Int(body["stores"]?.int64Value ?? 2), day: day, seed: UInt64(body["seed"]?.int64Value ?? 1),
                ticketsPerStore: Int(body["tickets_per_store"]?.int64Value ?? 300),
                batchesPerDay: Int(body["batches_per_day"]?.int64Value ?? 1), badPercent: Int(body["bad_percent"]?.int64Value ?? 0))
            do {
                let fixture = try StoreDayGenerator.generate(options)
                // A day generated twice would mix two generations in one batch (`openedBatchesAlreadyThere`): refused.
                let existing: [String] = try await context.database.write { db in
                    let existing = try fixture.openedBatchesAlreadyThere(in: db)
                    if existing.isEmpty { try fixture.save(db) }
                    return existing
                }
                guard existing.isEmpty else {
                    return .json(["error": .string("business day \(day) already has batches here (\(existing.joined(separator: ", "))): generating it again would leave the earlier generation's card transactions in them under the new tickets; generate another day, or start from an empty database")], status: 409)
                }
                return .json(fixture.summary)
            } catch let error as StoreDayGenerator.GeneratorError {
                return .json(["error": .string(error.description)], status: 400)
            }
        }
        table.add("POST", "/admin/batches/close") { request in
            let body = try request.json()
            let now = context.clock.now()
            return try await answering {
                let closed: [JSONValue] = try await context.database.write { db in
                    var query = SettlementBatch.filter(Column("status") == "OPEN")
                    if let id = body["batch_id"]?.stringValue { query = query.filter(Column("id") == id) }
                    if let location = body["location_id"]?.int64Value { query = query.filter(Column("locationId") == location) }
                    let batches = try query.order(Column("id")).fetchAll(db)
                    guard !batches.isEmpty else { throw GPError.notFound("Open batch") }
                    return try batches.map { try GPBatchRoutes(context: context).close(db, id: $0.id, now: now) }
                }
                return .json(["closed": .array(closed)])
            }
        }
        table.add("POST", "/admin/pay_runs/{id}/complete") { request in
            try await answering { await .json(try PayrollRoutes(context: context).complete(request.parameter("id"))) }
        }
        table.add("GET", "/admin/webhooks") { _ in await .json(["urls": .array(try outbox.endpoints().map { .string($0) })]) }
        table.add("POST", "/admin/webhooks") { request in
            guard let url = try request.json()["url"]?.stringValue, URL(string: url)?.scheme?.hasPrefix("http") == true else {
                return .json(["error": "url (http or https) is required"], status: 400)
            }
            try await outbox.addEndpoint(url, now: context.clock.now())
            return await .json(["urls": .array(try outbox.endpoints().map { .string($0) })], status: 201)
        }
        table.add("DELETE", "/admin/webhooks") { request in
            guard let url = try request.json()["url"]?.stringValue else { return .json(["error": "url is required"], status: 400) }
            try await outbox.removeEndpoint(url)
            return await .json(["urls": .array(try outbox.endpoints().map { .string($0) })])
        }
        table.add("GET", "/admin/webhooks/policy") { _ in .json(webhookSettings.json) }
        table.add("POST", "/admin/webhooks/policy") { request in
            let body = try request.json()
            let delay = body["base_delay_ms"]?.int64Value
            let attempts = body["max_attempts"]?.int64Value
            let duplicates = body["duplicate_rate"]?.decimalValue.map { NSDecimalNumber(decimal: $0).doubleValue }
            guard delay.map({ $0 >= 0 }) ?? true, attempts.map({ $0 >= 1 }) ?? true, duplicates.map({ (0...1).contains($0) }) ?? true else {
                return .json(["error": "base_delay_ms >= 0, max_attempts >= 1, duplicate_rate 0...1"], status: 400)
            }
            webhookSettings.update { policy in
                if let delay { policy.baseDelay = .milliseconds(delay) }
                if let attempts { policy.maxAttempts = Int(attempts) }
                if let duplicates { policy.duplicateRate = duplicates }
            }
            return .json(webhookSettings.json)
        }
        table.add("GET", "/admin/webhooks/deliveries") { _ in await .json(["deliveries": .array(try outbox.all().map(\.json))]) }
    }
}
