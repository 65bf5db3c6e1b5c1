import AMQP
import Foundation
import Testing
import TransportSecurity

/// `BRIDGE_REQUIRE_TLS`: plain HTTP and plain AMQP beyond loopback (and the allow-list) are refused, and so are
/// certificate checks turned off; with the option off nothing is refused.
@Suite struct TransportPolicyTests {
    static let on = ["BRIDGE_REQUIRE_TLS": "1", "BRIDGE_PLAINTEXT_HOSTS": "sage-pro-sim, HEARTLAND-SIM"]

    @Test func plainHTTPIsRefusedUnlessLoopbackOrAllowListed() throws {
        let policy = try TransportPolicy.fromEnvironment(Self.on)
        let refused = #expect(throws: TransportPolicy.Refused.self) {
            try policy.check(http: URL(string: "http://sage.example.com/Sage300WebApi")!, name: "SAGE_URL")
        }
        #expect(refused?.description.contains("SAGE_URL http://sage.example.com/Sage300WebApi is plain HTTP") == true)
        try policy.check(http: URL(string: "https://sage.example.com/")!, name: "SAGE_URL")
        try policy.check(http: URL(string: "http://127.0.0.1:8080/")!, name: "SAGE_URL")
        try policy.check(http: URL(string: "http://localhost/")!, name: "SAGE_URL")
        try policy.check(http: URL(string: "http://[::1]:9/")!, name: "SAGE_URL")
        try policy.check(http: URL(string: "http://sage-pro-sim:8080/")!, name: "SAGE_URL")
        try policy.check(http: URL(string: "http://heartland-sim:8080/")!, name: "HEARTLAND_URL")
    }

    @Test func plainAMQPBeyondLoopbackAndUncheckedCertificatesAreRefused() throws {
        let policy = try TransportPolicy.fromEnvironment(Self.on)
        #expect(throws: TransportPolicy.Refused.self) { try AMQPURL("amqp://u:p@rabbit.example.com:5672/").checkTransport(policy) }
        #expect(throws: TransportPolicy.Refused.self) { try AMQPURL("amqps://u:p@rabbit.example.com:5671/?verify=false").checkTransport(policy) }
        try AMQPURL("amqps://u:p@rabbit.example.com:5671/").checkTransport(policy)
        try AMQPURL("amqp://u:p@127.0.0.1:5672/").checkTransport(policy)
    }

    @Test func offByDefaultAndABadValueIsAnError() throws {
        let off = try TransportPolicy.fromEnvironment([:])
        #expect(!off.requireTLS)
        try off.check(http: URL(string: "http://sage.example.com/")!, name: "SAGE_URL")
        try AMQPURL("amqp://u:p@rabbit.example.com:5672/").checkTransport(off)
        #expect(throws: TransportPolicy.Refused.self) { try TransportPolicy.fromEnvironment(["BRIDGE_REQUIRE_TLS": "maybe"]) }
    }
}
