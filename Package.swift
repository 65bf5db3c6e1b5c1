// swift-tools-version:6.1
import PackageDescription

// Targets in layers, each depending only on the layers above it:
// infrastructure → domain → connectors (and the simulators of their services) → stages → executables → tests.
let package = Package(
    name: "heartland-sage-bridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bridge-relay", targets: ["bridge-relay"]),
        .executable(name: "heartland-sim", targets: ["heartland-sim"]),
        .executable(name: "sage-pro-sim", targets: ["sage-pro-sim"]),
        .executable(name: "heartland-ingest", targets: ["heartland-ingest"]),
        .executable(name: "sage-ingest", targets: ["sage-ingest"]),
        .executable(name: "transformer", targets: ["transformer"]),
        .executable(name: "fraud-scorer", targets: ["fraud-scorer"]),
        .executable(name: "fraud-lab", targets: ["fraud-lab"]),
        .executable(name: "sage-loader", targets: ["sage-loader"]),
        .executable(name: "heartland-loader", targets: ["heartland-loader"]),
        .executable(name: "alerter", targets: ["alerter"]),
        .executable(name: "bridgectl", targets: ["bridgectl"]),
        .executable(name: "sync-bench", targets: ["sync-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Bcrypt for the console's password hashes (issue 17); NIOPosix for the thread pool that runs it off the cooperative pool.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // The connectors' HTTP client (issue 21): one connection pool per process, keep-alive, no per-host cap of 6.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // TLS settings of that client (certificates always verified), as AsyncHTTPClient itself uses them.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // HTTPTypes: the request and response types of Hummingbird's handlers, imported by the simulators' and console's servers.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // MARK: infrastructure — clock, hashing, settings, AMQP and HTTP transports, messaging, the worker runtime; no business rules.
        // The instant taken as now: the system clock, or one set for tests and demos (BRIDGE_CLOCK).
        // Also the one RFC 3339 formatter (`Timestamps`) and `Duration`'s seconds and milliseconds.
        .target(name: "BridgeClock"),
        // Values the same on every run and host: FNV-1a and the seeded generator (store days, training data, fixtures).
        .target(name: "StableHash"),
        // Decimal's description written without its long division: the simulators' JSON and Heartland's amounts.
        .target(name: "DecimalText"),
        // Plain HTTP / AMQP allowed or refused (BRIDGE_REQUIRE_TLS): checked where each URL is read.
        .target(name: "TransportSecurity"),
        // The one reader of settings from the environment: trimmed values, `NAME_FILE` secrets, errors that name the variable.
        .target(name: "BridgeSettings", dependencies: ["TransportSecurity"]),
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "AMQP",
            dependencies: ["CRabbitMQ", "TransportSecurity", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Messaging",
            dependencies: [
                "AMQP", "BridgeClock", "StableHash",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Its thread pool reads a delivery held in a file back off the cooperative pool.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "BrokerAdmin",
            dependencies: ["Messaging", "ConnectorHTTP"]
        ),
        // The one HTTP transport of the Heartland and Sage connectors (AsyncHTTPClient): the process's connection pools,
        // TLS as TransportSecurity documents it, transport failures classified; each connector keeps its own errors.
        .target(
            name: "ConnectorHTTP",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "WorkerRuntime",
            dependencies: [
                "BridgeSettings",
                "TransportSecurity",
                "AMQP",
                "Messaging",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: domain — the accounting rules and the messages the stages exchange; no IO.
        .target(name: "Accounting", dependencies: ["BridgeClock", "DecimalText", "StableHash", .product(name: "Yams", package: "Yams")]),
        .target(name: "PipelineContracts", dependencies: ["Accounting"]),
        // Heartland Retail's customer, item, stock and location records as its API sends them, and the lenient decoding of its
        // payloads (Foundation only): read by the Heartland connector, and by the transformer without linking that connector.
        .target(name: "HeartlandWire"),
        // The two-way sync's messages (`SyncMessage`, `SyncCustomer`, `SyncRoute`...), the AR documents' `ReceivableCommand`,
        // the transformer's master-data rules (`MasterDataTransform`) and the names matching reads (`PersonName`): what the
        // sync stage and the transformer share, so that the transformer links neither the sync stage nor the HTTP connectors.
        .target(name: "SyncContracts", dependencies: ["Accounting", "PipelineContracts", "Messaging", "HeartlandWire",
                                                      .product(name: "Logging", package: "swift-log")]),

        // MARK: connectors — the clients of Heartland and Sage, and the simulators that stand in for those two services.
        .target(
            name: "SageConnector",
            dependencies: ["BridgeSettings", "ConnectorHTTP", "StableHash", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics")]
        ),
        .target(
            name: "HeartlandConnector",
            // Messaging: CardMask, the one masking function, applied to every body before it is decoded.
            dependencies: ["HeartlandWire", "Messaging", "BridgeClock", "ConnectorHTTP", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "SimulatorKit",
            dependencies: [
                "BridgeClock", "DecimalText",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "HeartlandSimulator", dependencies: ["SimulatorKit", "BridgeClock", "StableHash",
                                                  .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
                                                  .product(name: "Logging", package: "swift-log"),
                                                  .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .target(name: "SageSimulator", dependencies: ["SimulatorKit", "BridgeClock", .product(name: "GRDB", package: "GRDB.swift"),
                                              .product(name: "Logging", package: "swift-log"),
                                              .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),

        // MARK: stages — the libraries of the pipeline's workers (ingest, sync, transform, score, load, alert, console).
        .target(
            name: "HeartlandIngest",
            dependencies: ["BridgeSettings", "HeartlandConnector", "PipelineContracts", "Accounting", "Messaging", "AMQP", "BridgeClock",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "GRDB", package: "GRDB.swift"),
                           // The C API for writing a kept batch event in place (IngestInbox.keepBatchEvent).
                           .product(name: "GRDBSQLite", package: "GRDB.swift"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .target(
            name: "Sync",
            dependencies: ["BridgeSettings", "SyncContracts", "PipelineContracts", "Accounting", "Messaging", "AMQP", "SageConnector", "HeartlandConnector", "BridgeClock",
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "Transformer", dependencies: ["PipelineContracts", "Accounting", "Messaging", "SyncContracts", "HeartlandWire", "BridgeClock",
                                                .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "FraudScoring",
            dependencies: ["PipelineContracts", "Accounting", "Messaging", "AMQP", "BridgeClock", "StableHash",
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics")]
        ),
        .target(name: "SageLoader", dependencies: ["PipelineContracts", "Accounting", "Messaging", "SageConnector", "BridgeClock",
                                                  .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics")]),
        .target(
            name: "Alerter",
            dependencies: ["Accounting", "ConnectorHTTP", "Messaging", "PipelineContracts", "BridgeClock", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics")]
        ),
        // The mapping page's library (issue 23): versions of the mapping file, checks against Sage's chart and Heartland's last
        // 30 days (heartland-ingest's kept events), the preview of a posted day; shared by the console and bridgectl.
        .target(
            name: "MappingEditor",
            dependencies: ["Accounting", "PipelineContracts", "Transformer", "SageConnector", "HeartlandIngest", "Messaging", "FraudScoring",
                           "BridgeClock", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The operations console, served by the alerter (issue 7).
        .target(
            name: "OperationsConsole",
            dependencies: ["Alerter", "FraudScoring", "Messaging", "BrokerAdmin", "AMQP", "PipelineContracts", "Accounting", "MappingEditor", "SageConnector",
                           "BridgeClock", "BridgeSettings",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"), .product(name: "NIOPosix", package: "swift-nio")]
        ),

        // MARK: executables — thin mains: options → handler/services → `Worker.run` (and the two simulators, the CLI, the offline fraud tools, a benchmark).
        .executableTarget(
            name: "bridge-relay",
            dependencies: ["WorkerRuntime", "Messaging", "AMQP", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "heartland-sim",
            dependencies: [
                "HeartlandSimulator", "SimulatorKit", "BridgeClock",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sage-pro-sim",
            dependencies: [
                "SageSimulator", "SimulatorKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "heartland-ingest",
            dependencies: ["BridgeSettings", "ConnectorHTTP", "HeartlandIngest", "HeartlandConnector", "WorkerRuntime", "Sync", "BridgeClock",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .executableTarget(
            name: "sage-ingest",
            dependencies: ["BridgeSettings", "ConnectorHTTP", "Sync", "SageConnector", "WorkerRuntime",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .executableTarget(
            name: "transformer",
            dependencies: ["BridgeSettings", "Transformer", "Accounting", "PipelineContracts", "WorkerRuntime", "Messaging",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "fraud-scorer",
            dependencies: ["FraudScoring", "WorkerRuntime", "BridgeSettings", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The fraud scoring's offline tools (generate, train, evaluate, backtest, bench, pipeline): apart from the stage so that
        // the production fraud-scorer does not link them. HeartlandSimulator: the labelled days come from the simulator's generator.
        .executableTarget(
            name: "fraud-lab",
            dependencies: ["FraudScoring", "PipelineContracts", "Accounting", "Messaging", "AMQP", "HeartlandSimulator",
                           "BridgeClock", "StableHash", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "sage-loader",
            dependencies: ["BridgeSettings", "ConnectorHTTP", "SageLoader", "SageConnector", "Accounting", "Messaging", "WorkerRuntime", "Sync",
                           .product(name: "Logging", package: "swift-log"), .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "heartland-loader",
            dependencies: ["ConnectorHTTP", "Sync", "HeartlandConnector", "Messaging", "WorkerRuntime", "BridgeSettings",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "alerter",
            dependencies: ["BridgeSettings", "ConnectorHTTP", "Alerter", "OperationsConsole", "MappingEditor", "SageConnector", "Messaging", "WorkerRuntime",
                           .product(name: "Logging", package: "swift-log"), .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "bridgectl",
            dependencies: ["BridgeSettings", "BrokerAdmin", "Messaging", "AMQP", "Alerter", "Accounting", "SageConnector", "FraudScoring", "PipelineContracts", "BridgeClock",
                           "HeartlandConnector", "HeartlandIngest", "OperationsConsole", "MappingEditor",
                           .product(name: "Logging", package: "swift-log"), .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The twin-check cost at N customers, both simulators in-process (scripts/bench-sync).
        .executableTarget(
            name: "sync-bench",
            dependencies: ["Sync", "SyncContracts", "Messaging", "SageConnector", "HeartlandConnector", "SageSimulator", "HeartlandSimulator", "SimulatorKit", "BridgeClock",
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: tests — shared test support first, then one suite per layer above, in the same order.
        // Programs the tests run (any program, the project-local RabbitMQ node), awaited without blocking the cooperative pool,
        // and `eventually`: the one way a test waits for a condition.
        .target(name: "TestPrograms", path: "Tests/TestPrograms"),
        // An oracle of ACCOUNTING.md written apart from the transformer, for tests that check generated days.
        .target(name: "BookOracle", dependencies: ["HeartlandSimulator"], path: "Tests/BookOracle"),
        // Sage in-process, a kept store day posted to it, a mapping file copy: shared by the mapping tests and the console's.
        .target(name: "MappingTestSupport", dependencies: ["MappingEditor", "Accounting", "PipelineContracts", "Transformer", "SageConnector",
                                                           "SageLoader", "SageSimulator", "SimulatorKit", "HeartlandIngest",
                                                           .product(name: "Logging", package: "swift-log")],
                path: "Tests/MappingTestSupport"),
        .testTarget(name: "BridgeSettingsTests", dependencies: ["BridgeSettings"]),
        .testTarget(name: "MessagingTests", dependencies: ["TestPrograms", "Messaging", "AMQP", "BridgeClock", "StableHash", "TransportSecurity",
                                                         .product(name: "Logging", package: "swift-log"),
                                                         .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        // The options every worker shares: defaults from the environment through EnvironmentReader, flags over variables.
        .testTarget(name: "WorkerRuntimeTests", dependencies: ["WorkerRuntime", "BridgeSettings",
                                                            .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                                            .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "BrokerTests", dependencies: ["BridgeClock", "TestPrograms", "Messaging", "BrokerAdmin", "AMQP", "SageConnector", "PipelineContracts", "Alerter",
                                                    "BookOracle", "HeartlandSimulator", "Accounting", "HeartlandIngest", "FraudScoring", "SyncContracts",
                                                    .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ConnectorHTTPTests", dependencies: ["ConnectorHTTP", "HeartlandConnector", "SageConnector",
                                                                .product(name: "Hummingbird", package: "hummingbird"),
                                                                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                                                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                                                .product(name: "Logging", package: "swift-log"), "TestPrograms"]),
        .testTarget(name: "AccountingTests", dependencies: ["Accounting", "StableHash"]),
        .testTarget(name: "SageConnectorTests", dependencies: ["TestPrograms", "SageConnector", "BridgeSettings", "SageSimulator", "SimulatorKit",
                                                                .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "HeartlandConnectorTests", dependencies: ["TestPrograms", "HeartlandConnector", "HeartlandSimulator", "SimulatorKit",
                                                                     // heartland-ingest is tested here, on the same simulator harness
                                                                     "HeartlandIngest", "PipelineContracts", "Accounting", "Messaging", "AMQP", "StableHash",
                                                                     .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                                                                     .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .testTarget(name: "SimulatorTests", dependencies: ["TestPrograms", "SimulatorKit", "HeartlandSimulator", "SageSimulator", "BridgeClock", "StableHash",
                                                            .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SyncTests", dependencies: ["Sync", "SyncContracts", "SageConnector", "HeartlandConnector", "SageSimulator", "HeartlandSimulator",
                                                       "SimulatorKit", "PipelineContracts", "Messaging", "AMQP", "StableHash",
                                                       .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "PipelineContracts", "Accounting", "Messaging", "AMQP", "SyncContracts",
                                                              .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "BooksTests", dependencies: ["BridgeClock", "BookOracle", "HeartlandIngest", "HeartlandConnector", "HeartlandSimulator", "SimulatorKit",
                                                       "Transformer", "Accounting", "PipelineContracts", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FraudScoringTests", dependencies: ["FraudScoring", "PipelineContracts", "Accounting", "Messaging", "AMQP",
                                                               "StableHash", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SageLoaderTests", dependencies: ["SageLoader", "SageConnector", "SageSimulator", "SimulatorKit",
                                                             "PipelineContracts", "Accounting", "Messaging", "AMQP",
                                                             .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "AlerterTests", dependencies: ["TestPrograms", "Alerter", "Accounting", "Messaging", "AMQP",
                                                         .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "MappingEditorTests", dependencies: ["MappingTestSupport", "MappingEditor", "Accounting", "PipelineContracts", "Transformer",
                                                               "FraudScoring", "Messaging", "AMQP", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ConsoleTests", dependencies: ["TestPrograms", "OperationsConsole", "Alerter", "FraudScoring", "Messaging", "BrokerAdmin", "AMQP",
                                                         "PipelineContracts", "Accounting", "MappingEditor", "MappingTestSupport",
                                                         "Transformer", "Sync", "HeartlandIngest", .product(name: "Logging", package: "swift-log"),
                                                         // GRDB: a test makes the audit trail unwritable with a trigger; files as stores made
                                                         // them before their migrators (StoreMigrationTests)
                                                         .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        // Checks of the deployment files (issue 7).
        .testTarget(name: "DeploymentTests", dependencies: ["TestPrograms", "Messaging"]),
    ]
)
