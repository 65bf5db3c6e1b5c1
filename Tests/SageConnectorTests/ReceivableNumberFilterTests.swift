import Testing
@testable import SageConnector

/// How sage-loader asks Sage AR for the documents of a batch's tickets (`SageReceivablesClient.numberFilters`): runs of
/// close numbers of one length as ranges, the others by equality, 20 to a query.
struct ReceivableNumberFilterTests {
    @Test func closeNumbersOfOneLengthAreOneRangeAndTheOthersAreAskedByEquality() {
        let filters = SageReceivablesClient.numberFilters(["HL-T101", "HL-T100", "HL-T105", "HL-T5001", "HL-T5000", "HL-T5002", "HL-T99", "HL-TA", "HL-T100"])
        #expect(filters == [
            "(DocumentNumber ge 'HL-T100' and DocumentNumber le 'HL-T105') or (CheckReceiptNumber ge 'HL-T100' and CheckReceiptNumber le 'HL-T105')",
            "(DocumentNumber ge 'HL-T5000' and DocumentNumber le 'HL-T5002') or (CheckReceiptNumber ge 'HL-T5000' and CheckReceiptNumber le 'HL-T5002')",
            "DocumentNumber eq 'HL-T99' or CheckReceiptNumber eq 'HL-T99' or DocumentNumber eq 'HL-TA' or CheckReceiptNumber eq 'HL-TA'",
        ])
    }

    @Test func aGapWiderThanTheRunGapStartsAnotherRunAndAShortRunIsAskedByEquality() {
        let filters = SageReceivablesClient.numberFilters(["HL-T1000", "HL-T3000", "HL-T3001", "HL-T3002", "HL-T9000", "HL-T9001"], runGap: 1_000)
        #expect(filters == [
            "(DocumentNumber ge 'HL-T3000' and DocumentNumber le 'HL-T3002') or (CheckReceiptNumber ge 'HL-T3000' and CheckReceiptNumber le 'HL-T3002')",
            "DocumentNumber eq 'HL-T1000' or CheckReceiptNumber eq 'HL-T1000' or DocumentNumber eq 'HL-T9000' or CheckReceiptNumber eq 'HL-T9000' "
                + "or DocumentNumber eq 'HL-T9001' or CheckReceiptNumber eq 'HL-T9001'",
        ])
    }

    @Test func aDayOfFiftyThousandInterleavedTicketsIsOneQueryAndLoneNumbersTwentyToAQuery() {
        let day = (0..<50_000).map { "HL-T\(98_330_150_201 + 2 * $0)" }
        #expect(SageReceivablesClient.numberFilters(day).count == 1)
        let lone = (0..<45).map { "HL-T\(10_000 * $0 + 10_000)" }
        #expect(SageReceivablesClient.numberFilters(lone).count == 3)
        #expect(SageReceivablesClient.numberFilters([]).isEmpty)
        // An apostrophe in a number is doubled in its literal.
        #expect(SageReceivablesClient.numberFilters(["HL-T'1"]) == ["DocumentNumber eq 'HL-T''1' or CheckReceiptNumber eq 'HL-T''1'"])
    }
}
