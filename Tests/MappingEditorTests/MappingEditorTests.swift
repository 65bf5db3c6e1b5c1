import AMQP
import Accounting
import Foundation
import Logging
import MappingEditor
import MappingTestSupport
import Messaging
import PipelineContracts
import Testing
@testable import Transformer

/// The mapping page's library against sage-pro-sim and a kept store day: versions, the checks, the preview, and the
/// transformer picking a saved mapping up without a restart.
@Suite struct MappingEditorTests {
    static let visa = "tenders.card_brands.visa.account"

    @Test func aSaveWritesTheFileAndRecordsWhoWhenWhyAndTheTextAndARestoreIsANewVersion() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        let original = try String(contentsOfFile: fixture.mappingPath, encoding: .utf8)
        let workbench = fixture.workbench
        let candidate = try workbench.candidate([Self.visa: "1213"], chart: try await workbench.chart())
        let (saved, check) = try await workbench.save(candidate, actor: "mia", why: "Visa settles with the Discover acquirer now")
        #expect(check.passed)
        #expect(try String(contentsOfFile: fixture.mappingPath, encoding: .utf8) == candidate.text)
        let versions = try await fixture.versions.versions()
        // The file as found is recorded first, so that it can be restored.
        #expect(versions.map(\.actor) == ["mia", MappingVersions.foundOnDisk])
        #expect(versions[1].text == original)
        #expect(versions[0].id == saved.id && versions[0].why == "Visa settles with the Discover acquirer now" && versions[0].text == candidate.text)

        let (restored, _) = try await workbench.restore(versions[1].id, actor: "mia", why: "back to the Visa clearing account")
        #expect(restored.restoredFrom == versions[1].id)
        #expect(try String(contentsOfFile: fixture.mappingPath, encoding: .utf8) == original)
        #expect(try await fixture.versions.versions().count == 3)

