import Sync
import SyncContracts
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
        #expect(ContactKeys.localNumber("010-1234") == "0101234")
        #expect(ContactKeys.localNumber("(555) 010-1234") == "0101234")
        for phone in ["+44 20 7946 0958", "0044 (0)20 7946 0958", "+44 (0)20 7946-0958"] {
            #expect(ContactKeys.phone(phone) == "+442079460958", "\(phone)")
        }
        #expect(ContactKeys.email("Ava.Kim+shop@Example.com") == "ava.kim@example.com", "a plus tag reaches the same mailbox")
        #expect(ContactKeys.email("\tava.kim @example.com ") == "ava.kim@example.com")
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
        #expect(matchedID(decide("Ben", "Kim", email: "ava.kim@example.com", phone: "555-010-1234")) == "C2",
                "Ava's e-mail, the household phone, Ben's name: Ava is another person of the household, Ben is Ben")
        guard case .review(let two, _) = decide("Ava", "Lee", email: "ava.kim@example.com", phone: "555-020-3333") else {
            Issue.record("evidence pointing at two records, one of them uncertain, must be reviewed"); return
        }
        #expect(Set(two) == ["C1"], "Maria's phone with another first name is no candidate; Ava Kim's e-mail with another last name is")
        guard case .review = decide("Ava", "Lee", email: "ava.kim@example.com") else {
            Issue.record("same e-mail, same first name, another last name (married?): review"); return
        }
    }

    @Test func aNameAloneNeverMerges() {
        #expect(decide("Jonathan", "Smyth") == .new)
        #expect(decide("Ava", "Kim", email: "someone-else@example.com", phone: "555-999-0000") == .new)
    }
}


/// Names as people write them, read into parts that compare whatever their order.
@Suite struct PersonNameTests {
    @Test func writtenNamesSplitIntoTheirParts() {
        let cases: [(String, String, String)] = [
            ("Brown, Michael", "Michael", "Brown"),
            ("Michael Brown", "Michael", "Brown"),
            ("Dr. Michael J. Brown Jr.", "Michael J.", "Brown Jr."),
            ("Brown Jr., Michael", "Michael", "Brown Jr."),
            ("Mrs. Ana de la Cruz", "Ana", "de la Cruz"),
            ("  Garcia,\tMaria  Elena ", "Maria Elena", "Garcia"),
            ("Madonna", "Madonna", ""),
            ("Smith, John, III", "John", "Smith III"),
        ]
        for (written, first, last) in cases {
            let name = PersonName.parse(written)
            #expect(name.first == first && name.last == last, "\(written) → \(name.first) / \(name.last)")
        }
        #expect(PersonName.parse("Acme Supply Co.").isCompany)
        #expect(PersonName.parse("Acme Supply Co.").companyKey == "acme supply")
        #expect(PersonName.parse("Smith & Sons").isCompany)
        #expect(!PersonName.parse("Coco Chanel").isCompany)
    }

    @Test func theSameNameWrittenDifferentlyAgrees() {
        func agree(_ a: PersonName, _ b: PersonName) -> Bool {
            let agreement = NameAgreement.between(a, b)
            return agreement.first >= 0.85 && agreement.last >= 0.85 && !agreement.suffixConflict
        }
        #expect(agree(.parse("Brown, Michael"), .from(first: "Michael", last: "Brown")))
        #expect(agree(.parse("Kim Ava"), .from(first: "Ava", last: "Kim")), "the other order")
        #expect(agree(.from(first: "Brown,", last: "Michael"), .from(first: "Michael", last: "Brown")), "a clerk's Last, First in two fields")
        #expect(agree(.from(first: "Michael Brown", last: ""), .parse("Brown, Michael")), "the whole name in the first field")
        #expect(agree(.parse("Prof. Michael James Brown"), .from(first: "Michael", last: "Brown")), "a title and a middle name")
        #expect(agree(.parse("M. Brown"), .from(first: "Michael", last: "Brown")), "an initial")
        #expect(agree(.parse("Stone, Robert"), .from(first: "Bob", last: "Stone")), "a nickname")
        #expect(agree(.parse("Maria Garcia Lopez"), .from(first: "Maria", last: "Garcia")), "a second family name")
        #expect(agree(.parse("Acme Supply Co."), .from(first: "", last: "ACME SUPPLY Company")))
        #expect(!agree(.parse("Brown, Michael"), .from(first: "Sarah", last: "Brown")))
        #expect(NameAgreement.between(.parse("John Smith Jr."), .parse("John Smith Sr.")).suffixConflict)
        #expect(NameAgreement.between(.parse("John Smith Jr."), .parse("John Smith")).suffixOnOneSide)
    }
}
