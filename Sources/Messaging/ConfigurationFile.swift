import Foundation

/// A configuration file a worker reads at start (the mapping, the fraud rules and model, the store hours): what cannot be
/// read is said in words a person can act on, with the file named, not as Foundation's `NSCocoaErrorDomain Code=260`.
public enum ConfigurationFile {
    public struct Unreadable: Error, CustomStringConvertible {
        public let what: String
        public let path: String
        public let reason: String
        public var description: String { "the \(what) file \(path) cannot be read: \(reason)" }
    }

    /// The file's text; `what` names it in the error (`mapping`, `rules`, `model`, `store hours`).
    public static func text(_ path: String, what: String) throws(Unreadable) -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw Unreadable(what: what, path: path, reason: "no such file (relative paths start at \(FileManager.default.currentDirectoryPath))")
        }
        guard !isFolder.boolValue else { throw Unreadable(what: what, path: path, reason: "it is a folder") }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Unreadable(what: what, path: path, reason: "not readable UTF-8 text or no permission (\(error.localizedDescription))")
        }
    }
}
