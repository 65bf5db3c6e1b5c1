import Foundation

/// Where and as whom to reach the Sage 300 Web API. Built from configuration; the password comes
/// from the environment or a secrets file and never appears in `description` or a log line.
public struct SageConnection: Sendable, CustomStringConvertible {
    /// The server root, e.g. `http://sage.local` or `http://127.0.0.1:8080`.
    public var server: URL
    /// `Sage300WebApi/v1.0/-`: the Web API's path and tenant segment.
    public var apiPath: String
    /// Company database id, e.g. `SAMINC`.
    public var company: String
    public var credentials: SageCredentials
    /// Per request: no answer within this is `.unavailable(.timeout)`.
    public var timeout: Duration
    /// `$top` used when listing.
    public var pageSize: Int
    /// Connections kept open to the Sage server at most (the process's pool, docs/HTTP.md); more requests at once wait
    /// for a free one. The sage-loader sets it to its handler concurrency (`--concurrency`).
    public var connectionsPerHost = 8
    /// How many times a read (GET) answered 500/502/503/504, or whose connection was refused or dropped, is asked again
    /// before the failure goes to the stage (`SageHTTPTransport.send`). `SAGE_READ_RETRIES`; 0 asks once.
    public var readRetries = 2

    public init(
        server: URL, company: String, credentials: SageCredentials, apiPath: String = "Sage300WebApi/v1.0/-",
        timeout: Duration = .seconds(30), pageSize: Int = 100
    ) {
        self.server = server
        self.apiPath = apiPath
        self.company = company
        self.credentials = credentials
        self.timeout = timeout
        self.pageSize = pageSize
    }

    /// `http://host/Sage300WebApi/v1.0/-/SAMINC/`: resources are relative to this.
    public var companyURL: URL {
        let root = server.absoluteString.hasSuffix("/") ? server.absoluteString : server.absoluteString + "/"
        let path = apiPath.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return URL(string: "\(root)\(path)/\(company)/")!
    }

    public var description: String { "Sage Web API \(companyURL.absoluteString) as \(credentials.user)" }
}

/// HTTP Basic credentials of a Sage user with Web API rights.
public struct SageCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    var authorizationHeader: String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }

    public var description: String { "\(user):<redacted>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["user": user, "password": "<redacted>"]) }
}
