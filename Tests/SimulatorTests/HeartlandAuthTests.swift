import Foundation
import HeartlandSimulator
import SimulatorKit
import Testing

/// GP-API access tokens: issue, reject, expire; Retail bearer tokens.
@Suite struct HeartlandAuthTests {
    @Test func tokenIsIssuedForTheRightSecret() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        let result = try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest())
        #expect(result.status == 200)
        #expect(result.json["seconds_to_expire"] == 86400)
        #expect(result.json["type"] == "Bearer")
        #expect(result.json["scope"]?["accounts"]?.arrayValue?.first?["id"]?.stringValue?.hasPrefix("TRA_") == true)
        let week = try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest(extra: ["interval_to_expire": "WEEK"]))
        #expect(week.json["seconds_to_expire"] == 604800)
    }

    @Test func wrongCredentialsAndBadLifetimesAreRejected() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        let wrongKey = try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest(appKey: "not-the-key"))
        #expect(wrongKey.status == 403)
        #expect(wrongKey.json == ["error_code": "ACTION_NOT_AUTHORIZED", "detailed_error_code": "40004", "detailed_error_description": "Credentials not recognized to create access token."])
        let wrongApp = try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest(appId: "other"))
        #expect(wrongApp.json["detailed_error_code"] == "40004")
        for seconds in [10, 604_801] {
            let bad = try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest(extra: ["seconds_to_expire": .int(seconds)]))
            #expect(bad.status == 400)
            #expect(bad.json["error_code"] == "INVALID_REQUEST_DATA")
            #expect(bad.json["detailed_error_code"] == "40213")
        }
        let missing = try await sim.call("POST", "/ucp/accesstoken", ["app_id": "test-app"])
        #expect(missing.json["error_code"] == "MANDATORY_DATA_MISSING")
    }

    @Test func expiredAndUnknownTokensAreNotAuthenticated() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        let issued = try await sim.call("POST", "/ucp/accesstoken", sim.tokenRequest(extra: ["seconds_to_expire": 60]))
        let headers = ["Authorization": "Bearer \(issued.json["token"]?.stringValue ?? "")"]
        #expect(try await sim.call("GET", "/ucp/transactions", headers: headers).status == 200)
        _ = try await sim.call("POST", "/admin/clock", ["advance_seconds": 61])
        let expired = try await sim.call("GET", "/ucp/transactions", headers: headers)
        #expect(expired.status == 401)
        #expect(expired.json == ["error_code": "NOT_AUTHENTICATED", "detailed_error_code": "40001", "detailed_error_description": "Invalid access token"])
        #expect(try await sim.call("GET", "/ucp/transactions", headers: ["Authorization": "Bearer nope"]).status == 401)
        #expect(try await sim.call("GET", "/ucp/transactions").status == 401)
    }

    @Test func retailNeedsItsBearerToken() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        let denied = try await sim.call("GET", "/api/customers", headers: ["Authorization": "Bearer wrong"])
        #expect(denied.status == 401)
        #expect(denied.json == ["message": "Unauthorized"])
        #expect(try await sim.call("GET", "/api/customers", headers: sim.retail).status == 200)
        // GP-API tokens are not Retail tokens.
        #expect(try await sim.call("GET", "/api/customers", headers: try await sim.gpAuth()).status == 401)
    }

    @Test func stateSurvivesRestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hl-\(UUID().uuidString).sqlite").path
        let first = try await HeartlandUnderTest.start { $0.server.databasePath = path }
        try await first.loadDay(stores: 1, tickets: 20)
        let headers = try await first.gpAuth()
        let before = try await first.call("GET", "/ucp/transactions?page_size=1", headers: headers).json["total_record_count"]
        await first.stop()
        let second = try await HeartlandUnderTest.start { $0.server.databasePath = path }
        defer { Task { await second.stop() } }
        let after = try await second.call("GET", "/ucp/transactions?page_size=1", headers: headers)
        #expect(after.status == 200)
        #expect(after.json["total_record_count"] == before)
    }
}
