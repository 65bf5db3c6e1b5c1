import Foundation

/// The default chart from docs ACCOUNTING.md, seeded into a fresh company.
public enum ChartOfAccounts {
    public struct Account: Sendable {
        public let number: String
        public let description: String
        /// `D` or `C`.
        public let normalBalance: String
        /// Sage account types: `B` balance sheet, `I` income statement.
        public let type: String
    }

    public static let defaultAccounts: [Account] = [
        Account(number: "1000", description: "Operating bank account", normalBalance: "D", type: "B"),
        Account(number: "1100", description: "Cash on hand (cash tender)", normalBalance: "D", type: "B"),
        Account(number: "1210", description: "Card clearing – Visa", normalBalance: "D", type: "B"),
        Account(number: "1211", description: "Card clearing – Mastercard", normalBalance: "D", type: "B"),
        Account(number: "1212", description: "Card clearing – American Express", normalBalance: "D", type: "B"),
        Account(number: "1213", description: "Card clearing – Discover", normalBalance: "D", type: "B"),
        Account(number: "1219", description: "Card clearing – other brands", normalBalance: "D", type: "B"),
        Account(number: "1200", description: "Accounts receivable control", normalBalance: "D", type: "B"),
        Account(number: "2100", description: "Federal income tax withheld", normalBalance: "C", type: "B"),
        Account(number: "2110", description: "State income tax withheld", normalBalance: "C", type: "B"),
        Account(number: "2120", description: "Social Security and Medicare payable (employee and employer)", normalBalance: "C", type: "B"),
        Account(number: "2130", description: "Federal unemployment tax payable", normalBalance: "C", type: "B"),
        Account(number: "2140", description: "State unemployment tax payable", normalBalance: "C", type: "B"),
        Account(number: "2150", description: "Benefit and retirement deductions payable", normalBalance: "C", type: "B"),
        Account(number: "2200", description: "Sales tax payable", normalBalance: "C", type: "B"),
        Account(number: "2210", description: "Tips payable", normalBalance: "C", type: "B"),
        Account(number: "2300", description: "Gift card liability", normalBalance: "C", type: "B"),
        Account(number: "2900", description: "Suspense – refunds awaiting allocation", normalBalance: "D", type: "B"),
        Account(number: "4000", description: "Sales revenue", normalBalance: "C", type: "I"),
        Account(number: "4100", description: "Sales discounts", normalBalance: "D", type: "I"),
        Account(number: "4200", description: "Sales returns and allowances", normalBalance: "D", type: "I"),
        Account(number: "6000", description: "Wages expense", normalBalance: "D", type: "I"),
        Account(number: "6010", description: "Employer payroll taxes", normalBalance: "D", type: "I"),
        Account(number: "6100", description: "Card processing fees", normalBalance: "D", type: "I"),
    ]
}
