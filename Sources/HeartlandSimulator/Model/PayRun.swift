import Foundation
import GRDB

/// A payroll run (shape invented: the real Heartland Payroll API publishes no run results).
public struct PayRun: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pay_run"
    public var id: String
    public var payGroupId: String
    public var periodStart: String
    public var periodEnd: String
    /// `YYYY-MM-DD`; rendered `MM/DD/YYYY` like the rest of Heartland Payroll.
    public var checkDate: String
    /// `OPEN`, `PROCESSED` (completed; fires the webhook) or `POSTED`.
    public var status: String
    public var paychecks: [Paycheck]
    public var createdAt: Date
    public var updatedAt: Date
}

public struct Paycheck: Codable, Sendable, Equatable {
    public var employeeId: String
    public var employeeNumber: String
    public var name: String
    public var locationId: Int64
    public var grossCents: Int64
    public var netCents: Int64
    public var earnings: [Earning]
    public var taxes: [PayrollTax]
    public var deductions: [Deduction]
}

public struct Earning: Codable, Sendable, Equatable {
    public var payCode: String
    public var hoursHundredths: Int64
    public var amountCents: Int64
}

public struct PayrollTax: Codable, Sendable, Equatable {
    /// `FIT`, `SIT`, `SS`, `MED`, `FUTA`, `SUI`.
    public var code: String
    /// `EMPLOYEE` (withheld) or `EMPLOYER`.
    public var type: String
    public var amountCents: Int64
}

public struct Deduction: Codable, Sendable, Equatable {
    public var code: String
    public var description: String
    public var preTax: Bool
    public var amountCents: Int64
}
