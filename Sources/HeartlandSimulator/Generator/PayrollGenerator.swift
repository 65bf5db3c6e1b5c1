import Foundation
import StableHash

/// One weekly pay run ending on the generated day: four employees per location, hourly pay,
/// federal/state withholding, FICA, employer FUTA/SUI, and pre-tax 401(k) and medical deductions.
enum PayrollGenerator {
    static func payRun(seed: UInt64, day: String, locations: [Location], periodStart: String, created: Date) -> PayRun {
        var rng = SeededRandom(seed, day, "payroll")
        var paychecks: [Paycheck] = []
        for location in locations {
            for index in 1...4 {
                let rate: Int64 = rng.int(1500...2600)
                let hours: Int64 = rng.int(2400...4400)  // hundredths of an hour
                let gross = rate * hours / 100
                let retirement = rng.chance(0.5) ? gross * 3 / 100 : 0
                let medical: Int64 = rng.chance(0.4) ? 4500 : 0
                let taxable = gross - retirement - medical
                let employeeTaxes = [
                    PayrollTax(code: "FIT", type: "EMPLOYEE", amountCents: taxable * 10 / 100),
                    PayrollTax(code: "SIT", type: "EMPLOYEE", amountCents: taxable * 4 / 100),
                    PayrollTax(code: "SS", type: "EMPLOYEE", amountCents: gross * 620 / 10000),
                    PayrollTax(code: "MED", type: "EMPLOYEE", amountCents: gross * 145 / 10000),
                ]
                let employerTaxes = [
                    PayrollTax(code: "SS", type: "EMPLOYER", amountCents: gross * 620 / 10000),
                    PayrollTax(code: "MED", type: "EMPLOYER", amountCents: gross * 145 / 10000),
                    PayrollTax(code: "FUTA", type: "EMPLOYER", amountCents: gross * 60 / 10000),
                    PayrollTax(code: "SUI", type: "EMPLOYER", amountCents: gross * 270 / 10000),
                ]
                var deductions: [Deduction] = []
                if retirement > 0 { deductions.append(Deduction(code: "401K", description: "401(k) 3%", preTax: true, amountCents: retirement)) }
                if medical > 0 { deductions.append(Deduction(code: "MED125", description: "Medical plan", preTax: true, amountCents: medical)) }
                let withheld = employeeTaxes.reduce(0) { $0 + $1.amountCents }
                let net = gross - withheld - retirement - medical
                let number = String(format: "%02lld%02d", location.id, index)
                paychecks.append(Paycheck(
                    employeeId: "EMP\(number)", employeeNumber: number,
                    name: "\(rng.pick(SampleData.firstNames)) \(rng.pick(SampleData.lastNames))", locationId: location.id,
                    grossCents: gross, netCents: net,
                    earnings: [Earning(payCode: "REG", hoursHundredths: hours, amountCents: gross)],
                    taxes: employeeTaxes + employerTaxes, deductions: deductions))
            }
        }
        return PayRun(
            id: "PR_\(day.replacingOccurrences(of: "-", with: ""))", payGroupId: "WEEKLY", periodStart: periodStart,
            periodEnd: day, checkDate: day, status: "OPEN", paychecks: paychecks, createdAt: created, updatedAt: created)
    }
}
