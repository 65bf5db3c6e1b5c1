import AMQP
import Accounting
import Foundation
import Messaging
import PipelineContracts
import TestPrograms
import XCTest

/// `bridgectl refunds allocate`: the reclassification journal of a gateway-only refund, sent where
/// journals enter the pipeline, and bad input refused with status 2 before anything is sent.
final class RefundAllocationCommandTests: XCTestCase {
    let mapping = repositoryRoot.appendingPathComponent("Config/mapping.yaml").path

    func allocate(_ arguments: [String]) async throws -> (status: Int32, log: String) {
        let process = try WorkerProcess.start(executable: "bridgectl", arguments: ["refunds", "allocate"] + arguments + ["--mapping", mapping])
        let status = try await process.waitForExit()
        return (status, process.log)
    }

    func testBadInputExitsWithStatusTwoAndSendsNothing() async throws {
        let valid = ["TRN_GW1", "--store", "S01", "--date", "2026-11-27"]
        // No broker URL at all: the refusal comes before any connection.
        let environment = ["BRIDGE_AMQP_URL": "amqp://nobody:nothing@127.0.0.1:1/"]
        for (arguments, message) in [
            (["--amount", "12.34", "--tax", "12.35"], "tax 12.35 USD is more than the refund's amount 12.34 USD"),
            (["--amount", "0", "--tax", "0"], "amount 0 is not more than zero"),
            (["--amount", "-5.00", "--tax", "0"], "amount -5.00 is not more than zero"),
            (["--amount", "12.345", "--tax", "0"], "it has fractions of a cent"),
            (["--amount", "12.34", "--tax", "-1"], "tax -1 is negative"),
            (["--amount", "12.34", "--tax", "0.84", "--returns-account", "4999"], "account 4999 is not in the chart of accounts"),
            (["--amount", "12.34", "--tax", "0.84", "--posting-date", "2026-13-01"], "posting date \"2026-13-01\" cannot be used"),
        ] {
            let process = try WorkerProcess.start(executable: "bridgectl", arguments: ["refunds", "allocate"] + valid + arguments
                                                  + ["--mapping", mapping], environment: environment)
            let status = try await process.waitForExit()
            XCTAssertEqual(status, 2, "\(arguments): \(process.log)")
            XCTAssertTrue(process.log.contains(message), "\(arguments): \(process.log)")
            XCTAssertTrue(process.log.contains("nothing was sent"), process.log)
        }
    }

    func testDryRunPrintsTheJournal() async throws {
        let (status, log) = try await allocate(["TRN_GW1", "--store", "S01", "--date", "2026-11-27", "--amount", "12.34", "--tax", "0.84",
                                                "--dry-run", "--json"])
        XCTAssertEqual(status, 0, log)
        let document = try JSONDecoder().decode(JournalDocument.self, from: Data(log.utf8))
        XCTAssertEqual(document.journal.reference, "HL-S01-20261127-ATRN_GW1")
        XCTAssertEqual(document.journal.netByAccount, ["4200": 1150, "2200": 84, "2900": -1234])
    }

    /// Sent to the exchange the fraud-scorer consumes, as the transformer sends journals, with an audit record naming who.
    func testAllocationEntersThePipelineLikeAnyJournal() async throws {
        let p = try await TestPipeline.make(stages: [])
        var topology = p.topology
        topology.bindings.append(.init(source: p.exchange, vhost: "/", destination: "\(p.prefix).out", destinationType: "queue",
                                       routingKey: "sage.journal.#", arguments: [:]))
        try await p.broker.management().importDefinitions(topology)
        let (status, log) = try await allocate([
            "TRN_GW1", "--store", "S01", "--date", "2026-11-27", "--amount", "12.34", "--tax", "0.84", "--actor", "ops-anna",
            "--amqp-url", p.broker.amqpURL, "--exchange", p.exchange, "--audit-exchange", p.audit,
        ])
        XCTAssertEqual(status, 0, log)
        XCTAssertTrue(log.contains("sent HL-S01-20261127-ATRN_GW1 (heartland:allocation:TRN_GW1)"), log)
        try await eventually("the journal is sent") { try await p.depth("\(p.prefix).out") == 1 }
        let sent = try await p.take("\(p.prefix).out")[0]
        XCTAssertEqual(sent.routingKey, "sage.journal.refund")
        XCTAssertEqual(header(sent, Header.idempotencyKey)?.stringValue, "heartland:allocation:TRN_GW1")
        XCTAssertEqual(header(sent, Header.schema)?.stringValue, JournalDocument.schema)
        let document = try JSONDecoder().decode(JournalDocument.self, from: Data(sent.body))
        XCTAssertEqual(document.journal.netByAccount, ["4200": 1150, "2200": 84, "2900": -1234])
        XCTAssertEqual(document.journal.sagePostingDate, "11/27/2026")
        XCTAssertNil(document.refund, "no refund facts: the fraud-scorer passes it on to the loaders")
        try await eventually("the allocation is audited") { try await p.depth("\(p.audit).all") == 1 }
        let audit = try JSONDecoder().decode(AuditNotice.self, from: Data(try await p.take("\(p.audit).all")[0].body))
        XCTAssertEqual(audit.event, "refund_allocated")
        XCTAssertEqual(audit.actor, "ops-anna")
    }
}
