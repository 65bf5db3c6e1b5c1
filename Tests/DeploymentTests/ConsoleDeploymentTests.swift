import Foundation
import Testing

/// The operations console in Compose: served by the alerter, published, health-checked, its users
/// file a secret, and its broker access through a RabbitMQ user of its own (not the alerter's).
@Suite struct ConsoleDeploymentTests {
    @Test func alerterServesThePublishedAndHealthCheckedConsole() async throws {
        let compose = try await ComposeFile.resolved()
        let alerter = try #require(compose.services["alerter"])
        let environment = ComposeFile.environment(alerter)
        let port = try #require(environment["BRIDGE_CONSOLE_PORT"].flatMap(Int.init), "the alerter serves no console (BRIDGE_CONSOLE_PORT)")
        #expect(port > 0)
        #expect(environment["BRIDGE_CONSOLE_HOST"] == "0.0.0.0", "the console must listen beyond the container's loopback to be published")
        let published = (alerter["ports"] as? [Any] ?? []).compactMap { entry -> Int? in
            // `127.0.0.1:8090:8090/tcp` as docker-compose config prints it: the container port is last.
            if let text = entry as? String { return text.split(separator: ":").last.flatMap { Int($0.split(separator: "/")[0]) } }
            return (entry as? [String: Any])?["target"].flatMap { ($0 as? Int) ?? ($0 as? String).flatMap(Int.init) }
        }
        #expect(published.contains(port), "the console's port \(port) is not published: \(published)")

        let test = (alerter["healthcheck"] as? [String: Any])?["test"] as? [String] ?? []
        #expect(test.contains("http://127.0.0.1:\(port)/login"), "the health check does not ask the console: \(test)")
        #expect(test.contains("http://127.0.0.1:9090/health/ready"), "the health check no longer asks the stage: \(test)")
        #expect(test.contains("--fail-early"), "curl must fail on the first failing URL, not only the last")
        #expect(Repository.sources.contains("parts == [\"login\"]"), "the console no longer serves /login")
    }

    /// The mapping page works in Compose (docs/DEPLOYMENT.md, "The mapping page"): the alerter writes the mapping in a
    /// folder (a save renames a new file over the old one, which a bind mount of the single file would not show) that the
    /// transformer and sage-loader read at the same path, read-only; its versions are on the alerter's own volume;
    /// heartland-ingest's kept days are mounted read-only; Sage is read with the loader's credentials. scripts/compose-test
    /// saves a change through the page and finds the next day posted with it.
    @Test func theMappingPageHasWhatItNeedsAndNoMore() async throws {
        let compose = try await ComposeFile.resolved()
        let alerter = try #require(compose.services["alerter"])
        let environment = ComposeFile.environment(alerter)
        let mapping = try #require(environment["BRIDGE_MAPPING"], "the alerter is not told where the mapping is")
        let folder = (mapping as NSString).deletingLastPathComponent
        func mount(_ service: [String: Any], at path: String) -> (source: String, target: String, readOnly: Bool)? {
            ComposeFile.mounts(service).filter { path.hasPrefix($0.target + "/") }.max { $0.target.count < $1.target.count }
        }
        let written = try #require(mount(alerter, at: mapping), "the alerter's \(mapping) is on no volume")
        #expect(written.target == folder && !written.readOnly && !written.source.hasPrefix("/") && !written.source.hasPrefix("."),
                "the alerter must write the mapping's folder on a named volume: \(written)")
        for reader in ["transformer", "sage-loader"] {
            let service = try #require(compose.services[reader])
            #expect(ComposeFile.environment(service)["BRIDGE_MAPPING"] == mapping, "\(reader) does not read the mapping the console writes")
            let seen = mount(service, at: mapping)
            #expect(seen?.source == written.source && seen?.readOnly == true, "\(reader) must mount \(written.source) read-only: \(String(describing: seen))")
        }
        let seed = try #require(compose.services["mapping-init"], "nothing puts the shipped mapping on the volume")
        #expect(ComposeFile.command(seed).starts(with: ["bridgectl", "mapping", "init"]))
        #expect(mount(seed, at: mapping)?.source == written.source)
        for name in ["transformer", "sage-loader", "alerter"] {
            let after = (compose.services[name]?["depends_on"] as? [String: Any])?["mapping-init"] as? [String: Any]
            #expect(after?["condition"] as? String == "service_completed_successfully", "\(name) may start before the mapping is on the volume")
        }

        let inbox = try #require(environment["BRIDGE_INGEST_INBOX"], "the alerter is not told where heartland-ingest keeps its days")
        let ingest = try #require(compose.services["heartland-ingest"])
        let ingestInbox = try #require(ComposeFile.environment(ingest)["BRIDGE_INBOX"])
        let ingestVolume = try #require(mount(ingest, at: ingestInbox))
        let kept = mount(alerter, at: inbox)
        #expect(kept?.source == ingestVolume.source && kept?.readOnly == true, "heartland-ingest's volume must be read-only in the alerter: \(String(describing: kept))")
        #expect(inbox.hasSuffix("/" + (ingestInbox as NSString).lastPathComponent))

