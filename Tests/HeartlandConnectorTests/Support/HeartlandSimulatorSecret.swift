import HeartlandSimulator

/// The simulator's own secret computation, to check the connector's against.
enum HeartlandSimulatorSecret {
    static func secret(nonce: String, appKey: String) -> String {
        HeartlandSimulator.accessTokenSecret(nonce: nonce, appKey: appKey)
    }
}
