import Foundation
import HeartlandIngest
import Testing

/// heartland-ingest's configuration from the environment: what is required, secrets from files, bad values named.
@Suite struct HeartlandSettingsTests {
    let base = ["HEARTLAND_URL": "http://127.0.0.1:9000", "HEARTLAND_APP_ID": "app", "HEARTLAND_APP_KEY": "key", "HEARTLAND_RETAIL_TOKEN": "tok"]

    @Test func oneRootServesAllThreeAPIs() throws {
        let settings = try HeartlandSettings(environment: base)
        #expect(settings.configuration.gpAPIBaseURL.absoluteString == "http://127.0.0.1:9000/ucp")
        #expect(settings.configuration.retailBaseURL.absoluteString == "http://127.0.0.1:9000/api")
        #expect(settings.configuration.payrollBaseURL.absoluteString == "http://127.0.0.1:9000/payroll")
        #expect(settings.webhookSecret == nil, "the webhook secret never defaults to the app key")
        #expect(settings.configuration.retailPageSize == 2000)
    }

    /// The webhook secret is its own: heartland-ingest cannot start without it, and the app key is refused as one.
    @Test func theWebhookSecretIsRequiredAndIsNotTheAppKey() throws {
        let without = try HeartlandSettings(environment: base)
        #expect(throws: HeartlandSettings.Invalid.self) { try without.requireWebhookSecret() }
        do {
            _ = try without.requireWebhookSecret()
        } catch {
            #expect(error.description.contains("HEARTLAND_WEBHOOK_SECRET") && error.description.contains("never defaults to the app key"))
        }
        var environment = base
        environment["HEARTLAND_WEBHOOK_SECRET"] = "hook-secret"
        #expect(try HeartlandSettings(environment: environment).requireWebhookSecret() == "hook-secret")
        environment["HEARTLAND_WEBHOOK_SECRET"] = "key"
        #expect(throws: HeartlandSettings.Invalid.self) { try HeartlandSettings(environment: environment) }
    }

    /// Reads are asked again twice unless told; 0 asks once; out of range is named.
    @Test func readRetriesComeFromTheEnvironment() throws {
        #expect(try HeartlandSettings(environment: base).configuration.readRetries == 2)
        var environment = base
        environment["HEARTLAND_READ_RETRIES"] = "0"
        #expect(try HeartlandSettings(environment: environment).configuration.readRetries == 0)
        environment["HEARTLAND_READ_RETRIES"] = "11"
        let error = #expect(throws: HeartlandSettings.Invalid.self) { try HeartlandSettings(environment: environment) }
        #expect(error?.description.contains("HEARTLAND_READ_RETRIES") == true)
    }

    @Test func secretsComeFromFiles() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("app-key-\(UUID().uuidString)")
        try "from-file\n".write(to: file, atomically: true, encoding: .utf8)
        var environment = base
        environment["HEARTLAND_APP_KEY"] = nil
        environment["HEARTLAND_APP_KEY_FILE"] = file.path
        #expect(try HeartlandSettings(environment: environment).configuration.credentials.appKey == "from-file")
    }

    @Test func missingAndBadValuesAreNamed() {
        var missing = base
        missing["HEARTLAND_APP_ID"] = nil
        #expect(throws: HeartlandSettings.Invalid.self) { try HeartlandSettings(environment: missing) }
        do {
            _ = try HeartlandSettings(environment: missing)
        } catch {
            #expect(error.description.contains("HEARTLAND_APP_ID"))
        }
        var badURL = base
        badURL["HEARTLAND_URL"] = "ftp://x"
        #expect(throws: HeartlandSettings.Invalid.self) { try HeartlandSettings(environment: badURL) }
        var badPage = base
        badPage["HEARTLAND_RETAIL_PAGE_SIZE"] = "9000"
        #expect(throws: HeartlandSettings.Invalid.self) { try HeartlandSettings(environment: badPage) }
    }
}