        let versions = try #require(environment["BRIDGE_MAPPING_VERSIONS"])
        #expect(mount(alerter, at: versions).map { !$0.readOnly && $0.target == "/app/var" } == true, "the versions must be on the alerter's volume")
        #expect(environment["SAGE_URL"] != nil && environment["SAGE_PASSWORD_FILE"] == "/run/secrets/sage-password")
        #expect(ComposeFile.secretNames(alerter).contains("sage-password"))
        // Nothing else of Config/ becomes writable.
        let writableHostFolders = ComposeFile.mounts(alerter).filter { ($0.source.hasPrefix("/") || $0.source.hasPrefix(".")) && !$0.readOnly }
        #expect(writableHostFolders.isEmpty, "a host folder is writable in the alerter: \(writableHostFolders)")
    }

    @Test func consoleUsersAreASecretAndGenerateSecretsWritesAValidFile() async throws {
        let compose = try await ComposeFile.resolved()
        let alerter = try #require(compose.services["alerter"])
        let file = try #require(ComposeFile.environment(alerter)["BRIDGE_CONSOLE_USERS_FILE"])
        #expect(file == "/run/secrets/console-users")
        #expect(ComposeFile.secretNames(alerter).contains("console-users"))
        #expect(compose.secrets["console-users"] != nil)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-secrets-\(UUID().uuidString)")
        let result = try await Shell.run(Repository.url("Compose/generate-secrets").path, [folder.path])
        #expect(result.succeeded, "\(result.error)")
        let users = try String(contentsOf: folder.appendingPathComponent("console-users"), encoding: .utf8)
        let password = try String(contentsOf: folder.appendingPathComponent("console-admin-password"), encoding: .utf8)
        #expect(users.hasPrefix("admin:admin:$2b$12$") && users.hasSuffix("\n") && users.split(separator: "\n").count == 1,
                "the users file must be one line admin:admin:<bcrypt>: \(users)")
        let hash = String(users.dropFirst("admin:admin:".count).dropLast())
        let check = try await Shell.run("python3", ["-W", "ignore", "-c", "import crypt, sys; sys.exit(0 if crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2] else 1)",
                                                    password, hash])
        #expect(check.succeeded, "the bcrypt hash is not of the password written beside it")
        let rerun = try await Shell.run(Repository.url("Compose/generate-secrets").path, [folder.path])
        #expect(rerun.succeeded)
        #expect(try String(contentsOf: folder.appendingPathComponent("console-users"), encoding: .utf8) == users, "a re-run keeps the users")
        try? FileManager.default.removeItem(at: folder)
    }

    /// The console reads every S.dlq and publishes replays and releases, which the alerter's stage user
    /// may not; it gets a user of its own, created by the topology service, for AMQP and management.
    @Test func consoleUsesItsOwnBrokerUserCreatedByTheTopologyService() async throws {
        let compose = try await ComposeFile.resolved()
        let alerter = try #require(compose.services["alerter"])
        let environment = ComposeFile.environment(alerter)
        let user = try #require(environment["BRIDGE_CONSOLE_AMQP_USER"], "the console would use the alerter's stage user")
        #expect(user != environment["BRIDGE_AMQP_USER"])
        #expect(environment["BRIDGE_MANAGEMENT_USER"] == user, "the pipeline page must read the management API as the console's user")
        #expect(environment["BRIDGE_MANAGEMENT_PASSWORD_FILE"] == "/run/secrets/\(user)")
        #expect(ComposeFile.secretNames(alerter).contains(user))
        #expect(!ComposeFile.secretNames(alerter).contains("rabbitmq-admin"), "the alerter must not hold the administrator's password")

        let topology = try #require(compose.services["topology"])
        let command = ComposeFile.command(topology)
        let index = try #require(command.firstIndex(of: "--console-user"), "the topology service does not create the console's user")
        #expect(command[index + 1] == user)
        #expect(ComposeFile.secretNames(topology).contains(user), "the topology service cannot set the console user's password")
    }

    @Test func entrypointBuildsTheConsolesBrokerURLFromItsSecret() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("console-entrypoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let stage = folder.appendingPathComponent("alerter"), console = folder.appendingPathComponent("operations-console")
        try "stage-pw\n".write(to: stage, atomically: true, encoding: .utf8)
        try "c0ns/le\n".write(to: console, atomically: true, encoding: .utf8)
        let result = try await Shell.run(Repository.url("Compose/entrypoint.sh").path,
                                         ["sh", "-c", "printf '%s|%s' \"$BRIDGE_AMQP_URL\" \"$BRIDGE_CONSOLE_AMQP_URL\""],
                                         environment: ["BRIDGE_AMQP_USER": "alerter", "BRIDGE_AMQP_PASSWORD_FILE": stage.path, "BRIDGE_AMQP_URL": "",
                                                 "BRIDGE_CONSOLE_AMQP_USER": "operations-console", "BRIDGE_CONSOLE_AMQP_PASSWORD_FILE": console.path,
                                                 "BRIDGE_CONSOLE_AMQP_URL": ""])
        #expect(result.succeeded, "\(result.error)")
        #expect(result.output == "amqp://alerter:stage-pw@rabbitmq:5672/?heartbeat=30|amqp://operations-console:c0ns%2Fle@rabbitmq:5672/?heartbeat=30")
        let missing = try await Shell.run(Repository.url("Compose/entrypoint.sh").path, ["true"],
                                          environment: ["BRIDGE_CONSOLE_AMQP_USER": "operations-console", "BRIDGE_CONSOLE_AMQP_URL": "",
                                                  "BRIDGE_CONSOLE_AMQP_PASSWORD_FILE": folder.appendingPathComponent("none").path])
        #expect(missing.status == 78)
        #expect(missing.error.contains("password of RabbitMQ user operations-console"))
        try? FileManager.default.removeItem(at: folder)
    }
}