        // Saving what is on disk already, without a why, or a text that does not validate changes nothing.
        await #expect(throws: MappingVersions.Failure.unchanged) {
            try await fixture.versions.save(original, to: fixture.mappingPath, actor: "mia", why: "again")
        }
        await #expect(throws: MappingVersions.Failure.missingWhy) {
            try await fixture.versions.save(candidate.text, to: fixture.mappingPath, actor: "mia", why: " ")
        }
        await #expect(throws: MappingError.self) {
            try await fixture.versions.save("version: 2\n", to: fixture.mappingPath, actor: "mia", why: "broken")
        }
        #expect(try String(contentsOfFile: fixture.mappingPath, encoding: .utf8) == original)
        #expect(try await fixture.versions.versions().count == 3)
    }

    @Test func aHandEditIsRecordedAsFoundBeforeTheNextSave() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        let workbench = fixture.workbench
        _ = try await workbench.save(try workbench.candidate([Self.visa: "1213"], chart: try await workbench.chart()), actor: "mia", why: "first")
        let byHand = try String(contentsOfFile: fixture.mappingPath, encoding: .utf8).replacingOccurrences(of: "tips: \"2210\"", with: "tips: \"2300\"")
        try byHand.write(toFile: fixture.mappingPath, atomically: true, encoding: .utf8)
        _ = try await workbench.save(try workbench.candidate(["sales.revenue": "4100"], chart: try await workbench.chart()), actor: "mia", why: "second")
        let versions = try await fixture.versions.versions()
        #expect(versions.map(\.actor) == ["mia", MappingVersions.foundOnDisk, "mia", MappingVersions.foundOnDisk])
        #expect(versions[1].text == byHand)
        #expect(try MappingDocument(yaml: versions[0].text, source: "v").rules.tips.account == "2300")
    }

    @Test func theCheckRefusesAccountsSageLacksOrHasMadeInactiveNamingTheRule() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        try await fixture.addAccount("1215", "Old Visa clearing", active: false)
        let workbench = fixture.workbench
        #expect(try await workbench.check(try workbench.inForce()).passed)
        #expect(try await workbench.check(try workbench.inForce()).batches == 1)

        let inactive = try workbench.candidate([Self.visa: "1215"], chart: try await workbench.chart())
        let check = try await workbench.check(inactive)
        #expect(!check.passed)
        #expect(check.errors.map(\.rule) == [Self.visa])
        #expect(check.errors.first?.message.contains("account 1215 (Old Visa clearing) is inactive in Sage") == true)
        await #expect(throws: MappingWorkbench.Failure.self) { try await workbench.save(inactive, actor: "mia", why: "try") }
        #expect(try await fixture.versions.versions().isEmpty)

        // A file naming an account Sage does not have at all (edited by hand).
        let missing = try workbench.inForce().setting(["sales.tips": "2999"], names: ["2999": "Tips (not in Sage)"])
        let refused = try await workbench.check(missing)
        #expect(refused.errors.map(\.rule) == ["sales.tips"])
        #expect(refused.errors.first?.message.contains("account 2999 does not exist in Sage's chart") == true)
    }

    @Test func valuesHeartlandSentInTheWindowThatNoRuleCoversAreListed() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        try await fixture.keep(MappingFixture.storeDay(batch: "BAT_JCB", date: "2026-11-27", brand: "JCB"))
        try await fixture.keepPayRun("PR_LST", stateTaxCode: "LST")
        try await fixture.keepPayRun("PR_OK")
        let check = try await fixture.workbench.check(try fixture.workbench.inForce())
        #expect(check.batches == 2 && check.payRuns == 2)
        let notes = check.problems.filter { $0.severity == .warning }.map(\.message)
        #expect(notes.contains { $0.contains("card brand \"JCB\"") && $0.contains("tenders.card_other_brands (1219)") })
        #expect(notes.contains { $0.contains("pay run PR_LST") && $0.contains("LST") })
        #expect(!notes.contains { $0.contains("PR_OK") })
        // Already failing with the mapping in force: listed, not held against an unrelated change.
        #expect(check.passed)
    }

    @Test func theCheckRefusesAMappingThatBreaksAPayRunTheMappingInForcePosts() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        try await fixture.keepPayRun("PR_1")
        // Without the SIT rule the pay run of the window cannot post.
        let text = try String(contentsOfFile: fixture.mappingPath, encoding: .utf8).replacingOccurrences(of: "    SIT: \"2110\"            # state income tax withheld\n", with: "")
        let candidate = try MappingDocument(yaml: text, source: fixture.mappingPath)
        let check = try await fixture.workbench.check(candidate)
        #expect(!check.passed)
        #expect(check.errors.first?.message.contains("pay run PR_1 would not post") == true)
        #expect(check.errors.first?.message.contains("SIT") == true)
    }

    @Test func thePreviewShowsThePostedDaysJournalWithTheNewMappingBesideWhatSageHolds() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        try await fixture.addAccount("1214", "Card clearing - Visa (new acquirer)")
        let workbench = fixture.workbench
        let candidate = try workbench.candidate([Self.visa: "1214"], chart: try await workbench.chart())
        let previews = try await workbench.preview(candidate, batchID: MappingFixture.postedBatch)
        let preview = try #require(previews.first)
        #expect(previews.count == 1)
        #expect(preview.reference == "HL-S-LA-20261126-BAT_LA_1126")
        #expect(preview.sageBatch != nil)
        let changed = preview.rows.filter { $0.status != .same }
        #expect(changed.count == 1)
        #expect(changed.first?.status == .accountChanged)
        #expect(changed.first?.proposed?.account == "1214" && changed.first?.sage?.account == "1210")
        #expect(changed.first?.proposed?.cents == 1280 && changed.first?.sage?.cents == 1280)
        #expect(changed.first?.proposed?.accountName == "Card clearing - Visa (new acquirer)")
        // Every other line the same on both sides, and both sides balance.
        #expect(preview.rows.count == 5)
        #expect(preview.rows.compactMap(\.proposed).reduce(0) { $0 + $1.cents } == 0)
        #expect(preview.rows.compactMap(\.sage).reduce(0) { $0 + $1.cents } == 0)
        // The mapping in force previews without a difference.
        #expect(try await workbench.preview(try workbench.inForce(), batchID: MappingFixture.postedBatch).first?.differences == 0)
        await #expect(throws: MappingWorkbench.Failure.self) { try await workbench.preview(candidate, batchID: "BAT_NONE") }
    }

    @Test func theTransformerPicksUpASavedMappingWithoutARestartAndKeepsItWhenTheFileBreaks() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let source = try MappingFileSource(path: fixture.mappingPath, logger: logger)
        let handler = TransformerHandler(mapping: source)
        func visaAccount(_ batch: String) async throws -> (String?, [OutboundMessage]) {
            let event = MappingFixture.storeDay(batch: batch, date: "2026-11-28")
            let message = InboundMessage(Delivery(routingKey: BatchClosedEvent.routingKey, properties: MessageProperties(
                messageID: "m-\(batch)", correlationID: "c", type: BatchClosedEvent.routingKey,
                headers: [Header.idempotencyKey: .string(event.idempotencyKey)]), body: Array(try JSONEncoder().encode(event))))
            guard case .publish(let outputs) = try await handler.handle(message, logger: logger) else { return (nil, []) }
            let journal = try outputs.first { $0.exchange == "bridge.scoring" }.map { try JSONDecoder().decode(JournalDocument.self, from: Data($0.body)) }
            return (journal?.journal.lines.first { $0.rule == Self.visa }?.account.rawValue, outputs.filter { $0.exchange == "bridge.alerts" })
        }
        #expect(try await visaAccount("BAT_A").0 == "1210")
        let workbench = fixture.workbench
        _ = try await workbench.save(try workbench.candidate([Self.visa: "1213"], chart: try await workbench.chart()), actor: "mia", why: "move Visa")
        #expect(try await visaAccount("BAT_B").0 == "1213")

        // A broken file: the previous mapping stays in force and one alert says why.
        try "version: 1\ncompany: {currency: USD}\n".write(toFile: fixture.mappingPath, atomically: true, encoding: .utf8)
        let (account, alerts) = try await visaAccount("BAT_C")
        #expect(account == "1213")
        #expect(alerts.count == 1)
        #expect(alerts.first?.routingKey == "alert.mapping_rejected.transformer")
        #expect(source.lastError != nil)
        #expect(try await visaAccount("BAT_D").1.isEmpty)  // one alert per rejected change, not per message
    }
}
