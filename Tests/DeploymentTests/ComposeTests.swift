import Foundation
import Messaging
import Testing

/// Static checks of Compose/docker-compose.yml: no Docker engine runs here, so everything a
/// `docker compose up` would trip over is checked against the file, the package and the binaries.
@Suite struct ComposeTests {
    /// Executables that are not deployed, with the reason.
    static let notDeployed = ["bridge-relay": "the relay stage of the integration tests and scripts/bench",
                              "sync-bench": "the twin-check benchmark behind scripts/bench-sync",
                              "fraud-lab": "the offline fraud tools (training, evaluation, benchmarks), not in the image"]

    @Test func composeFileIsValidWithAndWithoutTheDemoAndClusterProfiles() async throws {
        try #require(Shell.available("docker-compose"), "docker-compose is not installed (scripts/install-deps installs it)")
        for profiles in [[], ["demo"], ["cluster"]] {
            let result = try await ComposeFile.config(profiles: profiles, quiet: true)
            #expect(result.succeeded, "docker-compose config \(profiles) failed: \(result.error)")
            #expect(!result.error.contains("WARNING"), "docker-compose config \(profiles) warns: \(result.error)")
        }
        // docker-compose 1.29 prints every service whatever the profiles (`config --services` too): check the profiles themselves.
        let compose = try await ComposeFile.resolved()
        for (name, service) in compose.services {
            let profiles = service["profiles"] as? [String] ?? []
            if ["heartland-sim", "sage-pro-sim"].contains(name) {
                #expect(profiles == ["demo"], "\(name) must only run with --profile demo")
            } else if ["rabbitmq-2", "rabbitmq-3", "rabbitmq-cluster-grow"].contains(name) {
                #expect(profiles == ["cluster"], "\(name) must only run with --profile cluster")
            } else {
                #expect(profiles.isEmpty, "\(name) must run without a profile")
            }
        }
        #expect(compose.services["heartland-sim"] != nil && compose.services["sage-pro-sim"] != nil, "a simulator service is missing")
    }

