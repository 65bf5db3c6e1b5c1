import Sync
import Testing

/// Customer deduplication on a set with realistic near-duplicates: case and spaces in e-mails, phones
/// written four ways, typos in names, two people sharing a household phone or an e-mail.
@Suite struct CustomerMatchingTests {
    let existing = [
        CustomerRecord(id: "C1", firstName: "Ava", lastName: "Kim", email: "ava.kim@example.com", phone: "(555) 010-1234"),
        CustomerRecord(id: "C2", firstName: "Ben", lastName: "Kim", email: "ben.kim@example.com", phone: "(555) 010-1234"),
        CustomerRecord(id: "C3", firstName: "Maria", lastName: "Garcia", email: "maria.garcia@example.com", phone: "555.020.3333"),
        CustomerRecord(id: "C4", firstName: "Jon", lastName: "Smith", email: "jsmith@example.com"),
        CustomerRecord(id: "C5", firstName: "Jonathan", lastName: "Smyth", phone: "555-030-4444"),
    ]
    let matcher = CustomerMatcher()

    func decide(_ first: String, _ last: String, email: String? = nil, phone: String? = nil) -> CustomerMatch {
        matcher.match(CustomerRecord(id: "new", firstName: first, lastName: last, email: email, phone: phone), among: existing)
    }

    func matchedID(_ match: CustomerMatch) -> String? {
        if case .existing(let id, _, _) = match { return id }
        return nil
    }

    @Test func phonesAndEmailsNormalise() {
        for phone in ["(555) 010-1234", "555.010.1234", "+1 555 010 1234", "1-555-010-1234", "555 010 1234 ext. 7", "555-010-1234x12"] {
            #expect(CustomerMatcher.normalisedPhone(phone) == "5550101234", "\(phone)")
        }
        #expect(CustomerMatcher.normalisedPhone("010-1234") == nil, "seven digits are not a US number")
        #expect(CustomerMatcher.normalisedEmail("  Ava.Kim@Example.COM ") == "ava.kim@example.com")
        #expect(CustomerMatcher.normalisedEmail("not an address") == nil)
    }

    @Test func sameEmailWithCaseAndSpacesIsTheSamePerson() {
        #expect(matchedID(decide("Ava", "Kim", email: "  Ava.Kim@Example.COM ")) == "C1")
        #expect(matchedID(decide("Marai", "Garcia", email: "maria.garcia@example.com")) == "C3", "a typo in the first name")
        #expect(matchedID(decide("John", "Smith", email: "JSmith@example.com")) == "C4", "Jon / John")
    }

    @Test func householdPhoneMatchesOnlyThePersonWithThatName() {
        #expect(matchedID(decide("Ava", "Kim", phone: "+1 555 010 1234")) == "C1")
        #expect(matchedID(decide("Ben", "Kim", phone: "555.010.1234")) == "C2")
        #expect(decide("Chloe", "Kim", phone: "(555) 010-1234") == .new, "a third person of the household is new, not merged")
        #expect(matchedID(decide("Jonathon", "Smyth", phone: "555-030-4444 ext 12")) == "C5", "a typo, an extension")
    }

    @Test func uncertainCasesGoToReviewNotToADuplicate() {
        guard case .review(let shared, let why) = decide("Jane", "Smith", email: "jsmith@example.com") else {
            Issue.record("a shared e-mail with another first name must be reviewed"); return
        }
        #expect(shared == ["C4"])
        #expect(why.contains("first names differ"))
        #expect(matchedID(decide("Ava", "Kim", email: "ava.kim@example.com", phone: "555.020.3333")) == "C1",
                "Maria's phone with Ava's name and e-mail: Maria is no candidate (another first name), Ava is")
        guard case .review(let two, _) = decide("Ben", "Kim", email: "ava.kim@example.com", phone: "555-010-1234") else {
            Issue.record("evidence pointing at two records must be reviewed"); return
        }
        #expect(Set(two) == ["C1", "C2"], "Ava's e-mail, the household phone, Ben's name")
        guard case .review = decide("Ava", "Lee", email: "ava.kim@example.com") else {
            Issue.record("same e-mail, same first name, another last name (married?): review"); return
        }
    }

    @Test func aNameAloneNeverMerges() {
        #expect(decide("Jonathan", "Smyth") == .new)
        #expect(decide("Ava", "Kim", email: "someone-else@example.com", phone: "555-999-0000") == .new)
    }
}
