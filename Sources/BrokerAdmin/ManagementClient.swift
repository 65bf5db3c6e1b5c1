import ConnectorHTTP
import Foundation
import Messaging

/// RabbitMQ's management HTTP API: definitions import/export, users, queue statistics. Over the connectors' HTTP
/// transport (AsyncHTTPClient, `ConnectorTransport`), not URLSession: Foundation's networking loads libcurl and some
/// twenty libraries behind it, 3.8 MB of the alerter's resident memory at rest for the console's few calls (issue 21).
public struct ManagementClient: Sendable {
    public let baseURL: URL
    private let authorization: String

    /// `url` is `http://user:password@host:port` (the management listener).
    public init(url: String) throws {
        guard var components = URLComponents(string: url), components.encodedHost != nil else {  // not `host`: see AMQPURL
            throw ManagementError.invalidURL(url)
        }
        let user = components.user ?? "guest"
        let password = components.password ?? "guest"
        components.user = nil
        components.password = nil
        components.path = ""
        guard let base = components.url else { throw ManagementError.invalidURL(url) }
        baseURL = base
        authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    public func definitions() async throws -> Topology {
        try JSONDecoder().decode(Topology.self, from: try await request("GET", "/api/definitions"))
    }

    public func importDefinitions(_ topology: Topology) async throws {
        _ = try await request("POST", "/api/definitions", body: try topology.encoded())
    }

    public func setPassword(user: String, password: String, tags: [String]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["password": password, "tags": tags.joined(separator: ",")])
        _ = try await request("PUT", "/api/users/\(escape(user))", body: body)
    }

    /// Deletes a virtual host and everything in it.
    public func deleteVirtualHost(_ name: String) async throws {
        _ = try await request("DELETE", "/api/vhosts/\(escape(name))")
    }

    /// Names of the broker's feature flags that are enabled.
    public func enabledFeatureFlags() async throws -> Set<String> {
        struct Flag: Decodable { var name: String; var state: String }
        let flags = try JSONDecoder().decode([Flag].self, from: try await request("GET", "/api/feature-flags"))
        return Set(flags.filter { $0.state == "enabled" }.map(\.name))
    }

    public func queues(vhost: String = "/") async throws -> [QueueStatistics] {
        let data = try await request("GET", "/api/queues/\(escape(vhost))?disable_stats=false")
        return try JSONDecoder().decode([QueueStatistics].self, from: data)
    }

    /// The cluster's nodes as this node sees them: name and whether it runs (a paused minority node does not).
    public func nodes() async throws -> [(name: String, running: Bool)] {
        struct Node: Decodable { var name: String; var running: Bool? }
        let data = try await request("GET", "/api/nodes")
        return try JSONDecoder().decode([Node].self, from: data).map { ($0.name, $0.running ?? false) }
    }

    public func deleteQueue(_ name: String, vhost: String = "/", ifEmpty: Bool = false) async throws {
        _ = try await request("DELETE", "/api/queues/\(escape(vhost))/\(escape(name))" + (ifEmpty ? "?if-empty=true" : ""))
    }

    /// The connections open on the node: the management API's name of each and the name its client gave it.
    public func connections() async throws -> [(name: String, clientName: String?)] {
        struct Connection: Decodable {
            struct Properties: Decodable { var connection_name: String? }
            var name: String
            var client_properties: Properties?
        }
        let data = try await request("GET", "/api/connections")
        return try JSONDecoder().decode([Connection].self, from: data).map { ($0.name, $0.client_properties?.connection_name) }
    }

    /// Closes a connection from the broker's side (the client sees CONNECTION_FORCED with `reason`).
    public func closeConnection(_ name: String, reason: String) async throws {
        _ = try await request("DELETE", "/api/connections/\(escape(name))", headers: ["X-Reason": reason])
    }

    private func escape(_ part: String) -> String {
        part.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? part
    }

    private func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Data {
        guard let url = URL(string: baseURL.absoluteString + path) else { throw ManagementError.invalidURL(path) }
        var fields = [("Authorization", authorization)] + headers.map { ($0.key, $0.value) }
        if body != nil { fields.append(("Content-Type", "application/json")) }
        let answer: ConnectorTransport.Answer
        do {
            // The process's pool for these settings, looked up each time: a pool shut down (`HTTPPools.shutdown`) is
            // made again.
            answer = try await ConnectorTransport(settings: Self.pool).send(method, url, headers: fields, body: body)
        } catch let failure as ConnectorTransport.Failure {
            throw ManagementError.unreachable(baseURL.absoluteString, failure.description)
        }
        guard (200..<300).contains(answer.status) else {
            throw ManagementError.http(method: method, path: path, status: answer.status, body: String(decoding: answer.body.prefix(500), as: UTF8.self))
        }
        return answer.body
    }

    /// Two connections to the management listener at most, 30 s a request (as with URLSession before).
    private static let pool = HTTPPoolSettings(connectionsPerHost: 2, timeout: .seconds(30))
}

public enum ManagementError: Error, CustomStringConvertible {
    case invalidURL(String), unreachable(String, String), http(method: String, path: String, status: Int, body: String)

    public var description: String {
        switch self {
        case .invalidURL(let url): return "invalid management URL \(url) (expected http://user:password@host:15672)"
        case .unreachable(let url, let why): return "RabbitMQ management API at \(url) not reachable: \(why)"
        case .http(let method, let path, let status, let body): return "management API \(method) \(path) answered \(status): \(body)"
        }
    }
}

/// One queue as the management API reports it.
public struct QueueStatistics: Decodable, Sendable {
    public var name: String
    public var type: String?
    public var messagesReady: Int
    public var messagesUnacknowledged: Int
    public var consumers: Int
    public var publishRate: Double
    public var deliverRate: Double
    public var ackRate: Double
    /// The AMQP `timestamp` of the message at the queue's head. RabbitMQ reports it for classic queues
    /// whose head message carries one; quorum queues have none (3.10 to 3.13, rabbitmq-server#6813).
    public var headMessageTimestamp: Date?
    /// Quorum queues: the node of the Raft leader, and every member's node.
    public var leader: String?
    public var members: [String]

    enum CodingKeys: String, CodingKey {
        case name, type, consumers, leader, members
        case headMessageTimestamp = "head_message_timestamp"
        case messagesReady = "messages_ready", messagesUnacknowledged = "messages_unacknowledged", messageStats = "message_stats"
    }

    struct Rates: Decodable {
        struct Detail: Decodable { var rate: Double? }
        var publish_details: Detail?
        var deliver_get_details: Detail?
        var ack_details: Detail?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        messagesReady = try c.decodeIfPresent(Int.self, forKey: .messagesReady) ?? 0
        messagesUnacknowledged = try c.decodeIfPresent(Int.self, forKey: .messagesUnacknowledged) ?? 0
        consumers = try c.decodeIfPresent(Int.self, forKey: .consumers) ?? 0
        leader = try c.decodeIfPresent(String.self, forKey: .leader)
        members = try c.decodeIfPresent([String].self, forKey: .members) ?? []
        let rates = try c.decodeIfPresent(Rates.self, forKey: .messageStats)
        publishRate = rates?.publish_details?.rate ?? 0
        deliverRate = rates?.deliver_get_details?.rate ?? 0
        ackRate = rates?.ack_details?.rate ?? 0
        // An empty queue reports "" (or nothing) instead of a number.
        headMessageTimestamp = (try? c.decodeIfPresent(Double.self, forKey: .headMessageTimestamp))
            .flatMap { $0 }.map { Date(timeIntervalSince1970: $0) }
    }
}
