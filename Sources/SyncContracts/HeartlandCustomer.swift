import Foundation
import HeartlandWire
import Messaging

extension SyncCustomer {
    /// Heartland's walk-in customer is not a customer of the merchant's books.
    public static let heartlandWalkIn = "CASH"

    /// A Heartland Retail customer in the bridge's terms (heartland-ingest's sweep, heartland-loader, the transformer's AR
    /// documents). Card numbers a clerk typed into a customer's fields are masked here, before anything is published or logged.
    public init(heartland customer: Customer) {
        self.init(side: .heartland, id: String(customer.id), number: customer.publicId, firstName: CardMask.mask(customer.firstName ?? ""),
                  lastName: CardMask.mask(customer.lastName ?? ""), email: customer.email?.nilIfEmpty.map(CardMask.mask),
                  phone: customer.addresses.compactMap { $0.phone?.nilIfEmpty }.first.map(CardMask.mask), active: customer.active ?? true,
                  version: customer.updatedAt ?? "")
    }
}

extension String {
    /// Nil for text that is empty or only white space; the text itself otherwise.
    package var nilIfEmpty: String? {
        let trimmed = trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : self
    }
}
