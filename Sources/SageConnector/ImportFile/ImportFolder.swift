import Foundation
import StableHash

/// The layout of Sage's GL import folder: files dropped at the top, moved by the importer to
/// `processed/` (plus `<name>.result.json` with the batch number) or `rejected/` (plus
/// `<name>.reason.txt`); a name already taken there gets a `<millis>-` prefix.
struct ImportFolder: Sendable {
    let directory: URL

    var processed: URL { directory.appendingPathComponent("processed") }
    var rejected: URL { directory.appendingPathComponent("rejected") }

    func dropFile(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func isPending(_ name: String) -> Bool { FileManager.default.fileExists(atPath: dropFile(name).path) }

    /// `GL-<reference>.json`; characters unsafe in a file name become `_`, and then a hash of the
    /// exact reference is added so two references never share a file.
    static func fileName(reference: String) -> String {
        let safe = String(reference.unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return (scalar.isASCII && (c.isLetter || c.isNumber)) || c == "-" || c == "_" ? c : "_"
        })
        let exact = safe == reference && !safe.isEmpty
        return "GL-\(safe.prefix(100))\(exact ? "" : "-" + FNV1a.hex(reference)).json"
    }

    /// Reason files in `rejected/` for this drop name (the first rejection and any later, prefixed ones).
    func rejectionReasons(for name: String) -> Set<String> {
        let suffix = "\(name).reason.txt"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: rejected.path)) ?? []
        return Set(names.filter { file in
            guard file.hasSuffix(suffix) else { return false }
            let prefix = file.dropLast(suffix.count)
            return prefix.isEmpty || (prefix.last == "-" && prefix.dropLast().allSatisfy(\.isNumber))
        })
    }

    func read(_ rejectedName: String) -> String? {
        try? String(contentsOf: rejected.appendingPathComponent(rejectedName), encoding: .utf8)
    }

    /// The journal imported from `name`, once the importer has written its result. `awaiting`: the caller wrote the file
    /// and polls for its outcome, so a result file that does not parse yet is one the importer is still writing (Sage's
    /// importer, like the simulator's, need not write it atomically): nil, poll again. Otherwise it is malformed.
    func processedJournal(_ name: String, awaiting: Bool = false) throws(SageError) -> SagePostedJournal? {
        try journal(resultFile: processed.appendingPathComponent("\(name).result.json"), incompleteIsPending: awaiting)
    }

    /// The journal whose result file reports this batch number.
    func processedJournal(batchNumber: SageBatchNumber) throws(SageError) -> SagePostedJournal? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: processed.path)) ?? []
        for name in names where name.hasSuffix(".result.json") {
            let url = processed.appendingPathComponent(name)
            guard let result = try? JSONDecoder().decode(ImportResult.self, from: Data(contentsOf: url)),
                result.BatchNumber == batchNumber.rawValue
            else { continue }
            return try journal(resultFile: url)
        }
        return nil
    }

    private struct ImportResult: Decodable {
        var BatchNumber: String
    }

    private func journal(resultFile: URL, incompleteIsPending: Bool = false) throws(SageError) -> SagePostedJournal? {
        let dataFile = URL(fileURLWithPath: String(resultFile.path.dropLast(".result.json".count)))
        guard let resultData = try? Data(contentsOf: resultFile) else {
            // The importer moves the file into `processed/` before it writes the result: imported, outcome not known yet.
            // Said as pending, so that nobody drops the file again (the importer would import it a second time).
            if !incompleteIsPending, FileManager.default.fileExists(atPath: dataFile.path) {
                throw .unavailable(.importPending(file: dataFile.lastPathComponent))
            }
            return nil
        }
        let result: ImportResult
        do {
            result = try JSONDecoder().decode(ImportResult.self, from: resultData)
        } catch {
            if incompleteIsPending { return nil }  // still being written: read again at the next poll
            throw .unavailable(.malformedResponse("import result \(resultFile.lastPathComponent): \(error)"))
        }
        do {
            let body = try JSONDecoder().decode(GLJournalBatchWire.self, from: Data(contentsOf: dataFile))
            return try body.posted(batchNumber: SageBatchNumber(result.BatchNumber))
        } catch let error as SageError {
            throw error
        } catch {
            throw .unavailable(.malformedResponse("import result \(resultFile.lastPathComponent): \(error)"))
        }
    }
}
