import Foundation
import HeartlandWire

/// A payroll run (invented shape, see docs/SIMULATORS.md). `checkDate` is `MM/DD/YYYY` as sent.
public struct PayRun: Sendable, Hashable, Decodable {
    public var id: String
    public var payGroupId: String?
    public var periodStart: String?
    public var periodEnd: String?
    public var checkDate: String?
    public var status: PayRunStatus
    public var updatedAt: String?
    public var totals: PayRunTotals
    public var paychecks: [Paycheck]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        id = try c.decodeLenientString(c["run_id"]) ?? c.decodeLenientString(c["id"]) ?? ""
        payGroupId = try c.decodeLenientString(c["pay_group_id"])
        periodStart = try c.decodeLenientString(c["period_start"])
        periodEnd = try c.decodeLenientString(c["period_end"])
        checkDate = try c.decodeLenientString(c["check_date"])
        status = try c.decodeIfPresent(PayRunStatus.self, forKey: c["status"]) ?? ""
        updatedAt = try c.decodeLenientString(c["updated_at"])
        totals = try c.decodeIfPresent(PayRunTotals.self, forKey: c["totals"]) ?? PayRunTotals()
        paychecks = try c.decodeArray(Paycheck.self, c["paychecks"])
    }
}

public struct PayRunTotals: Sendable, Hashable, Decodable {
    public var grossCents: Int64 = 0
    public var netCents: Int64 = 0
    public var employeeTaxesCents: Int64 = 0
    public var employerTaxesCents: Int64 = 0
    public var deductionsCents: Int64 = 0

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        grossCents = try c.decodeDollars(c["gross"])
        netCents = try c.decodeDollars(c["net"])
        employeeTaxesCents = try c.decodeDollars(c["employee_taxes"])
        employerTaxesCents = try c.decodeDollars(c["employer_taxes"])
        deductionsCents = try c.decodeDollars(c["deductions"])
    }
}

public struct Paycheck: Sendable, Hashable, Decodable {
    public var employeeId: String
    public var employeeNumber: String?
    public var name: String?
    public var locationId: Int64?
    public var grossCents: Int64
    public var netCents: Int64
    public var earnings: [Earning]
    public var taxes: [PayrollTax]
    public var deductions: [Deduction]

    public struct Earning: Sendable, Hashable, Decodable {
        public var payCode: String
        /// Hours in hundredths (40.25 h = 4025), exact.
        public var hoursHundredths: Int64
        public var amountCents: Int64

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            payCode = try c.decodeLenientString(c["pay_code"]) ?? ""
            hoursHundredths = try c.decodeDollars(c["hours"])
            amountCents = try c.decodeDollars(c["amount"])
        }
    }

    public struct PayrollTax: Sendable, Hashable, Decodable {
        /// FIT, SIT, SS, MED, FUTA, SUI (kept as sent).
        public var code: String
        /// EMPLOYEE or EMPLOYER.
        public var type: String
        public var amountCents: Int64

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            code = try c.decodeLenientString(c["code"]) ?? ""
            type = try c.decodeLenientString(c["type"]) ?? ""
            amountCents = try c.decodeDollars(c["amount"])
        }
    }

    public struct Deduction: Sendable, Hashable, Decodable {
        public var code: String
        public var description: String?
        public var preTax: Bool?
        public var amountCents: Int64

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            code = try c.decodeLenientString(c["code"]) ?? ""
            description = try c.decodeLenientString(c["description"])
            preTax = try c.decodeLenientBool(c["pre_tax"])
            amountCents = try c.decodeDollars(c["amount"])
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        employeeId = try c.decodeLenientString(c["employee_id"]) ?? ""
        employeeNumber = try c.decodeLenientString(c["employee_number"])
        name = try c.decodeLenientString(c["name"])
        locationId = try c.decodeLenientInt(c["location_id"])
        grossCents = try c.decodeDollars(c["gross"])
        netCents = try c.decodeDollars(c["net"])
        earnings = try c.decodeArray(Earning.self, c["earnings"])
        taxes = try c.decodeArray(PayrollTax.self, c["taxes"])
        deductions = try c.decodeArray(Deduction.self, c["deductions"])
    }
}
