import Foundation

/// Which side of the sync owns a field.
public enum SyncSide: String, Sendable, Codable, Hashable {
    case sage, heartland
}

/// A customer as either side holds it, reduced to what matching needs.
public struct CustomerRecord: Sendable, Hashable {
    public var id: String
    public var firstName: String
    public var lastName: String
    public var email: String?
    public var phone: String?

    public init(id: String, firstName: String, lastName: String, email: String? = nil, phone: String? = nil) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.phone = phone
    }

    /// The name read from its two fields, whichever way it was written in them.
    public var name: PersonName { PersonName.from(first: firstName, last: lastName) }
}
