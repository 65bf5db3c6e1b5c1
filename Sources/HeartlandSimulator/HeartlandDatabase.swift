import Foundation
import GRDB
import SimulatorKit

/// Heartland state. Columns carry the record property names; money columns are Int64 cents.
public enum HeartlandDatabase {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerSimulatorKitMigrations()
        migrator.registerMigration("heartland-v1") { db in
            try db.create(table: "location") { t in
                t.primaryKey("id", .integer)
                t.column("publicId", .text).notNull()
                t.column("name", .text).notNull()
                t.column("timeZone", .text).notNull()
                t.column("taxRateBasisPoints", .integer).notNull()
                t.column("merchantId", .text).notNull()
                t.column("deviceId", .text).notNull()
            }
            try db.create(table: "settlement_batch") { t in
                t.primaryKey("id", .text)
                t.column("locationId", .integer).notNull()
                t.column("businessDay", .text).notNull()
                t.column("status", .text).notNull()
                t.column("timeCreated", .datetime).notNull()
                t.column("timeClosed", .datetime)
            }
            try db.create(table: "card_transaction") { t in
                t.primaryKey("id", .text)
                t.column("locationId", .integer).notNull()
                t.column("batchId", .text).notNull().indexed()
                t.column("type", .text).notNull()
                t.column("status", .text).notNull()
                t.column("amountCents", .integer).notNull()
                t.column("gratuityCents", .integer).notNull()
                t.column("currency", .text).notNull()
                t.column("brand", .text).notNull()
                t.column("first6", .text).notNull()
                t.column("last4", .text).notNull()
                t.column("entryMode", .text).notNull()
                t.column("authCode", .text).notNull()
                t.column("reference", .text).notNull()
                t.column("parentResourceId", .text)
                t.column("ticketId", .integer)
                t.column("timeCreated", .datetime).notNull().indexed()
            }
            try db.create(table: "ticket") { t in
                t.primaryKey("id", .integer)
                t.column("publicId", .text).notNull()
                t.column("locationId", .integer).notNull()
                t.column("stationId", .integer).notNull()
                t.column("customerId", .integer)
                t.column("status", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("completedAt", .datetime).notNull().indexed()
                t.column("businessDay", .text).notNull()
                t.column("salesRep", .text).notNull()
                t.column("returnOfTicketId", .integer)
                t.column("lines", .text).notNull()
                t.column("payments", .text).notNull()
                t.column("updatedAt", .datetime).notNull().indexed()
            }
            try db.create(table: "customer") { t in
                t.primaryKey("id", .integer)
                t.column("publicId", .text).notNull()
                t.column("firstName", .text).notNull()
                t.column("lastName", .text).notNull()
                t.column("email", .text)
                t.column("active", .boolean).notNull()
                t.column("addresses", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "item") { t in
                t.primaryKey("id", .integer)
                t.column("publicId", .text).notNull()
                t.column("description", .text).notNull()
                t.column("longDescription", .text)
                t.column("priceCents", .integer).notNull()
                t.column("originalPriceCents", .integer).notNull()
                t.column("costCents", .integer).notNull()
                t.column("active", .boolean).notNull()
                t.column("taxable", .boolean).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "inventory_value") { t in
                t.column("itemId", .integer).notNull()
                t.column("locationId", .integer).notNull()
                t.column("qtyOnHand", .integer).notNull()
                t.column("qtyCommitted", .integer).notNull()
                t.column("unitCostCents", .integer).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.primaryKey(["itemId", "locationId"])
            }
            try db.create(table: "gift_card") { t in
                t.primaryKey("number", .text)
                t.column("balanceCents", .integer).notNull()
            }
            try db.create(table: "pay_run") { t in
                t.primaryKey("id", .text)
                t.column("payGroupId", .text).notNull()
                t.column("periodStart", .text).notNull()
                t.column("periodEnd", .text).notNull()
                t.column("checkDate", .text).notNull()
                t.column("status", .text).notNull()
                t.column("paychecks", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "access_token") { t in
                t.primaryKey("token", .text)
                t.column("appId", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("expiresAt", .datetime).notNull()
            }
            try db.create(table: "idempotency_key") { t in
                t.primaryKey("key", .text)
                t.column("createdAt", .datetime).notNull()
            }
        }
        registerOrderMigration(&migrator)
        migrator.registerMigration("heartland-v3-lookup-indexes") { db in
            // Heartland answers `_filter` on these from indexes: change polling and lookups by number or e-mail.
            try db.create(index: "customer_by_updated_at", on: "customer", columns: ["updatedAt"])
            try db.create(index: "customer_by_public_id", on: "customer", columns: ["publicId"])
            try db.create(index: "customer_by_email", on: "customer", columns: ["email"])
            try db.create(index: "item_by_public_id", on: "item", columns: ["publicId"])
            try db.create(index: "item_by_updated_at", on: "item", columns: ["updatedAt"])
        }
        RawRecordStore.registerMigration(&migrator)
        registerOrderCustomFieldsMigration(&migrator)
        migrator.registerMigration("heartland-v6-ticket-lookup-indexes") { db in
            // A refund's return ticket is looked up by receipt number and its sale's other returns by `return_of_ticket_id`:
            // without these every lookup read the whole ticket table (0.2–0.3 s each at 100,000 tickets).
            try db.create(index: "ticket_by_public_id", on: "ticket", columns: ["publicId"])
            try db.create(index: "ticket_by_return_of", on: "ticket", columns: ["returnOfTicketId"])
        }
        migrator.registerMigration("heartland-v7-ticket-pages-by-location") { db in
            // A batch's tickets are read as a location's business day, page by page in id order: without this every page
            // (and its count) read the whole ticket table, 145 MB at 100,000 tickets, twice. The business day is in the
            // index so that the rows a page skips are never read from the table.
            try db.create(index: "ticket_by_location_id_day", on: "ticket", columns: ["locationId", "id", "businessDay"])
        }
        migrator.registerMigration("heartland-v8-transaction-pages-by-batch") { db in
            // A batch's settled transactions are read newest first, page by page: without this every page sorted all the
            // batch's transactions again (33 pages of 1,000 for a 50,000-ticket batch: 1.7 s of SQL, now 0.15 s).
            try db.execute(sql: "CREATE INDEX card_transaction_by_batch_time ON card_transaction (batchId, timeCreated DESC, id, status)")
        }
        return migrator
    }

    /// `seed`: start-up data (a fixture, webhook endpoints), written before the simulator serves.
    public static func open(path: String?, seed: (Database) throws -> Void = { _ in }) throws -> DatabasePool {
        try SimDatabase.open(path: path, migrator: migrator, seed: seed)
    }
}
