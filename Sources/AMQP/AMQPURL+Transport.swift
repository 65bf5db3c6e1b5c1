import TransportSecurity

extension AMQPURL {
    /// Refuses this broker URL when the transport policy does (`BRIDGE_REQUIRE_TLS`): plain AMQP to a host that is not
    /// loopback or allow-listed, or TLS without certificate checks.
    public func checkTransport(_ policy: TransportPolicy, name: String = "the broker URL") throws(TransportPolicy.Refused) {
        try policy.check(amqpScheme: useTLS ? "amqps" : "amqp", host: host, verifyPeer: verifyPeer, name: name)
    }
}
