import Foundation

/// The reverse proxies in front of the console (`BRIDGE_CONSOLE_TRUSTED_PROXIES`: addresses and IPv4
/// CIDR blocks, comma-separated). The login limits count failures per client address; behind a proxy
/// the TCP peer is the proxy for everyone, so `X-Forwarded-For` names the client, but it is believed
/// only when the peer is a trusted proxy: read from the right, the first address that is not a trusted
/// proxy is the client (what a client writes itself is further left and never reached). From any
/// other peer the header is ignored, so nobody escapes the limits by inventing addresses.
public struct TrustedProxies: Sendable, Equatable {
    private var addresses: Set<String> = []
    private var blocks: [(network: UInt32, mask: UInt32)] = []

    public init() {}

    public init(_ list: String) throws {
        for entry in list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map(String.init) {
            if let slash = entry.firstIndex(of: "/") {
                guard let network = Self.ipv4(String(entry[..<slash])), let bits = UInt32(entry[entry.index(after: slash)...]), bits <= 32 else {
                    throw ConsoleConfigurationError("trusted proxy \(entry): expected an address or an IPv4 block such as 172.18.0.0/16")
                }
                let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
                blocks.append((network & mask, mask))
            } else {
                guard Self.isAddress(entry) else { throw ConsoleConfigurationError("trusted proxy \(entry) is not an IP address") }
                addresses.insert(entry.lowercased())
            }
        }
    }

    public var isEmpty: Bool { addresses.isEmpty && blocks.isEmpty }

    func trusts(_ address: String) -> Bool {
        if addresses.contains(address.lowercased()) { return true }
        guard let value = Self.ipv4(address) else { return false }
        return blocks.contains { value & $0.mask == $0.network }
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the right-most
    /// `X-Forwarded-For` entry that is not one.
    func clientAddress(peer: String?, forwardedFor: String?) -> String? {
        guard let peer, trusts(peer), let forwardedFor else { return peer }
        var client = peer
        for hop in forwardedFor.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).reversed() {
            guard Self.isAddress(hop) else { break }  // garbage: stop at the last hop a proxy vouched for
            client = hop
            if !trusts(hop) { break }
        }
        return client
    }

    static func isAddress(_ text: String) -> Bool {
        ipv4(text) != nil || (text.contains(":") && text.count <= 45 && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." })
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.addresses == rhs.addresses && lhs.blocks.map(\.network) == rhs.blocks.map(\.network) && lhs.blocks.map(\.mask) == rhs.blocks.map(\.mask)
    }
}

/// Where a login may send the browser: a path on this console, nothing else. `next` comes from the
/// query string of a link anyone can craft, so `//evil`, `/\evil`, `https://evil`, and the same
/// percent-encoded once or twice more (`/%2F%2Fevil`) all become `/`.
enum LocalRedirect {
    static func target(_ next: String?) -> String {
        guard let next, isLocal(next) else { return "/" }
        return next
    }

    static func isLocal(_ path: String) -> Bool {
        var decoded = path
        for _ in 0..<4 {  // every decoding a browser or proxy might still apply
            guard decoded.hasPrefix("/"), !decoded.hasPrefix("//"), !decoded.contains("\\"),
                  !decoded.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }),
                  !decoded.hasPrefix("/login") else { return false }
            guard let next = decoded.removingPercentEncoding else { return false }
            if next == decoded { return true }
            decoded = next
        }
        return false
    }
}
