import Testing
@testable import Accounting

@Suite struct PayrollJournalTests {
    let builder = PayrollJournalBuilder(rules: Fixtures.rules)

    /// Gross 800.00; 401(k) 24.00 and medical 45.00 pre-tax, so taxable 731.00.
    /// Withheld: FIT 10 % = 73.10, SIT 4 % = 29.24, SS 6.2 % of gross = 49.60, MED 1.45 % = 11.60 → 163.54.
    /// Net = 800.00 − 163.54 − 69.00 = 567.46. Employer: SS 49.60, MED 11.60, FUTA 0.6 % = 4.80, SUI 2.7 % = 21.60 → 87.60.
    static func paycheck(net: Int64 = 56746, taxCode: String = "FIT", deductionCode: String = "MED125") -> Paycheck {
        Paycheck(
            employeeID: "EMP0101", employeeName: "Ava Kim", gross: usd(80000), net: usd(net),
            taxes: [
                PayrollTax(code: taxCode, payer: .employee, amount: usd(7310)),
                PayrollTax(code: "SIT", payer: .employee, amount: usd(2924)),
                PayrollTax(code: "SS", payer: .employee, amount: usd(4960)),
                PayrollTax(code: "MED", payer: .employee, amount: usd(1160)),
                PayrollTax(code: "SS", payer: .employer, amount: usd(4960)),
                PayrollTax(code: "MED", payer: .employer, amount: usd(1160)),
                PayrollTax(code: "FUTA", payer: .employer, amount: usd(480)),
                PayrollTax(code: "SUI", payer: .employer, amount: usd(2160)),
            ],
            deductions: [
                PayrollDeduction(code: "401K", description: "401(k) 3%", amount: usd(2400)),
                PayrollDeduction(code: deductionCode, description: "Medical plan", amount: usd(4500)),
            ])
    }

    static func run(_ checks: [Paycheck]) -> PayRun {
        PayRun(id: "PR_20261127", checkDate: Fixtures.day, currency: .usd, paychecks: checks)
    }

    @Test func oneLinePerTaxAndDeductionCode() throws {
        let entry = try builder.build(Self.run([Self.paycheck()]))
        #expect(lines(of: entry) == [
            ExpectedLine("6000", .debit, 80000, "Gross wages"),
            ExpectedLine("6010", .debit, 8760, "Employer payroll taxes"),
            ExpectedLine("2100", .credit, 7310, "FIT withheld"),
            ExpectedLine("2110", .credit, 2924, "SIT withheld"),
            ExpectedLine("2120", .credit, 4960, "SS withheld"),
            ExpectedLine("2120", .credit, 1160, "MED withheld"),
            ExpectedLine("2120", .credit, 4960, "SS employer"),
            ExpectedLine("2120", .credit, 1160, "MED employer"),
            ExpectedLine("2130", .credit, 480, "FUTA employer"),
            ExpectedLine("2140", .credit, 2160, "SUI employer"),
            ExpectedLine("2150", .credit, 2400, "401K deduction"),
            ExpectedLine("2150", .credit, 4500, "MED125 deduction"),
            ExpectedLine("1000", .credit, 56746, "Net pay"),
        ])
        // 80000 + 8760 = 88760 on both sides.
        #expect(entry.totalDebits == 88760 && entry.totalCredits == 88760)
        #expect(entry.sagePostingDate == "11/27/2026")
        #expect(entry.reference == "HL-PAY-PR_20261127")
        #expect(entry.idempotencyKey == "heartland:pay_run:PR_20261127")
    }

    @Test func twoEmployeesSumPerCode() throws {
        let entry = try builder.build(Self.run([Self.paycheck(), Self.paycheck()]))
        #expect(entry.netByAccount["6000"] == 160000)
        #expect(entry.netByAccount["2120"] == -24480)  // 2 × (4960 + 1160 + 4960 + 1160)
        #expect(entry.netByAccount["1000"] == -113492)
        #expect(entry.lines.count == 13)
    }

    @Test func unmappedTaxCodeNamesTheCodeAndTheRule() throws {
        let run = Self.run([Self.paycheck(taxCode: "LOCAL")])
        let expected = PostingError.unmappedCode(code: "LOCAL", kind: "payroll tax", rule: "payroll.taxes.LOCAL",
                                                 record: "pay run PR_20261127 employee EMP0101 (Ava Kim)",
                                                 mappingFile: Fixtures.mappingPath)
        #expect(throws: expected) { try builder.build(run) }
        #expect(expected.description == "payroll tax code LOCAL on pay run PR_20261127 employee EMP0101 (Ava Kim) has no mapping rule; "
            + "add payroll.taxes.LOCAL to \(Fixtures.mappingPath), then run `bridgectl dlq replay`")
    }

    @Test func unmappedDeductionCodeWhenThereIsNoDefault() throws {
        let text = Fixtures.mappingText.replacingOccurrences(of: "    default: \"2150\"", with: "")
        let rules = try MappingRules(yaml: text, source: "strict.yaml")
        #expect(throws: PostingError.unmappedCode(code: "GARN", kind: "payroll deduction", rule: "payroll.deductions.codes.GARN",
                                                  record: "pay run PR_20261127 employee EMP0101 (Ava Kim)", mappingFile: "strict.yaml")) {
            try PayrollJournalBuilder(rules: rules).build(Self.run([Self.paycheck(deductionCode: "GARN")]))
        }
        // With the default, an unlisted deduction goes to 2150.
        let entry = try builder.build(Self.run([Self.paycheck(deductionCode: "GARN")]))
        #expect(lines(of: entry).contains(ExpectedLine("2150", .credit, 4500, "GARN deduction")))
    }

    @Test func netPayMismatchNamesTheEmployeeAndTheDifference() throws {
        let expected = PostingError.netPayMismatch(payRun: "PR_20261127", employee: "EMP0101", name: "Ava Kim",
                                                   reportedNet: 56700, computedNet: 56746)
        #expect(throws: expected) { try builder.build(Self.run([Self.paycheck(net: 56700)])) }
        #expect(expected.description == "pay run PR_20261127: employee EMP0101 (Ava Kim) net pay 567.00 does not equal gross minus "
            + "withholdings and deductions 567.46 (difference -0.46); correct the paycheck in Heartland Payroll and replay")
    }

    @Test func perCodeDeductionOverride() throws {
        let text = Fixtures.mappingText.replacingOccurrences(of: "      401K: \"2150\"", with: "      401K: \"2110\"")
        let entry = try PayrollJournalBuilder(rules: try MappingRules(yaml: text, source: "m.yaml")).build(Self.run([Self.paycheck()]))
        #expect(lines(of: entry).contains(ExpectedLine("2110", .credit, 2400, "401K deduction")))
    }
}
