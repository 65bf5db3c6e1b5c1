import AMQP
import Foundation
import Messaging
import Testing
@testable import Alerter

extension AlerterHandlerTests {
    /// Issue 23: twelve documents of one store held for one mapping gap (`StageError.held`) are one alert, announced once:
    /// the stage's alerts share the hold's message id, and so do the alerter's copies of the parked messages.
    @Test func documentsHeldForOneCauseAreOneAlert() async throws {
        let store = try store()
        let reason = "store S07 has no GL account where the mapping needs one: sales.revenue gives 4000-S07, which is not in the chart"
        let key = "mapping-gap:S07:sales.revenue=4000-S07"
        let posts = try await withWebhook { url in
            let handler = AlerterHandler(store: store, webhook: url)
            for n in 0..<12 {
                let alert = AlertNotice(kind: .deadLettered, severity: "error", stage: "transformer", reason: reason, errorClass: "permanent",
                                        messageId: "doc-\(n)")
                _ = try await handler.handle(try message("alert.dead_lettered.transformer", alert, id: StageError.holdAlertID(key)), logger: logger)
                let parked: FieldTable = [Header.lastError: .string(reason), Header.failedStage: .string("transformer"),
                                          Header.errorClass: .string("permanent"), Header.holdKey: .string(key)]
                _ = try await handler.handle(try message("transformer", ["batch": "\(n)"], id: "doc-\(n)", exchange: "bridge.dead", headers: parked),
                                             logger: logger)
            }
            // Another store's gap is an alert of its own.
            let other = AlertNotice(kind: .deadLettered, severity: "error", stage: "transformer", reason: reason.replacingOccurrences(of: "S07", with: "S08"))
            _ = try await handler.handle(try message("alert.dead_lettered.transformer", other, id: StageError.holdAlertID("mapping-gap:S08:x")),
                                         logger: logger)
        }
        #expect(posts.count == 2, "one announcement per store: \(posts)")
        let groups = try await store.alertGroups()
        #expect(groups.count == 2)
        #expect(groups.allSatisfy { $0.count == 1 })
    }
}
