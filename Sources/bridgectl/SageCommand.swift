import ArgumentParser
import Foundation
import Logging
import SageConnector

struct SageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sage", abstract: "Read what Sage holds (Web API; SAGE_URL, SAGE_COMPANY, SAGE_USER, SAGE_PASSWORD[_FILE]).",
        subcommands: [Journals.self])

    struct Journals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The bridge's journal entries as Sage holds them: lines, debits, credits, balance.")

        @Option(help: "Only entries whose reference starts with this.") var referencePrefix = "HL-"
        @Option(help: "Only entries posted on this date, YYYY-MM-DD.") var date: String?
        @Flag(help: "One line per entry instead of every line.") var summary = false
        @Flag(help: "Print JSON: an array of entries, amounts in cents (with --summary, without their lines).") var json = false

        func run() async throws {
            let settings: SageSettings
            do { settings = try SageSettings() } catch { throw ValidationError(error.description) }
            guard case .webAPI(let connection) = settings else {
                throw ValidationError("bridgectl sage reads through the Web API: set SAGE_MODE=http and SAGE_URL")
            }
            var logger = Logger(label: "bridgectl")
            logger.logLevel = .error
            let wanted = try date.map { text -> SageDate in
                guard let parsed = SageDate(iso: text) else { throw ValidationError("--date must be YYYY-MM-DD, not '\(text)'") }
                return parsed
            }
            let journals = try await SageWebAPIClient(connection: connection, logger: logger).journals(referencePrefix: referencePrefix)
            var entries: [(batch: SageBatchNumber, entry: SagePostedEntry)] = []
            for journal in journals {
                for entry in journal.entries where entry.reference.hasPrefix(referencePrefix) && (wanted == nil || entry.postingDate == wanted) {
                    entries.append((journal.batchNumber, entry))
                }
            }
            if json {
                print(try Output.json(entries.map { JournalEntryJSON(batch: $0.batch, entry: $0.entry, withLines: !summary) }))
                return
            }
            guard !entries.isEmpty else {
                print("Sage holds no entries with a reference starting \(referencePrefix)\(date.map { " posted on \($0)" } ?? "")")
                return
            }
            for (batch, entry) in entries {
                let balanced = entry.debits == entry.credits ? "balanced" : "OUT OF BALANCE by \(Self.amount(abs(entry.debits - entry.credits)))"
                let date = entry.postingDate?.description ?? "?"
                if summary {
                    print("\(entry.reference)  batch \(batch) entry \(entry.entryNumber)  \(date)  debits \(Self.amount(entry.debits))  credits \(Self.amount(entry.credits))  \(balanced)")
                    continue
                }
                print("Sage batch \(batch), entry \(entry.entryNumber): \(entry.reference), posted \(date)"
                      + (entry.fiscalYear.map { " (fiscal \($0)-\(entry.fiscalPeriod ?? "?"))" } ?? ""))
                print("  \(entry.description)")
                print("  " + Self.pad("account", 8) + Self.pad("description", 40) + Self.lpad("debit", 14) + Self.lpad("credit", 14))
                for line in entry.lines {
                    let debit = line.amountCents > 0 ? Self.amount(line.amountCents) : ""
                    let credit = line.amountCents < 0 ? Self.amount(-line.amountCents) : ""
                    print("  " + Self.pad(line.account, 8) + Self.pad(String(line.description.prefix(38)), 40) + Self.lpad(debit, 14) + Self.lpad(credit, 14))
                }
                print("  " + Self.pad("", 8) + Self.pad("totals", 40) + Self.lpad(Self.amount(entry.debits), 14) + Self.lpad(Self.amount(entry.credits), 14)
                      + "  " + balanced)
                print("")
            }
            print("\(entries.count) entr\(entries.count == 1 ? "y" : "ies") in Sage")
        }

        /// `1,234.56` from cents.
        static func amount(_ cents: Int64) -> String {
            let whole = String(cents / 100)
            var grouped = ""
            for (index, character) in whole.reversed().enumerated() {
                if index > 0 && index % 3 == 0 { grouped.append(",") }
                grouped.append(character)
            }
            let fraction = cents % 100
            return String(grouped.reversed()) + "." + (fraction < 10 ? "0" : "") + String(fraction)
        }

        static func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        static func lpad(_ text: String, _ width: Int) -> String { text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text }
    }
}

/// One entry of `bridgectl sage journals --json`. Money stays in cents (`Int64`), as everywhere in the bridge.
struct JournalEntryJSON: Encodable {
    struct Line: Encodable {
        var account: String
        var description: String
        var comment: String
        /// Debit positive, credit negative; `debitCents` and `creditCents` split it for readers that want columns.
        var amountCents: Int64
        var debitCents: Int64
        var creditCents: Int64
    }

    var batch: String
    var entryNumber: Int
    var reference: String
    var postingDate: String?
    var description: String
    var sourceLedger: String
    var sourceType: String
    var fiscalYear: String?
    var fiscalPeriod: String?
    var debitsCents: Int64
    var creditsCents: Int64
    var balanced: Bool
    var lines: [Line]?

    init(batch: SageBatchNumber, entry: SagePostedEntry, withLines: Bool) {
        self.batch = batch.rawValue
        entryNumber = entry.entryNumber
        reference = entry.reference
        postingDate = entry.postingDate?.iso
        description = entry.description
        sourceLedger = entry.sourceLedger
        sourceType = entry.sourceType
        fiscalYear = entry.fiscalYear
        fiscalPeriod = entry.fiscalPeriod
        debitsCents = entry.debits
        creditsCents = entry.credits
        balanced = entry.debits == entry.credits
        lines = withLines ? entry.lines.map {
            Line(account: $0.account, description: $0.description, comment: $0.comment, amountCents: $0.amountCents,
                 debitCents: max($0.amountCents, 0), creditCents: max(-$0.amountCents, 0))
        } : nil
    }
}
