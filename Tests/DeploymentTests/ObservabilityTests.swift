import Foundation
import Testing

/// Prometheus configuration, alert rules and the Grafana dashboard: they parse, they scrape every
/// worker, and every metric they query is one something exports.
@Suite struct ObservabilityTests {
    /// Metrics the rules or dashboards use before the code exports them, with what is missing.
    /// Remove an entry once the metric exists (the test fails if it already does).
    static let awaitingExport: [String: String] = [:]

    static func prometheus() async throws -> [String: Any] {
        try #require(try await YAML.load(Repository.url("Compose/prometheus/prometheus.yml")) as? [String: Any])
    }

    static func alertRules() async throws -> [[String: Any]] {
        let file = try #require(try await YAML.load(Repository.url("Compose/prometheus/alerts.yml")) as? [String: Any])
        return file.array("groups").compactMap { $0 as? [String: Any] }.flatMap { $0.array("rules").compactMap { $0 as? [String: Any] } }
    }

    static func dashboard() throws -> [String: Any] {
        let data = try Data(contentsOf: Repository.url("Compose/grafana/dashboards/bridge.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func dashboardExpressions(_ dashboard: [String: Any]) -> [String] {
        dashboard.array("panels").compactMap { $0 as? [String: Any] }
            .flatMap { $0.array("targets").compactMap { ($0 as? [String: Any])?.string("expr") } }
    }

    @Test func prometheusScrapesEveryWorkerByDNSSoReplicasAreFound() async throws {
        let configuration = try await Self.prometheus()
        #expect(configuration.array("rule_files").contains { $0 as? String == "/etc/prometheus/alerts.yml" })
        let jobs = configuration.array("scrape_configs").compactMap { $0 as? [String: Any] }
        let compose = try await ComposeFile.resolved()
        for worker in try Repository.workerExecutables() where ComposeTests.notDeployed[worker] == nil {
            let job = try #require(jobs.first { $0.string("job_name") == worker }, "Prometheus has no job for \(worker)")
            let discovery = try #require(job.array("dns_sd_configs").first as? [String: Any],
                                         "job \(worker) must discover replicas by DNS (dns_sd_configs), not a static target")
            #expect((discovery["names"] as? [String]) == [worker])
            let port = ComposeFile.environment(compose.services[worker] ?? [:])["BRIDGE_HTTP_PORT"]
            #expect(discovery.string("port") == port, "job \(worker) scrapes port \(discovery.string("port") ?? "-"), the worker serves \(port ?? "-")")
        }
        let queues = try #require(jobs.first { $0.string("metrics_path") == "/metrics/detailed" }, "no job for RabbitMQ's per-queue metrics")
        let families = queues.object("params")["family"] as? [String] ?? []
        #expect(Set(families).isSuperset(of: ["queue_coarse_metrics", "queue_consumer_count"]))
        let rabbitConfiguration = try Repository.text("Compose/rabbitmq/rabbitmq.conf")
        #expect(try Repository.text("Compose/rabbitmq/enabled_plugins").contains("rabbitmq_prometheus"))
        #expect(rabbitConfiguration.contains("prometheus.tcp.port = 15692"))
        if Shell.available("promtool") {
            let result = try await Shell.run("promtool", ["check", "rules", Repository.url("Compose/prometheus/alerts.yml").path])
            #expect(result.succeeded, "promtool check rules: \(result.output) \(result.error)")
        }
    }

    @Test func alertRulesCoverTheRunbook() async throws {
        let rules = try await Self.alertRules()
        let names = Set(rules.compactMap { $0.string("alert") })
        for required in ["BridgeDeadLetterQueueNotEmpty", "BridgeStageLagging", "BridgeReconciliationMismatch", "BridgeWorkerDown"] {
            #expect(names.contains(required), "alert rule \(required) is missing")
        }
        for rule in rules {
            #expect(rule.string("expr")?.isEmpty == false, "rule \(rule.string("alert") ?? "?") has no expression")
            #expect(rule.object("annotations").string("summary") != nil, "rule \(rule.string("alert") ?? "?") has no summary")
            #expect(rule.object("labels").string("severity") != nil, "rule \(rule.string("alert") ?? "?") has no severity")
        }
    }

    @Test func dashboardIsProvisionedAndShowsTheFlow() async throws {
        let dashboard = try Self.dashboard()
        #expect(dashboard.string("uid") != nil && dashboard.string("title") != nil)
        let datasources = try #require(try await YAML.load(Repository.url("Compose/grafana/provisioning/datasources/prometheus.yml")) as? [String: Any])
        let uid = try #require((datasources.array("datasources").first as? [String: Any])?.string("uid"))
        for panel in dashboard.array("panels").compactMap({ $0 as? [String: Any] }) {
            #expect(panel.object("datasource").string("uid") == uid, "panel \(panel.string("title") ?? "?") does not use the provisioned datasource")
            #expect(!panel.array("targets").isEmpty, "panel \(panel.string("title") ?? "?") has no query")
        }
        let providers = try #require(try await YAML.load(Repository.url("Compose/grafana/provisioning/dashboards/bridge.yml")) as? [String: Any])
        let path = (providers.array("providers").first as? [String: Any])?.object("options").string("path")
        let compose = try await ComposeFile.resolved()
        let grafanaMounts = (compose.services["grafana"]?["volumes"] as? [Any] ?? []).map { "\($0)" }.joined(separator: " ")
        #expect(path != nil && grafanaMounts.contains(path!), "the dashboards folder \(path ?? "-") is not mounted into Grafana")
        let expressions = Self.dashboardExpressions(dashboard).joined(separator: "\n")
        for (what, metric) in [("throughput", "bridge_messages_handled_total"), ("queue depth", "rabbitmq_detailed_queue_messages_ready"),
                               ("retries", "bridge_retries_total"), ("dead letters", "bridge_dead_lettered_total"),
                               ("latency", "bridge_handler_duration_seconds_bucket")] {
            #expect(expressions.contains(metric), "the dashboard shows no \(what) (\(metric))")
        }
    }

    /// Every bridge_* metric queried is registered somewhere in Sources/ (a Timer is a histogram:
    /// _bucket, _sum, _count), so a renamed metric cannot leave an empty panel or a silent alert.
    @Test func everyQueriedMetricIsExported() async throws {
        let expressions = try await Self.alertRules().compactMap { $0.string("expr") } + Self.dashboardExpressions(try Self.dashboard())
        let used = Set(try expressions.flatMap { try Repository.matches(of: #"\b(bridge_[a-z_]+)\b"#, in: $0) })
        #expect(!used.isEmpty)
        let exported = Set(try Repository.matches(of: #"(?:Counter|Timer|Gauge|Recorder|Meter|FloatingPointCounter)\(label: "(bridge_[a-z_]+)""#,
                                                  in: Repository.sources))
        for metric in used.sorted() {
            let base = metric.replacingOccurrences(of: #"_(bucket|sum|count)$"#, with: "", options: .regularExpression)
            if let reason = Self.awaitingExport[metric] {
                #expect(!exported.contains(metric), "\(metric) is exported now: remove it from awaitingExport (\(reason))")
                continue
            }
            #expect(exported.contains(metric) || exported.contains(base), "\(metric) is queried but no code exports it")
        }
    }
}
