import Foundation

/// Compose/docker-compose.yml as `docker-compose config` resolves it (anchors merged, variables
/// substituted with their defaults), read as JSON.
struct ComposeFile {
    static let path = "Compose/docker-compose.yml"

    var services: [String: [String: Any]]
    var secrets: [String: [String: Any]]

    /// `docker-compose config` (Debian's docker-compose 1.29; no Docker engine is needed).
    static func config(profiles: [String], quiet: Bool) async throws -> CommandResult {
        var arguments = ["-f", Repository.url(path).path]
        for profile in profiles { arguments += ["--profile", profile] }
        arguments += ["config"] + (quiet ? ["-q"] : [])
        // Defaults only: a deployment's own settings in the environment must not change what is checked.
        return try await Shell.run("docker-compose", arguments, environment: ["BRIDGE_SECRETS_DIR": "./secrets"])
    }

    static func resolved(profiles: [String] = ["demo"]) async throws -> ComposeFile {
        let result = try await config(profiles: profiles, quiet: false)
        guard result.succeeded else { throw YAML.Unreadable(description: "docker-compose config failed: \(result.error)") }
        let root = try await YAML.load(text: result.output) as? [String: Any] ?? [:]
        return ComposeFile(services: root.object("services").compactMapValues { $0 as? [String: Any] },
                           secrets: root.object("secrets").compactMapValues { $0 as? [String: Any] })
    }

    /// Services built from this repository's Dockerfile (the others use upstream images).
    var bridgeServices: [String: [String: Any]] { services.filter { $0.value["build"] != nil } }

    static func command(_ service: [String: Any]) -> [String] {
        if let list = service["command"] as? [String] { return list }
        if let text = service["command"] as? String { return text.split(separator: " ").map(String.init) }
        return []
    }

    static func environment(_ service: [String: Any]) -> [String: String] {
        if let map = service["environment"] as? [String: Any] {
            return map.mapValues { value in
                switch value {
                case let text as String: text
                case let number as NSNumber: number.stringValue
                default: ""
                }
            }
        }
        var result: [String: String] = [:]
        for case let entry as String in service["environment"] as? [Any] ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }

    static func secretNames(_ service: [String: Any]) -> [String] {
        (service["secrets"] as? [Any] ?? []).compactMap { entry in
            (entry as? String) ?? (entry as? [String: Any])?.string("source")
        }
    }

    /// The URL a health check calls (`curl …`/`wget …` http://127.0.0.1:PORT/PATH), as port and path.
    static func healthCheckTarget(_ service: [String: Any]) -> (port: Int, path: String)? {
        let test = (service["healthcheck"] as? [String: Any])?["test"]
        let words = (test as? [String]) ?? (test as? String).map { [$0] } ?? []
        for word in words {
            guard let match = try? Repository.matches(of: #"^https?://(?:127\.0\.0\.1|localhost):(\d+)(/\S*)$"#, in: word, group: 0).first,
                  let url = URLComponents(string: match), let port = url.port else { continue }
            return (port, url.path)
        }
        return nil
    }

    /// Every volume and bind mount of a service: source (a named volume, or a host path), container path, read-only.
    static func mounts(_ service: [String: Any]) -> [(source: String, target: String, readOnly: Bool)] {
        (service["volumes"] as? [Any] ?? []).compactMap { entry in
            if let text = entry as? String {
                let parts = text.split(separator: ":").map(String.init)
                guard parts.count > 1 else { return nil }
                return (parts[0], parts[1], parts.count > 2 && parts[2].split(separator: ",").contains("ro"))
            }
            guard let volume = entry as? [String: Any], let target = volume.string("target") else { return nil }
            return (volume.string("source") ?? "", target, (volume["read_only"] as? Bool) == true)
        }
    }

    /// Container paths of the named volumes a service writes to.
    static func writableMountTargets(_ service: [String: Any]) -> [String] {
        (service["volumes"] as? [Any] ?? []).compactMap { entry -> String? in
            if let text = entry as? String {
                let parts = text.split(separator: ":").map(String.init)
                let readOnly = parts.count > 2 && parts[2].split(separator: ",").contains("ro")
                return parts.count > 1 && !parts[0].hasPrefix("/") && !parts[0].hasPrefix(".") && !readOnly ? parts[1] : nil
            }
            guard let volume = entry as? [String: Any], volume.string("type") == "volume", (volume["read_only"] as? Bool) != true else { return nil }
            return volume.string("target")
        }
    }

    /// Named volumes a service writes to (a replica-shared state if the service were scaled). An anonymous volume (no
    /// source) is not one: each container gets its own.
    static func writableNamedVolumes(_ service: [String: Any]) -> [String] {
        (service["volumes"] as? [Any] ?? []).compactMap { entry -> String? in
            if let text = entry as? String {
                let parts = text.split(separator: ":").map(String.init)
                let source = parts[0]
                let readOnly = parts.count > 2 && parts[2].split(separator: ",").contains("ro")
                return !source.hasPrefix("/") && !source.hasPrefix(".") && !readOnly ? source : nil
            }
            guard let volume = entry as? [String: Any] else { return nil }
            let readOnly = (volume["read_only"] as? Bool) == true
            guard let source = volume.string("source"), !source.isEmpty else { return nil }
            return volume.string("type") == "volume" && !readOnly ? source : nil
        }
    }
}
