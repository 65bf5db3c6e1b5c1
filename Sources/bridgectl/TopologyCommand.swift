import ArgumentParser
import BrokerAdmin
import Foundation
import Messaging

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology", abstract: "Apply, compare or regenerate the broker topology.",
        subcommands: [Apply.self, Diff.self, Render.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare the topology file on a running broker (definitions import), then set worker passwords.",
            discussion: """
                Passwords are never in the file. For each worker user U, the password is taken from \
                $BRIDGE_PASSWORD_<U> (upper case, '-' as '_'), e.g. BRIDGE_PASSWORD_SAGE_LOADER, or from the file \
                <secrets-dir>/<U>. Users that exist keep their password when none is given.

                Upgrading from classic delay tiers (S.retry.<delay>): the quorum tiers (S.delay.<delay>) are \
                created next to them; workers of this release use only the new ones, and the old ones keep \
                returning their messages to S as their TTL runs out. Each old tier is deleted here once it is \
                empty (at most its delay after the last old worker stopped); run apply again until it says none is left.
                """)
        @OptionGroup var broker: BrokerOptions
        @Option(help: "Folder with one file per worker user holding its password.") var secretsDir: String?
        @Option(help: ArgumentHelp(
            "Also create the operations console's RabbitMQ user with this name (e.g. operations-console).",
            discussion: "It may read every S.dlq and write amq.default, bridge.commands and bridge.audit (tag monitoring); see docs/CONSOLE.md."))
        var consoleUser: String?

        func run() async throws {
            var file = try broker.loadTopology()
            if let consoleUser { file = try ConsoleBrokerUser.adding(consoleUser, to: file) }
            let management = try broker.management()
            // Quorum queues fall back to at-most-once dead-lettering without it (nodes upgraded from 3.9 or older).
            guard try await management.enabledFeatureFlags().contains("stream_queue") else {
                throw ValidationError("the broker's feature flag stream_queue is disabled, and the delay tiers' at-least-once dead-lettering "
                                      + "needs it: run `rabbitmqctl enable_feature_flag stream_queue` on a node, then apply again")
            }
            let current = try await management.definitions()
            var topology = file
            // Re-importing a user replaces its password hash: keep the hash of users that already exist.
            for index in topology.users.indices {
                if let existing = current.users.first(where: { $0.name == topology.users[index].name }) {
                    topology.users[index].passwordHash = existing.passwordHash
                    topology.users[index].hashingAlgorithm = existing.hashingAlgorithm
                }
            }
            try await management.importDefinitions(topology)
            var passwords = 0
            for user in file.users {
                if let password = password(for: user.name) {
                    try await management.setPassword(user: user.name, password: password, tags: user.tags)
                    passwords += 1
                }
            }
            let retired = try await retireDrainedTiers(file, management)
            let diff = TopologyDiff(file: file, broker: try await management.definitions())
            if broker.json {
                struct Applied: Encodable {
                    var exchanges, queues, bindings, policies, users, passwordsSet: Int
                    var missing, different, retiredTiersDeleted, retiredTiersDraining: [String]
                }
                print(try Output.json(Applied(exchanges: file.exchanges.count, queues: file.queues.count, bindings: file.bindings.count,
                                              policies: file.policies.count, users: file.users.count, passwordsSet: passwords,
                                              missing: diff.missing, different: diff.different,
                                              retiredTiersDeleted: retired.deleted, retiredTiersDraining: retired.draining.map(\.name))))
            } else {
                print("applied \(file.exchanges.count) exchanges, \(file.queues.count) queues, \(file.bindings.count) bindings, "
                      + "\(file.policies.count) policies, \(file.users.count) users (\(passwords) passwords set)")
                if let retention = file.parkedRetention?.components.seconds {
                    print("parked messages (S.dlq) are kept \(retention) s (\(retention / 86_400) days), then recorded by the alerter and dropped")
                }
                for name in retired.deleted { print("deleted the retired classic delay tier \(name) (empty)") }
                for (name, messages) in retired.draining {
                    print("the retired classic delay tier \(name) still holds \(messages) messages; they return to their stage as their "
                          + "delay runs out: run `bridgectl topology apply` again after that to delete it")
                }
            }
            if !diff.missing.isEmpty || !diff.different.isEmpty {
                throw ValidationError("the broker still differs from the file: \((diff.missing + diff.different).joined(separator: ", "))")
            }
        }

        /// Deletes each classic delay tier of an earlier release that has drained; reports the others.
        private func retireDrainedTiers(_ file: Topology, _ management: ManagementClient) async throws
            -> (deleted: [String], draining: [(name: String, messages: Int)])
        {
            let retired = Set(file.retiredRetryTiers)
            var deleted: [String] = [], draining: [(String, Int)] = []
            for queue in try await management.queues() where retired.contains(queue.name) {
                let messages = queue.messagesReady + queue.messagesUnacknowledged
                // if-empty: the broker refuses if a message arrived since the figures were taken.
                if messages == 0, (try? await management.deleteQueue(queue.name, ifEmpty: true)) != nil {
                    deleted.append(queue.name)
                } else {
                    draining.append((queue.name, messages))
                }
            }
            return (deleted.sorted(), draining.sorted { $0.0 < $1.0 })
        }

        private func password(for user: String) -> String? {
            let variable = "BRIDGE_PASSWORD_" + user.uppercased().replacingOccurrences(of: "-", with: "_")
            if let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty { return value }
            guard let secretsDir, let data = FileManager.default.contents(atPath: "\(secretsDir)/\(user)") else { return nil }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show how the broker differs from the topology file (exit 1 if it does).")
        @OptionGroup var broker: BrokerOptions
        @Option(help: "Compare the operations console's user of this name too (as applied with --console-user).") var consoleUser: String?

        func run() async throws {
            var file = try broker.loadTopology()
            if let consoleUser { file = try ConsoleBrokerUser.adding(consoleUser, to: file) }
            let diff = TopologyDiff(file: file, broker: try await broker.management().definitions())
            if broker.json {
                print(try Output.json(["missing": diff.missing, "different": diff.different, "extra": diff.extra]))
            } else if diff.isEmpty {
                print("the broker matches the topology file")
            } else {
                for item in diff.missing { print("missing on broker:   \(item)") }
                for item in diff.different { print("different on broker: \(item)") }
                for item in diff.extra { print("only on broker:      \(item)") }
            }
            if !diff.missing.isEmpty || !diff.different.isEmpty { throw ExitCode(1) }
        }
    }

    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the standard topology as definitions JSON (regenerates Topology/definitions.json).")
        @Flag(help: "Accepted for uniformity: the output is always JSON.") var json = false

        func run() throws {
            print(String(decoding: try BridgeTopology.standard.build().encoded(), as: UTF8.self), terminator: "")
        }
    }
}
