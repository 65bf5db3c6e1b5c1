import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// Payroll runs (invented shape, see docs/SIMULATORS.md), inside the Heartland Payroll envelope
/// `{TotalRecords, Results, Timestamp, StatusCode, ResponseMessage}`. Bearer: a Retail API token.
struct PayrollRoutes {
    let context: HeartlandContext

    func add(to table: inout RouteTable) {
        table.add("GET", "/payroll/pay_runs") { request in
            try await context.retail(request) {
                var query = PayRun.order(Column("checkDate").desc, Column("id"))
                if let status = request.queryValue("status") { query = query.filter(Column("status") == status) }
                let runs = try await context.database.read { [query] in try query.fetchAll($0) }
                return envelope(runs.map(Self.render))
            }
        }
        table.add("GET", "/payroll/pay_runs/{id}") { request in
            try await context.retail(request) {
                guard let run = try await context.database.read({ try PayRun.fetchOne($0, key: request.parameter("id")) }) else {
                    throw RetailError.notFound("Pay run \(request.parameter("id"))")
                }
                return envelope([Self.render(run)])
            }
        }
        table.add("POST", "/payroll/pay_runs/{id}/complete") { request in
            try await context.retail(request) { await envelope([try complete(request.parameter("id"))]) }
        }
    }

    /// Marks a run `PROCESSED` and queues `payroll.completed`.
    func complete(_ id: String) async throws -> JSONValue {
        let now = context.clock.now()
        return try await context.database.write { db in
            guard var run = try PayRun.fetchOne(db, key: id) else { throw RetailError.notFound("Pay run \(id)") }
            guard run.status == "OPEN" else { throw RetailError(status: 409, message: "Pay run \(id) is already \(run.status)") }
            run.status = "PROCESSED"
            run.updatedAt = now
            try run.update(db)
            let json = Self.render(run)
            try context.enqueueEvent(db, event: "payroll.completed", data: json)
            return json
        }
    }

    private func envelope(_ results: [JSONValue]) -> SimResponse {
        .json([
            "TotalRecords": .int(results.count), "Results": .array(results),
            "Timestamp": .string(Timestamps.iso8601(context.clock.now())), "StatusCode": 200, "ResponseMessage": "Success",
        ])
    }

    static func render(_ run: PayRun) -> JSONValue {
        var employeeTaxes: Int64 = 0, employerTaxes: Int64 = 0, deductions: Int64 = 0
        for check in run.paychecks {
            for tax in check.taxes { if tax.type == "EMPLOYER" { employerTaxes += tax.amountCents } else { employeeTaxes += tax.amountCents } }
            deductions += check.deductions.reduce(0) { $0 + $1.amountCents }
        }
        return [
            "run_id": .string(run.id), "pay_group_id": .string(run.payGroupId), "period_start": .string(run.periodStart),
            "period_end": .string(run.periodEnd), "check_date": .string(usDate(run.checkDate)), "status": .string(run.status),
            "updated_at": .string(Timestamps.iso8601(run.updatedAt)),
            "totals": [
                "gross": Money.dollars(run.paychecks.reduce(0) { $0 + $1.grossCents }),
                "net": Money.dollars(run.paychecks.reduce(0) { $0 + $1.netCents }),
                "employee_taxes": Money.dollars(employeeTaxes), "employer_taxes": Money.dollars(employerTaxes),
                "deductions": Money.dollars(deductions),
            ],
            "paychecks": .array(run.paychecks.map { check in
                [
                    "employee_id": .string(check.employeeId), "employee_number": .string(check.employeeNumber),
                    "name": .string(check.name), "location_id": .int(check.locationId),
                    "gross": Money.dollars(check.grossCents), "net": Money.dollars(check.netCents),
                    "earnings": .array(check.earnings.map {
                        ["pay_code": .string($0.payCode), "hours": .number(Decimal($0.hoursHundredths) / 100), "amount": Money.dollars($0.amountCents)]
                    }),
                    "taxes": .array(check.taxes.map { ["code": .string($0.code), "type": .string($0.type), "amount": Money.dollars($0.amountCents)] }),
                    "deductions": .array(check.deductions.map {
                        ["code": .string($0.code), "description": .string($0.description), "pre_tax": .bool($0.preTax), "amount": Money.dollars($0.amountCents)]
                    }),
                ]
            }),
        ]
    }

    /// `2026-11-27` -> `11/27/2026`.
    static func usDate(_ day: String) -> String {
        let parts = day.split(separator: "-")
        guard parts.count == 3 else { return day }
        return "\(parts[1])/\(parts[2])/\(parts[0])"
    }
}
