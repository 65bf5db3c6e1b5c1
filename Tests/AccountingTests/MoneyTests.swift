import Testing
@testable import Accounting

@Suite struct MoneyTests {
    @Test func placeholder() {}
}
