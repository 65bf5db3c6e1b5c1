/// A completed payroll run: one paycheck per employee.
public struct PayRun: Hashable, Sendable, Codable {
    public var id: PayRunID
    public var checkDate: BusinessDate
    public var currency: CurrencyCode
    public var paychecks: [Paycheck]

    public init(id: PayRunID, checkDate: BusinessDate, currency: CurrencyCode, paychecks: [Paycheck]) {
        self.id = id
        self.checkDate = checkDate
        self.currency = currency
        self.paychecks = paychecks
    }
}

public struct Paycheck: Hashable, Sendable, Codable {
    public var employeeID: EmployeeID
    public var employeeName: String
    public var gross: Money
    public var net: Money
    public var taxes: [PayrollTax]
    public var deductions: [PayrollDeduction]

    public init(employeeID: EmployeeID, employeeName: String, gross: Money, net: Money, taxes: [PayrollTax],
                deductions: [PayrollDeduction]) {
        self.employeeID = employeeID
        self.employeeName = employeeName
        self.gross = gross
        self.net = net
        self.taxes = taxes
        self.deductions = deductions
    }
}

public struct PayrollTax: Hashable, Sendable, Codable {
    public enum Payer: String, Hashable, Sendable, Codable {
        /// Withheld from the employee's gross pay.
        case employee = "EMPLOYEE"
        /// Paid by the employer on top of gross pay (an expense).
        case employer = "EMPLOYER"
    }

    /// `FIT`, `SIT`, `SS`, `MED`, `FUTA`, `SUI`, ...
    public var code: String
    public var payer: Payer
    public var amount: Money

    public init(code: String, payer: Payer, amount: Money) {
        self.code = code
        self.payer = payer
        self.amount = amount
    }
}

public struct PayrollDeduction: Hashable, Sendable, Codable {
    /// `401K`, `MED125`, ...
    public var code: String
    public var description: String
    public var amount: Money

    public init(code: String, description: String, amount: Money) {
        self.code = code
        self.description = description
        self.amount = amount
    }
}
