import Alerter
import AMQP
import Foundation

/// Alert groups from the operations store, with who acknowledged them.
struct AlertRow: Encodable, Sendable {
    var fingerprint, kind, stage, severity, reason, firstSeen, lastSeen: String
    var count: Int
    var acknowledgedBy, acknowledgedAt: String?

    init(_ group: OperationsStore.AlertGroup) {
        fingerprint = group.fingerprint; kind = group.kind; stage = group.stage; severity = group.severity; reason = group.reason
        firstSeen = group.firstSeen; lastSeen = group.lastSeen; count = group.count
        acknowledgedBy = group.acknowledgedBy; acknowledgedAt = group.acknowledgedAt
    }
}

extension OperationsConsole {
    func alerts() async throws -> [AlertRow] { try await configuration.operations.alertGroups().map(AlertRow.init) }

    func acknowledge(fingerprint: String, actor: String) async throws -> String {
        guard let group = try await configuration.operations.alertGroups().first(where: { $0.fingerprint == fingerprint }) else {
            throw ConsoleError.notFound("no alert group \(fingerprint)")
        }
        try await configuration.operations.acknowledge(fingerprint: fingerprint, by: actor)
        var session: AMQPSession?
        if configuration.amqpURL != nil {
            do {
                session = try await brokerSession()
            } catch {
                // The acknowledgement is done and its outcome goes to the trail here; only the copy on bridge.audit is missing.
                logger.error("no broker for the acknowledgement's audit notice; it is recorded in the operations store only",
                             metadata: ["fingerprint": .string(fingerprint), "error": .string("\(error)")])
            }
        }
        await audit(event: .alertAcknowledged, stage: group.stage, detail: "\(group.kind): \(group.reason) (\(group.count) times)",
                    actor: actor, session: session)
        await session?.close()
        return "acknowledged \(group.kind) on \(group.stage)"
    }
}
