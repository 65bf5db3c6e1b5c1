import Foundation
import Testing

/// The two shell entrypoints, run for real with temporary secrets.
@Suite struct EntrypointTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("deployment-entrypoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    func secret(_ name: String, _ value: String) throws -> String {
        let file = scratch.appendingPathComponent(name)
        try (value + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test func workerURLIsBuiltFromItsOwnUsersSecretWithThePasswordEscaped() async throws {
        let file = try secret("sage-loader", "p@ss/w:rd %x")
        let result = try await Shell.run(Repository.url("Compose/entrypoint.sh").path, ["sh", "-c", "printf %s \"$BRIDGE_AMQP_URL\""],
                                         environment: ["BRIDGE_AMQP_USER": "sage-loader", "BRIDGE_AMQP_PASSWORD_FILE": file,
                                                 "BRIDGE_AMQP_URL": "", "BRIDGE_AMQP_HOST": "rabbit-1"])
        #expect(result.succeeded, "\(result.error)")
        #expect(result.output == "amqp://sage-loader:p%40ss%2Fw%3Ard%20%25x@rabbit-1:5672/?heartbeat=30")
        let url = try #require(URLComponents(string: result.output))
        #expect(url.user == "sage-loader" && url.password == "p@ss/w:rd %x" && url.host == "rabbit-1")
    }

    @Test func missingSecretStopsTheContainerWithAReason() async throws {
        let result = try await Shell.run(Repository.url("Compose/entrypoint.sh").path, ["true"],
                                         environment: ["BRIDGE_AMQP_USER": "alerter", "BRIDGE_AMQP_URL": "",
                                                 "BRIDGE_AMQP_PASSWORD_FILE": scratch.appendingPathComponent("none").path])
        #expect(result.status == 78)
        #expect(result.error.contains("password of RabbitMQ user alerter"))
    }

    @Test func simulatorSecretsBecomeVariablesAndManagementURLIsBuilt() async throws {
        let key = try secret("heartland-app-key", "k3y"), admin = try secret("rabbitmq-admin", "adm1n")
        let result = try await Shell.run(Repository.url("Compose/entrypoint.sh").path, ["sh", "-c", "printf '%s|%s' \"$HEARTLAND_SIM_APP_KEY\" \"$BRIDGE_MANAGEMENT_URL\""],
                                         environment: ["BRIDGE_SECRET_ENV": "HEARTLAND_SIM_APP_KEY", "HEARTLAND_SIM_APP_KEY_FILE": key,
                                                 "BRIDGE_MANAGEMENT_USER": "admin", "BRIDGE_MANAGEMENT_PASSWORD_FILE": admin,
                                                 "BRIDGE_MANAGEMENT_URL": ""])
        #expect(result.succeeded, "\(result.error)")
        #expect(result.output == "k3y|http://admin:adm1n@rabbitmq:15672")
    }

    /// The rabbitmq entrypoint's environment in the scratch folder, with the image's own entrypoint replaced by one that
    /// says it was handed over to.
    func rabbitmqEnvironment() throws -> [String: String] {
        let admin = try secret("rabbitmq-admin", "correct horse")
        let bin = scratch.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fake = bin.appendingPathComponent("docker-entrypoint.sh")
        try "#!/bin/sh\necho \"handed over: $*\"\n".write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        return ["PATH": "\(bin.path):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")",
                "RABBITMQ_ADMIN_PASSWORD_FILE": admin, "RABBITMQ_DEFINITIONS_DIR": scratch.appendingPathComponent("definitions").path,
                "RABBITMQ_ADMIN_SALT_FILE": scratch.appendingPathComponent("salt").path,
                "RABBITMQ_CONF_DIR": scratch.appendingPathComponent("conf.d").path,
                "RABBITMQ_CGROUP_MEMORY_FILES": scratch.appendingPathComponent("memory.max").path,
                "BRIDGE_TOPOLOGY_FILE": Repository.url("Topology/definitions.json").path]
    }

    /// The administrator imported at boot gets RabbitMQ's salted SHA-256 of the secret, and the
    /// topology is copied next to it; the salt is kept so that a restart imports nothing new.
    @Test func rabbitmqAdministratorHashIsRabbitMQsSaltedSHA256() async throws {
        let environment = try rabbitmqEnvironment()
        let definitions = scratch.appendingPathComponent("definitions")
        let entrypoint = Repository.url("Compose/rabbitmq/entrypoint.sh").path
        let first = try await Shell.run(entrypoint, ["rabbitmq-server"], environment: environment)
        #expect(first.succeeded, "\(first.error)")
        #expect(first.output.contains("handed over: rabbitmq-server"))
        let adminFile = definitions.appendingPathComponent("00-admin.json")
        let firstContent = try Data(contentsOf: adminFile)
        let json = try #require(try JSONSerialization.jsonObject(with: firstContent) as? [String: Any])
        let user = try #require((json["users"] as? [[String: Any]])?.first)
        #expect(user["name"] as? String == "admin")
        let hash = try #require(user["password_hash"] as? String)
        let check = try await Shell.run("python3", ["-c", """
            import base64, hashlib, sys
            raw = base64.b64decode(sys.argv[1]); salt = raw[:4]
            sys.exit(0 if len(raw) == 36 and raw[4:] == hashlib.sha256(salt + sys.argv[2].encode()).digest() else 1)
            """, hash, "correct horse"])
        #expect(check.succeeded, "password_hash \(hash) is not base64(salt + sha256(salt + password))")
        #expect(try Data(contentsOf: definitions.appendingPathComponent("10-topology.json")) == Data(contentsOf: Repository.url("Topology/definitions.json")))
        _ = try await Shell.run(entrypoint, ["rabbitmq-server"], environment: environment)
        #expect(try Data(contentsOf: adminFile) == firstContent, "a restart must produce the same definitions (skip_if_unchanged)")
    }

    /// The memory alarm at 60 % of the container's limit, as an absolute number of bytes (RabbitMQ does not always see a
    /// cgroup's limit); without a limit ("max", cgroup v1's largest number, no file), 60 % of what RabbitMQ sees.
    @Test func rabbitmqMemoryAlarmIsSixtyPercentOfTheContainersLimit() async throws {
        let environment = try rabbitmqEnvironment()
        let entrypoint = Repository.url("Compose/rabbitmq/entrypoint.sh").path
        let limitFile = scratch.appendingPathComponent("memory.max")
        let written = scratch.appendingPathComponent("conf.d/10-memory.conf")
        for (limit, expected) in [("1073741824\n", "vm_memory_high_watermark.absolute = 644245092"),
                                  ("max\n", "vm_memory_high_watermark.relative = 0.6"),
                                  ("9223372036854771712\n", "vm_memory_high_watermark.relative = 0.6"),
                                  (nil, "vm_memory_high_watermark.relative = 0.6")] {
            if let limit { try limit.write(to: limitFile, atomically: true, encoding: .utf8) } else { try? FileManager.default.removeItem(at: limitFile) }
            let result = try await Shell.run(entrypoint, ["rabbitmq-server"], environment: environment)
            #expect(result.succeeded, "\(result.error)")
            #expect(try String(contentsOf: written, encoding: .utf8) == expected + "\n", "limit \(limit ?? "none")")
        }
        let configuration = try Repository.text("Compose/rabbitmq/rabbitmq.conf")
        #expect(!configuration.contains("\nvm_memory_high_watermark"), "one threshold, the entrypoint's")
    }
}