    @Test func everyExecutableIsDeployedAndEveryWorkerHasItsService() async throws {
        let compose = try await ComposeFile.resolved()
        let commands = Set(compose.bridgeServices.values.compactMap { ComposeFile.command($0).first })
        for product in try Repository.executableProducts() where Self.notDeployed[product] == nil {
            #expect(commands.contains(product), "executable \(product) is not the command of any service in \(ComposeFile.path)")
        }
        let workers = try Repository.workerExecutables().filter { Self.notDeployed[$0] == nil }
        #expect(workers.count >= 5, "expected the five workers, found \(workers)")
        for worker in workers {
            let service = try #require(compose.services[worker], "worker \(worker) has no service named \(worker)")
            #expect(ComposeFile.command(service).first == worker, "service \(worker) does not run \(worker)")
            #expect(service["restart"] as? String == "unless-stopped" || service["restart"] as? String == "always",
                    "worker \(worker) has no restart policy")
        }
    }

    @Test func everyCommandNamesAnExecutableAndFlagsItAccepts() async throws {
        let compose = try await ComposeFile.resolved()
        let bin = Repository.binDirectory()
        let products = Set(try Repository.executableProducts())
        for (name, service) in compose.bridgeServices {
            let command = ComposeFile.command(service)
            let executable = try #require(command.first, "service \(name) has no command")
            #expect(products.contains(executable), "service \(name) runs \(executable), which is not an executable product")
            let path = bin.appendingPathComponent(executable).path
            try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is not built (swift build, or set BRIDGE_BIN_DIR)")
            let subcommands = Array(command.dropFirst().prefix { !$0.hasPrefix("-") })
            let help = try await Shell.run(path, subcommands + ["--help"])
            #expect(help.succeeded, "\(executable) \(subcommands.joined(separator: " ")) --help failed: \(help.error)")
            let text = help.output + help.error
            for flag in command.dropFirst(subcommands.count + 1) where flag.hasPrefix("--") {
                let name = String(flag.split(separator: "=")[0])
                #expect(text.range(of: "\(name)[ ,=<\n]", options: .regularExpression) != nil,
                        "service \(name): \(executable) \(subcommands.joined(separator: " ")) does not accept \(name)")
            }
        }
    }

    /// Every variable a bridge service sets is read by the code or by Compose/entrypoint.sh, so a
    /// misspelt name cannot silently fall back to a default.
    @Test func everyEnvironmentVariableIsReadBySomething() async throws {
        let compose = try await ComposeFile.resolved()
        let entrypoint = try Repository.text("Compose/entrypoint.sh")
        func read(_ name: String) -> Bool {
            Repository.sources.contains("\"\(name)\"") || Repository.sources.contains("[\"\(name)\"]")
                || entrypoint.range(of: "\\b\(name)\\b", options: .regularExpression) != nil
        }
        for (serviceName, service) in compose.bridgeServices {
            let environment = ComposeFile.environment(service)
            let secretEnvironment = (environment["BRIDGE_SECRET_ENV"] ?? "").split(separator: " ").map(String.init)
            for name in environment.keys {
                if name.hasSuffix("_FILE") {
                    let base = String(name.dropLast(5))
                    let native = Repository.sources.contains("\"\(name)\"")
                        || (Repository.sources.contains("\"\(base)\"") && Repository.sources.contains("\"\\(name)_FILE\""))
                    #expect(native || secretEnvironment.contains(base) || read(name),
                            "service \(serviceName): nothing reads \(name) (not in Sources/, Compose/entrypoint.sh or BRIDGE_SECRET_ENV)")
                    let file = environment[name] ?? ""
                    if file.hasPrefix("/run/secrets/") {
                        let secret = String(file.dropFirst("/run/secrets/".count))
                        #expect(ComposeFile.secretNames(service).contains(secret), "service \(serviceName) reads \(file) but is not given secret \(secret)")
                    }
                } else {
                    #expect(read(name), "service \(serviceName) sets \(name), which no code reads")
                }
            }
            for base in secretEnvironment {
                #expect(environment["\(base)_FILE"] != nil, "service \(serviceName): BRIDGE_SECRET_ENV names \(base) without \(base)_FILE")
            }
        }
    }

    @Test func healthChecksCallEndpointsTheProgramsServe() async throws {
        let compose = try await ComposeFile.resolved()
        let workers = Set(try Repository.workerExecutables())
        // One-shot services (topology, mapping-init) run to completion: nothing to check on them.
        for (name, service) in compose.bridgeServices where service["restart"] as? String != "no" {
            let target = try #require(ComposeFile.healthCheckTarget(service), "service \(name) has no HTTP health check")
            #expect(Repository.sources.contains("\"\(target.path)\""), "service \(name) checks \(target.path), which no code serves")
            let command = ComposeFile.command(service)
            if workers.contains(command.first ?? "") {
                #expect(target.path == "/health/ready", "worker \(name) must be checked on /health/ready, not \(target.path)")
                #expect(ComposeFile.environment(service)["BRIDGE_HTTP_PORT"] == String(target.port),
                        "worker \(name) is checked on port \(target.port) but serves on BRIDGE_HTTP_PORT")
                #expect(ComposeFile.environment(service)["BRIDGE_HTTP_HOST"] == "0.0.0.0",
                        "worker \(name) must listen on 0.0.0.0 for Prometheus to reach it")
            } else if let index = command.firstIndex(of: "--port") {
                #expect(command[index + 1] == String(target.port), "service \(name) listens on \(command[index + 1]) but is checked on \(target.port)")
            }
        }
        for upstream in ["rabbitmq", "prometheus", "grafana"] {
            #expect(compose.services[upstream]?["healthcheck"] != nil, "\(upstream) has no health check")
        }
    }

    @Test func everyWorkerUserHasItsSecretAndEveryWorkerLogsInAsItself() async throws {
        let compose = try await ComposeFile.resolved()
        let topology = try Topology.load(from: Repository.url("Topology/definitions.json").path)
        let users = topology.users.map(\.name)
        #expect(!users.isEmpty)
        let topologyService = try #require(compose.services["topology"], "no one-shot topology service")
        let command = ComposeFile.command(topologyService)
        #expect(command.starts(with: ["bridgectl", "topology", "apply"]) && command.contains("--secrets-dir"),
                "the topology service must run bridgectl topology apply --secrets-dir")
        let secretsDir = command.firstIndex(of: "--secrets-dir").map { command[$0 + 1] }
        #expect(secretsDir == "/run/secrets")
        for user in users {
            #expect(compose.secrets[user] != nil, "RabbitMQ user \(user) has no secret in \(ComposeFile.path)")
            #expect(ComposeFile.secretNames(topologyService).contains(user), "the topology service is not given \(user)'s secret")
        }
        for (name, service) in compose.bridgeServices {
            guard let user = ComposeFile.environment(service)["BRIDGE_AMQP_USER"] else { continue }
            #expect(users.contains(user), "service \(name) logs in as \(user), which Topology/definitions.json does not define")
            #expect(ComposeFile.secretNames(service).contains(user), "service \(name) is not given its password secret \(user)")
        }
        for worker in try Repository.workerExecutables() where ComposeTests.notDeployed[worker] == nil {
            #expect(ComposeFile.environment(compose.services[worker] ?? [:])["BRIDGE_AMQP_USER"] == worker,
                    "worker \(worker) must log in as its own RabbitMQ user")
        }
        let rabbit = try #require(compose.services["rabbitmq"])
        #expect(ComposeFile.secretNames(rabbit).contains("rabbitmq-admin"))
        #expect(ComposeFile.secretNames(topologyService).contains("rabbitmq-admin"))
    }

    /// `--scale` works only for services without a fixed name, host port or shared writable state.
    @Test func scalableWorkersShareNothing() async throws {
        let compose = try await ComposeFile.resolved()
        for name in ["transformer", "sage-loader"] {
            let service = try #require(compose.services[name])
            #expect(service["container_name"] == nil, "\(name) has a container_name: it cannot be scaled")
            #expect(service["ports"] == nil, "\(name) publishes a host port: a second replica could not bind it")
            #expect(ComposeFile.writableNamedVolumes(service).isEmpty,
                    "\(name) writes to a named volume \(ComposeFile.writableNamedVolumes(service)) that replicas would share")
        }
        let loader = try #require(compose.services["sage-loader"])
        let ledger = try #require(ComposeFile.environment(loader)["BRIDGE_LEDGER"], "sage-loader has no BRIDGE_LEDGER")
        let tmpfs = (loader["tmpfs"] as? [String] ?? (loader["tmpfs"] as? String).map { [$0] } ?? []).map { String($0.split(separator: ":")[0]) }
        #expect(tmpfs.contains { ledger.hasPrefix($0 + "/") }, "sage-loader's ledger \(ledger) must be on a per-container tmpfs, not shared")
        for name in compose.services.keys where name != "rabbitmq" {
            #expect(compose.services[name]?["container_name"] == nil, "\(name) has a fixed container_name")
        }
    }

    /// A worker's SQLite state (inbox, ledger, watermarks, stores) is on a volume or a tmpfs: written
    /// into the container's own layer it would vanish silently with `docker compose up` re-creating it.
    @Test func stateFilesAreOnVolumesOrTmpfs() async throws {
        let compose = try await ComposeFile.resolved()
        let stateVariables = ["BRIDGE_INBOX", "BRIDGE_LEDGER", "BRIDGE_SYNC_STATE", "BRIDGE_OPERATIONS_DB", "BRIDGE_TRACE_DB",
                              "BRIDGE_REVIEW_DB", "BRIDGE_BATCH_HISTORY", "BRIDGE_FEATURE_STORE", "BRIDGE_MAPPING_VERSIONS"]
        for (name, service) in compose.bridgeServices {
            let environment = ComposeFile.environment(service)
            let mounts = ComposeFile.writableMountTargets(service)
            let tmpfs = (service["tmpfs"] as? [String] ?? (service["tmpfs"] as? String).map { [$0] } ?? []).map { String($0.split(separator: ":")[0]) }
            for variable in stateVariables {
                guard let path = environment[variable], !path.isEmpty else { continue }
                #expect((mounts + tmpfs).contains { path.hasPrefix($0 + "/") },
                        "service \(name): \(variable)=\(path) is in the container's own layer, not on a volume or tmpfs")
            }
        }
    }

    /// Large deliveries sent beside the one in hand wait in the worker's spill folder (BRIDGE_SPILL_DIR): on a volume of
    /// the container's own, on disk. On a tmpfs the files would be memory, counted against the very limit they are there
    /// to keep within; on the read-only root filesystem they could not be made (and would wait in memory after all).
    @Test func spillFoldersAreAnonymousVolumesTheImageGivesToItsUser() async throws {
        let compose = try await ComposeFile.resolved()
        let dockerfile = try DockerfileTests.instructions().joined(separator: "\n")
        let owned = Set(try Repository.matches(of: #"chown bridge:bridge ((?:/\S+ ?)+)"#, in: dockerfile)
            .flatMap { $0.split(separator: " ").map(String.init) })
        let spilling = compose.bridgeServices.filter { ComposeFile.environment($0.value)["BRIDGE_SPILL_DIR"] != nil }
        #expect(Set(spilling.keys).isSuperset(of: ["transformer", "fraud-scorer", "sage-loader"]),
                "the workers whose input can be 4 MiB or more have no spill folder: \(spilling.keys.sorted())")
        for (name, service) in spilling {
            let folder = try #require(ComposeFile.environment(service)["BRIDGE_SPILL_DIR"])
            let anonymous = (service["volumes"] as? [Any] ?? []).contains { entry in
                if let text = entry as? String { return text == folder }
                guard let volume = entry as? [String: Any] else { return false }
                return volume.string("type") == "volume" && volume.string("target") == folder && (volume.string("source") ?? "").isEmpty
            }
            #expect(anonymous, "service \(name): BRIDGE_SPILL_DIR=\(folder) is not an anonymous volume")
            let tmpfs = (service["tmpfs"] as? [String] ?? (service["tmpfs"] as? String).map { [$0] } ?? []).map { String($0.split(separator: ":")[0]) }
            #expect(!tmpfs.contains { folder == $0 || folder.hasPrefix($0 + "/") }, "service \(name): the spill folder is on a tmpfs")
            #expect(owned.contains(folder), "the image does not give \(folder) to user bridge")
        }
    }

    /// Every container of the bridge image runs hardened: read-only root filesystem with a tmpfs on /tmp, no
    /// capability, no privilege gained through set-uid files, memory and CPU limits. What it writes goes to a
    /// volume mounted on a folder the image gives to its user (a new named volume takes that folder's owner), or
    /// to a tmpfs. scripts/compose-test runs the containers this way; this checks that nobody drops a line.
    @Test func bridgeContainersAreHardened() async throws {
        let compose = try await ComposeFile.resolved()
        let dockerfile = try DockerfileTests.instructions().joined(separator: "\n")
        let owned = Set(try Repository.matches(of: #"chown bridge:bridge ((?:/\S+ ?)+)"#, in: dockerfile)
            .flatMap { $0.split(separator: " ").map(String.init) })
        #expect(owned.contains("/app/var") && owned.contains("/app/fraud"), "the image must own /app/var and /app/fraud, owns \(owned)")
        for (name, service) in compose.bridgeServices {
            #expect(service["read_only"] as? Bool == true, "service \(name): root filesystem not read-only")
            #expect((service["cap_drop"] as? [String] ?? []).contains("ALL"), "service \(name): capabilities not dropped (cap_drop: [ALL])")
            #expect((service["security_opt"] as? [String] ?? []).contains("no-new-privileges:true"), "service \(name): no no-new-privileges")
            let tmpfs = (service["tmpfs"] as? [String] ?? (service["tmpfs"] as? String).map { [$0] } ?? []).map { String($0.split(separator: ":")[0]) }
            #expect(tmpfs.contains("/tmp"), "service \(name): no tmpfs on /tmp (the root filesystem is read-only)")
            #expect(service["mem_limit"] != nil && service["cpus"] != nil, "service \(name): no memory or CPU limit")
            for target in ComposeFile.writableMountTargets(service) {
                #expect(owned.contains(target), "service \(name) writes to a volume on \(target), which the image does not give to user bridge")
            }
        }
    }

    /// Every executable that reads the two-way sync policy (`--sync-config`) is told where the mounted
    /// Config/sync.yaml is, and has Config/ mounted.
    @Test func syncPolicyIsMountedWhereverItIsRead() async throws {
        let compose = try await ComposeFile.resolved()
        #expect(Repository.exists("Config/sync.yaml"))
        for (name, service) in compose.bridgeServices {
            guard let executable = ComposeFile.command(service).first, executable != "bridgectl" else { continue }
            let source = Repository.url("Sources/\(executable)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: source.path)) ?? []
            let readsPolicy = files.contains { file in
                (try? String(contentsOf: source.appendingPathComponent(file), encoding: .utf8))?.contains("sync-config") == true
            }
            guard readsPolicy else { continue }
            let path = ComposeFile.environment(service)["BRIDGE_SYNC_CONFIG"]
            #expect(path == "/app/Config/sync.yaml", "service \(name) runs \(executable), which reads the sync policy, but BRIDGE_SYNC_CONFIG is \(path ?? "unset")")
            let mounts = (service["volumes"] as? [Any] ?? []).map { "\($0)" }.joined(separator: " ")
            #expect(mounts.contains("/app/Config"), "service \(name) does not mount Config/ at /app/Config")
        }
    }

    /// Documents held for review must survive the fraud-scorer and be where the deciders are: the review
    /// store is on a named volume the alerter (console) mounts too, at the same path.
    @Test func heldDocumentsAreDurableAndSharedWithTheDeciders() async throws {
        let compose = try await ComposeFile.resolved()
        let scorer = try #require(compose.services["fraud-scorer"]), alerter = try #require(compose.services["alerter"])
        let path = try #require(ComposeFile.environment(scorer)["BRIDGE_REVIEW_DB"], "fraud-scorer has no BRIDGE_REVIEW_DB")
        #expect(ComposeFile.environment(alerter)["BRIDGE_REVIEW_DB"] == path, "the alerter reads another review store")
        #expect(ComposeFile.environment(alerter)["BRIDGE_FEATURE_STORE"] == ComposeFile.environment(scorer)["BRIDGE_FEATURE_STORE"],
                "the console's exception pages read another feature store than the fraud-scorer writes")
        #expect(ComposeFile.environment(scorer)["BRIDGE_BATCH_HISTORY"] != nil, "the batch history would be lost with the container")
        let scorerVolumes = ComposeFile.writableNamedVolumes(scorer), alerterVolumes = ComposeFile.writableNamedVolumes(alerter)
        #expect(!Set(scorerVolumes).intersection(alerterVolumes).isEmpty, "fraud-scorer \(scorerVolumes) and alerter \(alerterVolumes) share no volume")
    }

    @Test func rabbitmqImportsTheTopologyAtBoot() async throws {
        let compose = try await ComposeFile.resolved()
        let rabbit = try #require(compose.services["rabbitmq"])
        let mounts = (rabbit["volumes"] as? [Any] ?? []).compactMap { entry -> (String, String)? in
            if let text = entry as? String { let parts = text.split(separator: ":").map(String.init); return (parts[0], parts[1]) }
            guard let volume = entry as? [String: Any], let source = volume.string("source"), let target = volume.string("target") else { return nil }
            return (source, target)
        }
        #expect(mounts.contains { $0.0 == Repository.url("Topology/definitions.json").path && $0.1 == "/etc/bridge/definitions.json" },
                "Topology/definitions.json must be mounted at /etc/bridge/definitions.json: \(mounts)")
        #expect(mounts.contains { $0.1 == "/var/lib/rabbitmq" }, "RabbitMQ's data must be on a volume")
        let configuration = try Repository.text("Compose/rabbitmq/rabbitmq.conf")
        #expect(configuration.contains("definitions.local.path = /var/lib/rabbitmq/definitions"))
        #expect(configuration.contains("definitions.skip_if_unchanged = true"))
        let entrypoint = try Repository.text("Compose/rabbitmq/entrypoint.sh")
        #expect(entrypoint.contains("/var/lib/rabbitmq/definitions") && entrypoint.contains("/etc/bridge/definitions.json"))
    }
}
