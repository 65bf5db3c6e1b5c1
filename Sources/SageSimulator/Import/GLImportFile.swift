import Foundation
import SimulatorKit

/// Reads a GL import file into the body of a `GL/GLJournalBatches` create.
///
/// - `*.json`: exactly that body (`{"Description": ..., "JournalHeaders": [...]}`).
/// - `*.csv`: a header row `entry,posting_date,source_type,document_number,entry_description,account,debit,credit,reference,line_description`
///   then one row per line; rows with the same `entry` form one journal entry; `debit`/`credit` are
///   positive dollar amounts (one of them empty or 0); dates `YYYY-MM-DD`.
public enum GLImportFile {
    public static let csvColumns = [
        "entry", "posting_date", "source_type", "document_number", "entry_description", "account", "debit", "credit",
        "reference", "line_description",
    ]

    public static func batchBody(fileName: String, data: Data) throws -> JSONValue {
        if fileName.lowercased().hasSuffix(".json") {
            do { return try JSONValue.parse(data) } catch { throw SageError.fieldInvalid("File is not valid JSON.") }
        }
        return try csvBody(fileName: fileName, text: String(decoding: data, as: UTF8.self))
    }

    static func csvBody(fileName: String, text: String) throws -> JSONValue {
        let rows = CSV.parse(text).filter { !($0.count == 1 && $0[0].isEmpty) }
        guard let header = rows.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }), header == csvColumns else {
            throw SageError.fieldInvalid("First row must be the header: \(csvColumns.joined(separator: ",")).")
        }
        var entries: [(id: String, header: [String: JSONValue], lines: [JSONValue])] = []
        for (offset, row) in rows.dropFirst().enumerated() {
            let line = offset + 2
            guard row.count == csvColumns.count else {
                throw SageError.fieldInvalid("Line \(line): expected \(csvColumns.count) columns, found \(row.count).")
            }
            let field = Dictionary(uniqueKeysWithValues: zip(csvColumns, row.map { $0.trimmingCharacters(in: .whitespaces) }))
            let debit = try amount(field["debit"]!, line: line)
            let credit = try amount(field["credit"]!, line: line)
            guard (debit == 0) != (credit == 0) else {
                throw SageError.fieldInvalid("Line \(line): exactly one of debit and credit must be non-zero.")
            }
            let detail: JSONValue = [
                "AccountNumber": .string(field["account"]!), "Amount": Money.dollars(debit - credit),
                "Reference": .string(field["reference"]!), "Description": .string(field["line_description"]!),
            ]
            if let last = entries.last, last.id == field["entry"]! {
                entries[entries.count - 1].lines.append(detail)
            } else {
                entries.append((field["entry"]!, [
                    "PostingDate": .string(field["posting_date"]!), "SourceLedger": "GL",
                    "SourceType": .string(field["source_type"]!.isEmpty ? "JE" : field["source_type"]!),
                    "DocumentNumber": .string(field["document_number"]!), "Description": .string(field["entry_description"]!),
                ], [detail]))
            }
        }
        guard !entries.isEmpty else { throw SageError.fieldInvalid("File has no lines.") }
        return [
            "Description": .string("Import \(fileName)"), "SourceLedger": "GL",
            "JournalHeaders": .array(entries.map { .object($0.header.merging(["JournalDetails": .array($0.lines)]) { a, _ in a }) }),
        ]
    }

    static func amount(_ text: String, line: Int) throws -> Int64 {
        if text.isEmpty { return 0 }
        guard let cents = Money.cents(fromDollars: .string(text)), cents >= 0 else {
            throw SageError.fieldInvalid("Line \(line): '\(text)' is not a positive amount with at most two decimals.")
        }
        return cents
    }
}

/// RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { field.append(c) }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n": row.append(field); rows.append(row); row = []; field = ""
            case "\r": break
            default: field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
